// The container init child, from clone() to execve(). The order follows
// runc's: cgroup first (the parent does it), then namespaces' identity,
// mounts, hooks, the new root, the process's limits and credentials, and
// last the wait on exec.fifo. Everything here is async-signal-safe.
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup.h"
#include "hooks.h"
#include "namespaces.h"
#include "plan.h"
#include "process.h"
#include "rootfs.h"
#include "safe.h"
#include "sysctl.h"

namespace ocits::init {

const char* const kStepNames[kStepCount] = {
    "sync",
    "cgroup",
    "cgroup namespace",
    "hostname",
    "domainname",
    "exec fifo",
    "root propagation",
    "rootfs",
    "mount target",
    "mount",
    "remount",
    "mount propagation",
    "tmpfs copy-up",
    "device",
    "symlink",
    "cwd",
    "createContainer hook",
    "sysctl",
    "masked path",
    "readonly path",
    "pivot root",
    "readonly root",
    "console",
    "personality",
    "scheduler",
    "io priority",
    "rlimit",
    "no new privileges",
    "capability bounding set",
    "user",
    "capabilities",
    "seccomp",
    "chdir",
    "find executable",
    "startContainer hook",
    "exec",
    "join namespace",
    "fork",
    "oom score adj",
    "user namespace",
    "unshare namespaces",
    "time offsets",
    "become root in the user namespace",
    "security label",
};

namespace {

char hook_detail[sizeof(Message::detail)];

// After `start`, failures can only be told through exec.fifo: `start` reads
// "0" and then, if anything went wrong, this message.
[[noreturn]] void FailThroughFifo(int fifo, Step step, int index, int error, const char* detail) {
  Message message;
  MakeFailure(message, step, index, error, detail);
  OCITS_RETRY(write(fifo, &message, sizeof message));
  _exit(127);
}

// The createContainer and startContainer states, each ending in a NUL (JSON
// text never holds a raw one). They come in as many messages as their size
// needs: with large annotations they exceed what one message may carry.
void ReceiveStateDocuments(int socket, char* buffer, size_t capacity) {
  size_t used = 0;
  int documents = 0;
  while (documents < 2) {
    if (used == capacity) Fail(socket, kStepSync, -1, EMSGSIZE);
    long received = OCITS_RETRY(recv(socket, buffer + used, capacity - used, MSG_TRUNC));
    if (received <= 0) _exit(1);
    if ((size_t)received > capacity - used) Fail(socket, kStepSync, -1, EMSGSIZE);
    for (long i = 0; i < received; ++i) documents += buffer[used + i] == '\0';
    used += (size_t)received;
  }
}

}  // namespace

void RunContainerInit(const Plan& plan) {
  int socket = plan.sync_socket;
  ResetSignals();
  // Until execve the container must not be able to open our /proc entries.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  // Into the container's cgroup before anything else, so nothing escapes its limits.
  JoinCgroup(plan.cgroup, socket);
  // Every fd of Node's goes now: no host fd may reach the container, and an
  // inherited lock fd (the state store's flock) would outlive `create`.
  // The namespaces to join are fds too, closed once joined (at most one
  // per namespace type), and so are the idmapped mounts' user namespaces.
  // Only the fds create was asked to pass stay besides (3 and up, below
  // every fd of ours).
  int kept[2 + 8] = {socket, plan.process.console_socket};
  size_t kept_count = 2;
  for (size_t i = 0; i < plan.namespaces.join_count && kept_count < sizeof kept / sizeof kept[0]; ++i) {
    kept[kept_count++] = plan.namespaces.joins[i].fd;
  }
  CloseFdsFrom(3 + plan.passed_fds, kept, kept_count, plan.mount_userns, plan.mount_userns_count);
  // Device nodes and directories get exactly the modes the plan asks for.
  umask(0);
  // A host path, unreachable once we are in the rootfs, and maybe for the
  // root of a user namespace too (a state directory of mode 0700): opened
  // now, like runc's parent does, and reopened for writing through the fd.
  int fifo_path = OCITS_RETRY(open(plan.exec_fifo, O_PATH | O_CLOEXEC));
  if (fifo_path < 0) Fail(socket, kStepExecFifo, -1, errno, plan.exec_fifo);
  // After the cgroup: once in a user namespace we may no longer write there.
  EnterNamespaces(plan);

  // The parent has put us in our cgroup and sends the hooks' state documents.
  ReceiveStateDocuments(socket, plan.state_buffer, plan.state_buffer_size);
  const char* create_state = plan.state_buffer;
  const char* start_state = create_state + Length(create_state) + 1;

  if (plan.unshare_cgroup && unshare(CLONE_NEWCGROUP) != 0) Fail(socket, kStepCgroupNamespace, -1, errno);
  if (plan.hostname != nullptr && sethostname(plan.hostname, Length(plan.hostname)) != 0) {
    Fail(socket, kStepHostname, -1, errno);
  }
  if (plan.domainname != nullptr && setdomainname(plan.domainname, Length(plan.domainname)) != 0) {
    Fail(socket, kStepDomainname, -1, errno);
  }

  // Opened now so reopening the fifo later needs no /proc inside; by the
  // init itself, which may be a child of the process that began.
  int own_fds = OCITS_RETRY(open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (own_fds < 0) Fail(socket, kStepExecFifo, -1, errno, "/proc/self/fd");

  int root = PrepareRootfs(plan);
  MountAll(plan, root);
  CreateDevices(plan, root);
  CreateSymlinks(plan, root);
  RemountDev(plan, root);
  CreateCwd(plan, root);

  Send(socket, kMessageMounted);
  AwaitContinue(socket);  // the parent ran prestart and createRuntime hooks

  // From the rootfs, not yet the root, as runc runs them: hooks written for
  // runc name files in the rootfs relative to it (./lib/...).
  if (plan.create_container_count > 0 && fchdir(root) != 0) Fail(socket, kStepCreateContainerHook, -1, errno, "chdir to the rootfs");
  int hook_error;
  int failed = RunContainerHooks(plan.create_container_hooks, plan.create_container_count, create_state,
                                 hook_detail, sizeof hook_detail, &hook_error);
  if (failed >= 0) Fail(socket, kStepCreateContainerHook, failed, hook_error, hook_detail);

  // Before the read-only paths, which usually include /proc/sys, as in runc.
  WriteSysctls(plan, root);
  // runc's order, which shows in mountinfo.
  MakeReadonlyPaths(plan, root);
  MaskPaths(plan, root);
  close(root);
  EnterRootfs(plan);
  RemountRootReadonly(plan);
  // Until ready, the init dies with its parent.
  const char* program = PrepareProcess(plan.process, socket, true);

  // From here the container outlives `create`.
  prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  Send(socket, kMessageReady);
  close(socket);

  // Blocks until `start` opens the other end.
  char fd_name[16];
  Text(fd_name, sizeof fd_name).AddNumber(fifo_path);
  int fifo = OCITS_RETRY(openat(own_fds, fd_name, O_WRONLY | O_CLOEXEC));
  if (fifo < 0) _exit(127);
  close(own_fds);
  close(fifo_path);
  if (OCITS_RETRY(write(fifo, "0", 1)) != 1) _exit(127);

  failed = RunContainerHooks(plan.start_container_hooks, plan.start_container_count, start_state, hook_detail,
                             sizeof hook_detail, &hook_error);
  if (failed >= 0) FailThroughFifo(fifo, kStepStartContainerHook, failed, hook_error, hook_detail);

  MakeStdioPlain();
  PassFds(plan.passed_fds);
  execve(program, plan.process.argv, plan.process.envp);
  FailThroughFifo(fifo, kStepExec, -1, errno, program);
}

}  // namespace ocits::init
