// A container command that waits for the test to create /go in its rootfs
// (so an events watcher can start first), then runs out of memory: awk
// doubles a string, each step a larger allocation, until the cgroup's
// memory limit OOM-kills it. Linear in the limit even under emulation,
// unlike growing a shell variable, whose reallocations copy quadratically.
export const OOM_AFTER_GO = ['sh', '-c', 'while [ ! -e /go ]; do sleep 0.05; done; /bin/busybox awk \'BEGIN { s = "x"; while (1) s = s s }\''];
