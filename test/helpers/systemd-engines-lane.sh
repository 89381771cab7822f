#!/bin/bash
# podman (cgroup_manager = "systemd") and containerd's runc shim with
# SystemdCgroup (ctr --runc-systemd-cgroup) driving OCITS, inside
# `cgv2-vm --systemd`; prints "name: value" lines for systemd-cgroup.test.ts.
# Everything lives under WORK, in the VM's tmpfs /tmp, and goes with the VM.
# Usage: systemd-engines-lane.sh OCITS ENGINES_DIR
set -u
OCITS=$1 ENGINES=$2
WORK=$(mktemp -d /tmp/ocits-engines.XXXXXX)
show() { echo "$1: $2"; }
"$ENGINES/make-bb-image.sh" "$WORK/image" >/dev/null

# ---- podman, systemd cgroup manager (its default on systemd hosts) ----
cat >"$WORK/containers.conf" <<CONF
[containers]
netns = "none"
log_driver = "k8s-file"
[engine]
cgroup_manager = "systemd"
events_logger = "file"
events_logfile_path = "$WORK/events.log"
runtime_supports_json = ["ocits"]
[engine.runtimes]
ocits = ["$OCITS"]
CONF
printf '[storage]\ndriver = "overlay"\ngraphroot = "%s"\nrunroot = "%s"\n' "$WORK/root" "$WORK/runroot" >"$WORK/storage.conf"
export CONTAINERS_CONF=$WORK/containers.conf CONTAINERS_STORAGE_CONF=$WORK/storage.conf
pm() { podman --runtime ocits "$@"; }
pm import "$WORK/image/bb-rootfs.tar" localhost/bb:latest >/dev/null 2>&1
show podman.run "$(pm run --rm bb echo hi 2>&1)"
CID=$(pm run -d --name x --memory 64m bb sleep 1000 2>&1)
show podman.run.d "$(pm inspect -f '{{.State.Status}}' x 2>&1)"
show podman.cgroup "$(pm exec x cat /proc/self/cgroup 2>&1)"
show podman.exec "$(pm exec x echo inner 2>&1)"
show podman.unit.memory "$(systemctl show -p MemoryMax --value "libpod-$CID.scope")"
pm update --memory 32m x >/dev/null 2>&1
show podman.update $?
show podman.updated.unit "$(systemctl show -p MemoryMax --value "libpod-$CID.scope")"
show podman.updated.file "$(pm exec x cat /sys/fs/cgroup/memory.max 2>&1)"
show podman.rm "$(pm rm -f -t 0 x 2>&1)"
show podman.units.left "$(systemctl list-units --all --no-legend --plain "libpod-$CID.scope")"
pm rmi -af >/dev/null 2>&1

# ---- containerd's runc shim with SystemdCgroup = true ----
"$ENGINES/containerd-ctl.sh" start "$WORK/containerd" >/dev/null
C=(ctr -a "$WORK/containerd/containerd.sock")
R=(--runc-binary "$OCITS" --runc-root "$WORK/runc-root" --runc-systemd-cgroup)
"${C[@]}" images import "$WORK/image/bb-oci.tar" >/dev/null 2>&1
show ctr.run "$("${C[@]}" run --rm "${R[@]}" --cgroup system.slice:ctr:t1 localhost/bb:latest t1 echo hi 2>&1)"
"${C[@]}" run -d "${R[@]}" --cgroup system.slice:ctr:d1 --memory-limit 67108864 localhost/bb:latest d1 sleep 1000 >/dev/null 2>&1
show ctr.task "$("${C[@]}" task ls 2>&1 | awk '$1 == "d1" {print $3}')"
show ctr.unit "$(systemctl show -p ActiveState,MemoryMax ctr-d1.scope | sort | tr '\n' ' ')"
show ctr.exec "$("${C[@]}" task exec --exec-id e1 d1 echo inner 2>&1)"
"${C[@]}" task kill -s SIGKILL d1 >/dev/null 2>&1
while "${C[@]}" task ls 2>/dev/null | grep -q '^d1 .*RUNNING'; do sleep 0.2; done
show ctr.delete "$("${C[@]}" task delete d1 >/dev/null 2>&1 && "${C[@]}" container delete d1 2>&1 && echo ok)"
show ctr.units.left "$(systemctl list-units --all --no-legend --plain 'ctr-*')"
"$ENGINES/containerd-ctl.sh" stop "$WORK/containerd" >/dev/null
rm -rf "$WORK"
