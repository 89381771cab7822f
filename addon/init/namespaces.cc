// Entering the container's namespaces in runc's order (nsexec.c). First,
// still in the runtime's namespaces, the idmapped binds' sources are cloned
// and mapped. Then the namespaces given by path are joined, the user
// namespace first since it decides who may join or own what comes after (a
// mount namespace among them: the rootfs is then built inside it, paths
// resolved there, as runc does); then a new user namespace, whose id maps
// the parent writes while we wait; root in it; then the other new
// namespaces, owned by that user namespace. Async-signal-safe, like the rest
// of the init.
#include "namespaces.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "safe.h"

namespace ocits::init {

namespace {

// Each idmapped bind's source, cloned (open_tree, recursively for rbind)
// and given its mapping (mount_setattr MOUNT_ATTR_IDMAP; on every mount for
// ridmap) while we are still root in the runtime's user and mount
// namespaces: idmapping needs CAP_SYS_ADMIN over the source's filesystem,
// which the root of the container's user namespace lacks, and the sources
// are host paths, like runc's. The tree then takes the fd number of the
// user namespace it was mapped with, which is done with and which the plan
// (read-only) and the fds kept open already name; MountAll moves it into place.
void CloneIdmappedSources(const Plan& plan, int socket) {
  for (size_t i = 0; i < plan.mount_count; ++i) {
    const MountStep& step = plan.mounts[i];
    if (step.userns < 0) continue;
    unsigned int clone_flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | ((step.flags & MS_REC) != 0 ? AT_RECURSIVE : 0);
    int tree = (int)syscall(SYS_open_tree, AT_FDCWD, step.source, clone_flags);
    if (tree < 0) Fail(socket, kStepMount, (int)i, errno, "open_tree");
    struct mount_attr attr = {};
    attr.attr_set = MOUNT_ATTR_IDMAP;
    attr.userns_fd = (uint64_t)step.userns;
    unsigned int at_flags = AT_EMPTY_PATH | (step.idmap_recursive ? AT_RECURSIVE : 0);
    // EINVAL: the source's filesystem cannot be idmapped.
    if (syscall(SYS_mount_setattr, tree, "", at_flags, &attr, sizeof attr) != 0) {
      Fail(socket, kStepMount, (int)i, errno, "mount_setattr MOUNT_ATTR_IDMAP");
    }
    if (dup3(tree, step.userns, O_CLOEXEC) < 0) Fail(socket, kStepMount, (int)i, errno, "dup3");
    close(tree);
  }
}

void JoinNamespaces(const NamespaceEntry& entry, int socket) {
  for (size_t i = 0; i < entry.join_count; ++i) {
    const NamespaceJoin& join = entry.joins[i];
    if (setns(join.fd, join.type) != 0) Fail(socket, kStepJoinNamespace, (int)i, errno, join.path);
    close(join.fd);
  }
}

void CreateUserNamespace(int socket) {
  if (unshare(CLONE_NEWUSER) != 0) Fail(socket, kStepUserNamespace, -1, errno, "unshare");
  // The parent writes /proc/<us>/uid_map. The /proc files of a process that
  // is not dumpable belong to root, which a rootless parent is not; so, as
  // runc does, be dumpable just while it writes (we hold no host fd).
  prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
  Send(socket, kMessageMapIds);
  AwaitContinue(socket);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

// Mounts and files made from here on belong to the container's root, not to
// whatever our host ids show as inside (the overflow id). The raw syscalls
// change only this thread's credentials, which is all there is in the child.
void BecomeRoot(int socket) {
  if (syscall(SYS_setresgid, 0, 0, 0) != 0) Fail(socket, kStepBecomeRoot, -1, errno, "setresgid");
  if (syscall(SYS_setresuid, 0, 0, 0) != 0) Fail(socket, kStepBecomeRoot, -1, errno, "setresuid");
}

// time_namespaces(7): offsets can be set only until a process lives in the
// namespace, and unshare() puts only our future children there.
// Our /proc files belong to host root while we are not dumpable, and as root
// of a user namespace we are not that: dumpable for the open, as above.
void WriteTimeOffsets(const char* offsets, int socket) {
  prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
  int fd = OCITS_RETRY(open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC));
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  if (fd < 0) Fail(socket, kStepTimeOffsets, -1, errno, "/proc/self/timens_offsets");
  long length = (long)Length(offsets);
  if (OCITS_RETRY(write(fd, offsets, length)) != length) Fail(socket, kStepTimeOffsets, -1, errno, offsets);
  close(fd);
}

// The init proper: a sibling of ours, so that it is the parent's child, which
// reaps and waits for it. Its pid, as the parent sees it, goes to the parent.
void ForkInit(int socket) {
  long pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, nullptr, nullptr, 0);
  if (pid < 0) Fail(socket, kStepFork, -1, errno);
  if (pid > 0) {
    Send(socket, kMessageInitPid, (int)pid);
    _exit(0);
  }
  // Our own, not inherited: the init dies with the parent until it is ready.
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

}  // namespace

void EnterNamespaces(const Plan& plan) {
  const NamespaceEntry& entry = plan.namespaces;
  int socket = plan.sync_socket;
  CloneIdmappedSources(plan, socket);
  JoinNamespaces(entry, socket);
  if (entry.new_user) CreateUserNamespace(socket);
  if (entry.become_root) BecomeRoot(socket);
  if (entry.unshare_flags != 0 && unshare(entry.unshare_flags) != 0) Fail(socket, kStepUnshare, -1, errno);
  if (entry.time_offsets != nullptr) WriteTimeOffsets(entry.time_offsets, socket);
  if (entry.fork_init) ForkInit(socket);
}

}  // namespace ocits::init
