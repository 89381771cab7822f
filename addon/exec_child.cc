// The `exec` child, from clone() to execve(). It joins the container's cgroup
// and namespaces, then forks: setns() into a pid namespace only places the
// children of the caller in it, so the process that runs is a grandchild,
// and this child only reports its pid and exits. Everything here is
// async-signal-safe, as in init/.
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "exec_plan.h"
#include "init/cgroup.h"
#include "init/process.h"
#include "init/safe.h"

namespace ocits::exec {

using init::Fail;

namespace {

void SendPid(int socket, long pid) {
  init::Message message;
  memset(&message, 0, sizeof message);
  message.kind = init::kMessageExecPid;
  message.index = (int32_t)pid;
  if (OCITS_RETRY(send(socket, &message, sizeof message, MSG_NOSIGNAL)) < 0) _exit(1);
}

[[noreturn]] void RunProcess(const ExecPlan& plan) {
  int socket = plan.sync_socket;
  // Its parent exits on purpose, so no parent-death signal: once reparented
  // to a subreaper it would fire when that one exits, after execve too.
  const char* program = init::PrepareProcess(plan.process, socket, false);
  init::MakeStdioPlain();
  // Whatever else is still open is close-on-exec (the sync socket, which
  // tells the parent that execve happened); the preserved fds must not be.
  for (int fd = 3; fd < 3 + plan.preserved_fds; ++fd) fcntl(fd, F_SETFD, 0);
  execve(program, plan.process.argv, plan.process.envp);
  Fail(socket, init::kStepExec, -1, errno, program);
}

}  // namespace

void RunExecChild(const ExecPlan& plan) {
  int socket = plan.sync_socket;
  init::ResetSignals();
  // Until execve the container must not be able to open our /proc entries.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  // Node's fds go first: an inherited flock on the container's state would
  // stay held for as long as we live, and a frozen cgroup can hold us.
  plan.kept_fds[plan.kept_count - 1] = socket;  // our own copy of the memory
  init::CloseFdsExcept(plan.kept_fds, plan.kept_count);

  // The cgroup before the namespaces: in a cgroup namespace the container's
  // cgroup may not be reachable from ours.
  init::JoinCgroup(plan.cgroup, socket);
  // While /proc is still the host's, where /proc/self is us; children inherit it.
  if (plan.oom_score_adj != nullptr) {
    int fd = OCITS_RETRY(open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC));
    long length = (long)init::Length(plan.oom_score_adj);
    if (fd < 0 || OCITS_RETRY(write(fd, plan.oom_score_adj, length)) != length) {
      Fail(socket, init::kStepOomScoreAdj, -1, errno, plan.oom_score_adj);
    }
    close(fd);
  }
  for (size_t i = 0; i < plan.namespace_count; ++i) {
    const NamespaceFd& ns = plan.namespaces[i];
    if (setns(ns.fd, ns.type) != 0) Fail(socket, init::kStepJoinNamespace, (int)i, errno, ns.name);
    close(ns.fd);
  }
  if (plan.root >= 0 && (fchdir(plan.root) != 0 || chroot(".") != 0)) {
    Fail(socket, init::kStepPivotRoot, -1, errno, "chroot to the container's root");
  }

  long pid = syscall(SYS_clone, SIGCHLD, 0, nullptr, nullptr, 0);
  if (pid < 0) Fail(socket, init::kStepFork, -1, errno);
  if (pid == 0) RunProcess(plan);
  SendPid(socket, pid);
  _exit(0);
}

}  // namespace ocits::exec
