// The container init child, from clone() to execve(). The order follows
// runc's: cgroup first (the parent does it), then namespaces' identity,
// mounts, hooks, the new root, the process's limits and credentials, and
// last the wait on exec.fifo. Everything here is async-signal-safe.
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hooks.h"
#include "plan.h"
#include "process.h"
#include "process_attributes.h"
#include "rootfs.h"
#include "safe.h"
#include "seccomp.h"
#include "fd_passing.h"
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
};

namespace {

char hook_detail[sizeof(Message::detail)];

// close_range(2) over the gaps around the two fds we keep (-1: none).
void CloseFdsExcept(int first, int second) {
  int low = first < second ? first : second;
  int high = first < second ? second : first;
  unsigned int from = 3;
  const int kept[2] = {low, high};
  for (int keep : kept) {
    if (keep < (int)from) continue;
    if ((unsigned int)keep > from) syscall(SYS_close_range, from, (unsigned int)keep - 1, 0);
    from = (unsigned int)keep + 1;
  }
  syscall(SYS_close_range, from, ~0U, 0);
}

void Send(int socket, MessageKind kind) {
  Message message;
  memset(&message, 0, sizeof message);
  message.kind = kind;
  if (OCITS_RETRY(send(socket, &message, sizeof message, MSG_NOSIGNAL)) < 0) _exit(1);
}

// Waits for the parent's go-ahead; a closed socket means the parent gave up.
void AwaitContinue(int socket) {
  Message message;
  long count = OCITS_RETRY(recv(socket, &message, sizeof message, 0));
  if (count != (long)sizeof message || message.kind != kMessageContinue) _exit(1);
}

// After `start`, failures can only be told through exec.fifo: `start` reads
// "0" and then, if anything went wrong, this message.
[[noreturn]] void FailThroughFifo(int fifo, Step step, int index, int error, const char* detail) {
  Message message;
  MakeFailure(message, step, index, error, detail);
  OCITS_RETRY(write(fifo, &message, sizeof message));
  _exit(127);
}

// Loads the seccomp filter; a notify fd goes to the parent, which hands it to
// the listener socket before we go on (runc's procSeccomp/procSeccompDone).
void LoadSeccomp(const Plan& plan) {
  int listener = LoadSeccompFilter(plan);
  if (listener < 0) return;
  Message message;
  memset(&message, 0, sizeof message);
  message.kind = kMessageSeccompListener;
  if (SendWithFd(plan.sync_socket, &message, sizeof message, listener) < 0) {
    Fail(plan.sync_socket, kStepSeccomp, -1, errno, "send the notify fd");
  }
  close(listener);
  AwaitContinue(plan.sync_socket);
}

}  // namespace

void RunContainerInit(const Plan& plan) {
  int socket = plan.sync_socket;
  ResetSignals();
  // Until execve the container must not be able to open our /proc entries.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  // Into the container's cgroup before anything else, so nothing escapes its limits.
  for (size_t i = 0; i < plan.cgroup_procs_count; ++i) {
    if (OCITS_RETRY(write(plan.cgroup_procs[i], "0", 1)) != 1) Fail(socket, kStepCgroup, (int)i, errno);
  }
  // Every fd of Node's goes now: no host fd may reach the container, and an
  // inherited lock fd (the state store's flock) would outlive `create`.
  CloseFdsExcept(socket, plan.process.console_socket);
  // Device nodes and directories get exactly the modes the plan asks for.
  umask(0);

  // The parent has put us in our cgroup and sends the hooks' state documents.
  long received = OCITS_RETRY(recv(socket, plan.state_buffer, plan.state_buffer_size, MSG_TRUNC));
  if (received <= 0) _exit(1);
  if ((size_t)received > plan.state_buffer_size) Fail(socket, kStepSync, -1, EMSGSIZE);
  const char* create_state = plan.state_buffer;
  const char* start_state = create_state + Length(create_state) + 1;

  if (plan.unshare_cgroup && unshare(CLONE_NEWCGROUP) != 0) Fail(socket, kStepCgroupNamespace, -1, errno);
  if (plan.hostname != nullptr && sethostname(plan.hostname, Length(plan.hostname)) != 0) {
    Fail(socket, kStepHostname, -1, errno);
  }
  if (plan.domainname != nullptr && setdomainname(plan.domainname, Length(plan.domainname)) != 0) {
    Fail(socket, kStepDomainname, -1, errno);
  }

  // Both are host paths, unreachable once we are in the rootfs. The fd
  // directory is opened now so reopening the fifo later needs no /proc inside.
  int fifo_path = OCITS_RETRY(open(plan.exec_fifo, O_PATH | O_CLOEXEC));
  if (fifo_path < 0) Fail(socket, kStepExecFifo, -1, errno, plan.exec_fifo);
  int own_fds = OCITS_RETRY(open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (own_fds < 0) Fail(socket, kStepExecFifo, -1, errno, "/proc/self/fd");

  int root = PrepareRootfs(plan);
  MountAll(plan, root);
  CreateDevices(plan, root);
  CreateSymlinks(plan, root);
  CreateCwd(plan, root);

  Send(socket, kMessageMounted);
  AwaitContinue(socket);  // the parent ran prestart and createRuntime hooks

  int failed = RunContainerHooks(plan.create_container_hooks, plan.create_container_count, create_state,
                                 hook_detail, sizeof hook_detail);
  if (failed >= 0) Fail(socket, kStepCreateContainerHook, failed, 0, hook_detail);

  // Before the read-only paths, which usually include /proc/sys, as in runc.
  WriteSysctls(plan, root);
  // runc's order, which shows in mountinfo.
  MakeReadonlyPaths(plan, root);
  MaskPaths(plan, root);
  close(root);
  EnterRootfs(plan);
  RemountRootReadonly(plan);
  SetUpConsole(plan);
  // While we still have every capability (CAP_SYS_NICE for a real-time
  // policy or class) and before a seccomp filter could forbid the calls.
  ApplyProcessAttributes(plan);
  ApplyRlimits(plan);
  ApplyNoNewPrivileges(plan);
  // runc's order: without no_new_privs loading a filter needs CAP_SYS_ADMIN,
  // so it goes before the capabilities are dropped; with it, as late as
  // possible, so the fewest of our own syscalls run under the filter. Both
  // are before the wait on exec.fifo, so a notify fd reaches the listener
  // during create.
  if (!plan.process.no_new_privileges) LoadSeccomp(plan);
  SwitchUserAndCapabilities(plan);
  umask(plan.process.umask);
  EnterCwd(plan);
  const char* program = FindExecutable(plan);
  if (plan.process.no_new_privileges) LoadSeccomp(plan);

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
                             sizeof hook_detail);
  if (failed >= 0) FailThroughFifo(fifo, kStepStartContainerHook, failed, 0, hook_detail);

  // Node may have left our stdio non-blocking or close-on-exec; the user
  // process expects plain, blocking stdio.
  for (int fd = 0; fd <= 2; ++fd) {
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0 && (flags & O_NONBLOCK)) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    fcntl(fd, F_SETFD, 0);
  }
  execve(program, plan.process.argv, plan.process.envp);
  FailThroughFifo(fifo, kStepExec, -1, errno, program);
}

}  // namespace ocits::init
