#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <linux/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "copy_up.h"
#include "safe.h"

namespace ocits::init {

namespace {

constexpr size_t kPathCapacity = 4096;
// Scratch space for path prefixes; the child is single-threaded.
char scratch[kPathCapacity];
char parent_scratch[kPathCapacity];
char link_scratch[kPathCapacity];
char rewrite_scratch[kPathCapacity];
char proc_path[32];
// As the kernel's limit on symlinks in one lookup.
constexpr int kMaxLinks = 40;
char source_proc_path[32];

// A bind remount (MS_BIND|MS_REMOUNT|...). In a user namespace the kernel
// refuses one that would clear a flag the mount was locked with (nosuid,
// nodev, noexec, the atime mode) when a more privileged namespace made it;
// like runc, retry with the flags statfs reports kept. Read-only is never
// added: a mount asked to be writable must not silently stay read-only.
int BindRemount(const char* target, unsigned long flags) {
  if (mount(nullptr, target, nullptr, flags, nullptr) == 0) return 0;
  if (errno != EPERM) return -1;
  struct statfs status;
  if (statfs(target, &status) != 0) {
    errno = EPERM;
    return -1;
  }
  unsigned long kept = 0;
  if (status.f_flags & ST_NOSUID) kept |= MS_NOSUID;
  if (status.f_flags & ST_NODEV) kept |= MS_NODEV;
  if (status.f_flags & ST_NOEXEC) kept |= MS_NOEXEC;
  // The atime mode is replaced as a whole, so the mount's own stays unless one is asked for.
  if ((flags & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)) == 0) {
    if (status.f_flags & ST_NOATIME) kept |= MS_NOATIME;
    if (status.f_flags & ST_NODIRATIME) kept |= MS_NODIRATIME;
    if (status.f_flags & ST_RELATIME) kept |= MS_RELATIME;
    if ((status.f_flags & (ST_NOATIME | ST_RELATIME)) == 0) kept |= MS_STRICTATIME;
  }
  if ((flags | kept) == flags) {
    errno = EPERM;
    return -1;
  }
  return mount(nullptr, target, nullptr, flags | kept, nullptr);
}

int CloseKeepingErrno(int fd) {
  int saved = errno;
  close(fd);
  errno = saved;
  return 0;
}

// Splits rel into its parent (in parent_scratch, "" for the root) and
// returns a pointer to the last component (inside parent_scratch).
const char* SplitParent(const char* rel) {
  Text(parent_scratch, sizeof parent_scratch).Add(rel);
  size_t length = Length(parent_scratch);
  while (length > 0 && parent_scratch[length - 1] == '/') parent_scratch[--length] = '\0';
  size_t slash = length;
  while (slash > 0 && parent_scratch[slash - 1] != '/') --slash;
  if (slash == 0) {
    // Shift the name right by one so the parent can be the empty string.
    for (size_t i = length + 1; i > 0; --i) parent_scratch[i] = parent_scratch[i - 1];
    parent_scratch[0] = '\0';
    return parent_scratch + 1;
  }
  parent_scratch[slash - 1] = '\0';
  return parent_scratch + slash;
}

int OpenDirectoryInRoot(int root, const char* rel) {
  if (rel[0] == '\0') return OCITS_RETRY(fcntl(root, F_DUPFD_CLOEXEC, 0));
  return OpenInRoot(root, rel, O_PATH | O_DIRECTORY);
}

// Replaces scratch[0, end) (a symlink at parent_scratch/name whose content
// is in link_scratch) by where the link leads, keeping scratch[end...]: an
// absolute link starts again at the root, as RESOLVE_IN_ROOT reads it.
int FollowDanglingLink(size_t end) {
  Text rewritten(rewrite_scratch, sizeof rewrite_scratch);
  const char* content = link_scratch;
  if (content[0] == '/') {
    while (*content == '/') ++content;
  } else if (parent_scratch[0] != '\0') {
    rewritten.Add(parent_scratch).Add("/");
  }
  rewritten.Add(content).Add(scratch + end);
  if (rewritten.length() >= sizeof rewrite_scratch - 1) return -ENAMETOOLONG;
  const char* start = rewrite_scratch;
  while (*start == '/') ++start;
  Text(scratch, sizeof scratch).Add(start);
  return 0;
}

// mkdir -p inside the rootfs, one component at a time; each parent is opened
// in the root, so a symlink on the way can never lead out of it. A dangling
// symlink on the way is followed as the container would see it, from the
// rootfs as its root, and the directories are made where it leads (runc's
// SecureJoin gives the same path): the host's path of the same name is
// never touched.
int MakeDirectories(int root, const char* rel) {
  Text(scratch, sizeof scratch).Add(rel);
  size_t length = Length(scratch);
  int links = 0;
  for (size_t end = 1; end <= length; ++end) {
    if (end != length && scratch[end] != '/') continue;
    char saved = scratch[end];
    scratch[end] = '\0';
    int fd = OpenInRoot(root, scratch, O_PATH | O_DIRECTORY);
    if (fd >= 0) {
      close(fd);
    } else if (fd == -ENOENT) {
      const char* name = SplitParent(scratch);
      int parent = OpenDirectoryInRoot(root, parent_scratch);
      if (parent < 0) return parent;
      int rc = mkdirat(parent, name, 0755);
      int error = errno;
      long link_length = rc != 0 && error == EEXIST ? readlinkat(parent, name, link_scratch, sizeof link_scratch - 1) : -1;
      close(parent);
      if (link_length > 0) {
        if (++links > kMaxLinks) return -ELOOP;
        link_scratch[link_length] = '\0';
        scratch[end] = saved;
        int followed = FollowDanglingLink(end);
        if (followed < 0) return followed;
        length = Length(scratch);
        end = 0;  // start again from the first component
        continue;
      }
      if (rc != 0 && error != EEXIST) return -error;
    } else {
      return fd;
    }
    scratch[end] = saved;
  }
  return 0;
}

// Opens the directory that holds rel inside the root, making it first when
// make_missing, and copies rel's last component into base (256 bytes).
// Returns the directory's fd or -errno.
int OpenParentInRoot(int root, const char* rel, bool make_missing, char* base) {
  const char* name = SplitParent(rel);
  // SplitParent's result lives in parent_scratch, which MakeDirectories reuses.
  char parent[kPathCapacity];
  Text(parent, sizeof parent).Add(parent_scratch);
  Text(base, 256).Add(name);
  if (make_missing && parent[0] != '\0') {
    int rc = MakeDirectories(root, parent);
    if (rc < 0) return rc;
  }
  return OpenDirectoryInRoot(root, parent);
}

// Makes rel's parent directories, then an empty file at rel if nothing is
// there (a bind mount of a file needs a file to land on). A dangling symlink
// at rel is followed inside the rootfs, as MakeDirectories does.
int MakeFile(int root, const char* rel) {
  char path[kPathCapacity];
  Text(path, sizeof path).Add(rel);
  for (int links = 0; links <= kMaxLinks; ++links) {
    char base[256];
    int parent_fd = OpenParentInRoot(root, path, true, base);
    if (parent_fd < 0) return parent_fd;
    int fd = OCITS_RETRY(openat(parent_fd, base, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644));
    int error = errno;
    if (fd >= 0) {
      close(fd);
      close(parent_fd);
      return 0;
    }
    long link_length = error == EEXIST ? readlinkat(parent_fd, base, link_scratch, sizeof link_scratch - 1) : -1;
    close(parent_fd);
    if (error != EEXIST) return -error;
    if (link_length <= 0) return 0;  // something that is not a symlink is there
    int existing = OpenInRoot(root, path, O_PATH);
    if (existing >= 0) {
      close(existing);
      return 0;  // the link leads to something inside the rootfs
    }
    link_scratch[link_length] = '\0';
    // FollowDanglingLink rewrites scratch[0, end) with parent_scratch as the link's directory.
    SplitParent(path);
    Text(scratch, sizeof scratch).Add(path);
    int followed = FollowDanglingLink(Length(scratch));
    if (followed < 0) return followed;
    Text(path, sizeof path).Add(scratch);
  }
  return -ELOOP;
}

// An idmapped bind: the source tree EnterNamespaces cloned and idmapped
// (now at the fd number step.userns had), moved onto the target (an fd:
// move_mount does not follow /proc/self/fd links).
void MountIdmapped(const MountStep& step, int target, int socket, int index) {
  if (syscall(SYS_move_mount, step.userns, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0) {
    Fail(socket, kStepMount, index, errno, "move_mount");
  }
}

}  // namespace

namespace {

int OpenInRootResolving(int root, const char* rel, int flags, uint64_t resolve) {
  struct open_how how = {};
  how.flags = (uint64_t)(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | resolve;
  long fd = OCITS_RETRY(syscall(SYS_openat2, root, rel, &how, sizeof how));
  return fd < 0 ? -errno : (int)fd;
}

}  // namespace

int OpenInRoot(int root, const char* rel, int flags) { return OpenInRootResolving(root, rel, flags, 0); }

int PrepareRootfs(const Plan& plan) {
  int socket = plan.sync_socket;
  if (plan.root_propagation != 0 && mount(nullptr, "/", nullptr, plan.root_propagation, nullptr) != 0) {
    Fail(socket, kStepRootPropagation, -1, errno);
  }
  // pivot_root refuses a new root whose parent mount is shared.
  if (plan.rootfs_parent_mount != nullptr &&
      mount(nullptr, plan.rootfs_parent_mount, nullptr, MS_PRIVATE, nullptr) != 0) {
    Fail(socket, kStepRootPropagation, -1, errno, plan.rootfs_parent_mount);
  }
  if (mount(plan.rootfs, plan.rootfs, nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    Fail(socket, kStepRootfs, -1, errno, plan.rootfs);
  }
  int root = OCITS_RETRY(open(plan.rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (root < 0) Fail(socket, kStepRootfs, -1, errno, plan.rootfs);
  return root;
}

namespace {

// The host's filesystem in place of a fresh one the kernel refused us, as runc does for sysfs.
void BindFallback(const MountStep& step, int target, int index, int root, int socket) {
  const char* target_path = ProcFdPath(target, proc_path, sizeof proc_path);
  if (mount(step.fallback_source, target_path, nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    Fail(socket, kStepMount, index, errno, step.fallback_source);
  }
  int mounted = OpenInRoot(root, step.target, O_PATH);
  if (mounted < 0) Fail(socket, kStepMountTarget, index, -mounted);
  if (BindRemount(ProcFdPath(mounted, proc_path, sizeof proc_path), step.fallback_remount) != 0) {
    Fail(socket, kStepRemount, index, errno, step.fallback_source);
  }
  close(mounted);
}

}  // namespace

void MountAll(const Plan& plan, int root) {
  int socket = plan.sync_socket;
  for (size_t i = 0; i < plan.mount_count; ++i) {
    const MountStep& step = plan.mounts[i];
    int index = (int)i;
    int rc = 0;
    bool plain = step.ensure == kEnsurePlainDirectory;
    // Refused before anything is made, so a link in the rootfs is not followed even to make its target.
    if (plain && OpenInRootResolving(root, step.target, O_PATH, RESOLVE_NO_SYMLINKS) == -ELOOP) {
      Fail(socket, kStepMountTarget, index, 0, "must be an ordinary directory, not reached through a symlink");
    }
    if (step.ensure == kEnsureDirectory || plain) rc = MakeDirectories(root, step.target);
    if (step.ensure == kEnsureFile) rc = MakeFile(root, step.target);
    if (rc < 0) Fail(socket, kStepMountTarget, index, -rc);
    // For tmpcopyup: the directory as it is before the tmpfs covers it.
    int covered = -1;
    if (step.copy_up) {
      covered = OpenInRoot(root, step.target, O_RDONLY | O_DIRECTORY);
      if (covered < 0) Fail(socket, kStepMountTarget, index, -covered);
    }
    int target = OpenInRootResolving(root, step.target, O_PATH, plain ? RESOLVE_NO_SYMLINKS : 0);
    if (target < 0) Fail(socket, kStepMountTarget, index, -target);
    const char* target_path = ProcFdPath(target, proc_path, sizeof proc_path);
    if (step.userns >= 0) {
      MountIdmapped(step, target, socket, index);
      close(step.userns);
    } else if (mount(step.source, target_path, step.fstype, step.flags, step.data) != 0) {
      if ((errno != EPERM && errno != EBUSY) || step.fallback_source == nullptr) {
        CloseKeepingErrno(target);
        Fail(socket, kStepMount, index, errno);
      }
      BindFallback(step, target, index, root, socket);
    }
    close(target);
    if (step.copy_up) {
      int fresh = OpenInRoot(root, step.target, O_RDONLY | O_DIRECTORY);
      if (fresh < 0) Fail(socket, kStepCopyUp, index, -fresh);
      int rc = CopyTree(covered, fresh);
      if (rc < 0) Fail(socket, kStepCopyUp, index, -rc);
      close(fresh);
      close(covered);
    }
    // The mount now covers the old target: reopen to reach the new mount.
    if (step.remount != 0 || step.propagation != 0 || step.attr_set != 0 || step.attr_clr != 0) {
      target = OpenInRoot(root, step.target, O_PATH);
      if (target < 0) Fail(socket, kStepMountTarget, index, -target);
      target_path = ProcFdPath(target, proc_path, sizeof proc_path);
      if (step.remount != 0 && BindRemount(target_path, step.remount) != 0) {
        CloseKeepingErrno(target);
        Fail(socket, kStepRemount, index, errno);
      }
      if (step.propagation != 0 && mount(nullptr, target_path, nullptr, step.propagation, nullptr) != 0) {
        CloseKeepingErrno(target);
        Fail(socket, kStepPropagation, index, errno);
      }
      // The recursive options (rro, rnosuid ...) on the mount and all below it.
      if (step.attr_set != 0 || step.attr_clr != 0) {
        struct mount_attr attr = {};
        attr.attr_set = step.attr_set;
        attr.attr_clr = step.attr_clr;
        if (syscall(SYS_mount_setattr, target, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0) {
          CloseKeepingErrno(target);
          Fail(socket, kStepRemount, index, errno, "mount_setattr");
        }
      }
      close(target);
    }
  }
}

namespace {

// runc's way in a user namespace: an empty file with the host's node bound onto it.
void BindDevice(const DeviceNode& device, int root, int index, int socket) {
  int rc = MakeFile(root, device.path);
  if (rc < 0) Fail(socket, kStepDevice, index, -rc);
  int target = OpenInRoot(root, device.path, O_PATH | O_NOFOLLOW);
  if (target < 0) Fail(socket, kStepDevice, index, -target);
  const char* target_path = ProcFdPath(target, proc_path, sizeof proc_path);
  if (mount(device.bind_source, target_path, nullptr, MS_BIND, nullptr) != 0) {
    Fail(socket, kStepDevice, index, errno, device.bind_source);
  }
  close(target);
}

}  // namespace

void CreateDevices(const Plan& plan, int root) {
  int socket = plan.sync_socket;
  for (size_t i = 0; i < plan.device_count; ++i) {
    const DeviceNode& device = plan.devices[i];
    if (device.bind_source != nullptr) {
      BindDevice(device, root, (int)i, socket);
      continue;
    }
    char base[256];
    int parent = OpenParentInRoot(root, device.path, true, base);
    if (parent < 0) Fail(socket, kStepDevice, (int)i, -parent);
    if (mknodat(parent, base, device.mode, device.dev) != 0) {
      // A rootfs may ship its own node: replace it with the one asked for.
      if (errno != EEXIST || unlinkat(parent, base, 0) != 0 || mknodat(parent, base, device.mode, device.dev) != 0) {
        CloseKeepingErrno(parent);
        Fail(socket, kStepDevice, (int)i, errno);
      }
    }
    if (fchownat(parent, base, device.uid, device.gid, AT_SYMLINK_NOFOLLOW) != 0) {
      CloseKeepingErrno(parent);
      Fail(socket, kStepDevice, (int)i, errno);
    }
    close(parent);
  }
}

void CreateSymlinks(const Plan& plan, int root) {
  int socket = plan.sync_socket;
  for (size_t i = 0; i < plan.symlink_count; ++i) {
    const Symlink& link = plan.symlinks[i];
    char base[256];
    int parent = OpenParentInRoot(root, link.path, false, base);
    if (parent < 0) Fail(socket, kStepSymlink, (int)i, -parent);
    if (link.replace && unlinkat(parent, base, 0) != 0 && errno != ENOENT) {
      CloseKeepingErrno(parent);
      Fail(socket, kStepSymlink, (int)i, errno);
    }
    if (symlinkat(link.target, parent, base) != 0 && errno != EEXIST) {
      CloseKeepingErrno(parent);
      Fail(socket, kStepSymlink, (int)i, errno);
    }
    close(parent);
  }
}

void CreateCwd(const Plan& plan, int root) {
  const char* cwd = plan.process.cwd;
  while (*cwd == '/') ++cwd;
  if (*cwd == '\0') return;
  int rc = MakeDirectories(root, cwd);
  if (rc < 0) Fail(plan.sync_socket, kStepCwd, -1, -rc, plan.process.cwd);
}

void MaskPaths(const Plan& plan, int root) {
  int socket = plan.sync_socket;
  int null_device = OpenInRoot(root, "dev/null", O_PATH);
  const char* null_source =
      null_device >= 0 ? ProcFdPath(null_device, source_proc_path, sizeof source_proc_path) : "/dev/null";
  for (size_t i = 0; i < plan.masked_count; ++i) {
    int target = OpenInRoot(root, plan.masked_paths[i], O_PATH);
    if (target == -ENOENT) continue;  // nothing there to hide
    if (target < 0) Fail(socket, kStepMaskedPath, (int)i, -target);
    struct stat status;
    if (fstat(target, &status) != 0) Fail(socket, kStepMaskedPath, (int)i, errno);
    const char* target_path = ProcFdPath(target, proc_path, sizeof proc_path);
    // A file is covered by /dev/null, a directory by an empty read-only tmpfs.
    int rc = S_ISDIR(status.st_mode) ? mount("tmpfs", target_path, "tmpfs", MS_RDONLY, nullptr)
                                     : mount(null_source, target_path, nullptr, MS_BIND, nullptr);
    if (rc != 0) Fail(socket, kStepMaskedPath, (int)i, errno);
    close(target);
  }
  if (null_device >= 0) close(null_device);
}

void MakeReadonlyPaths(const Plan& plan, int root) {
  int socket = plan.sync_socket;
  for (size_t i = 0; i < plan.readonly_count; ++i) {
    int target = OpenInRoot(root, plan.readonly_paths[i], O_PATH);
    if (target == -ENOENT) continue;
    if (target < 0) Fail(socket, kStepReadonlyPath, (int)i, -target);
    const char* target_path = ProcFdPath(target, proc_path, sizeof proc_path);
    if (mount(target_path, target_path, nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      Fail(socket, kStepReadonlyPath, (int)i, errno);
    }
    close(target);
    target = OpenInRoot(root, plan.readonly_paths[i], O_PATH);
    if (target < 0) Fail(socket, kStepReadonlyPath, (int)i, -target);
    target_path = ProcFdPath(target, proc_path, sizeof proc_path);
    if (BindRemount(target_path, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC) != 0) {
      Fail(socket, kStepReadonlyPath, (int)i, errno);
    }
    close(target);
  }
}

namespace {

// The proc and sysfs mounts the chroot would leave beneath the container
// (see revealingMounts in src/plan/rootfs.ts). Each is made a slave first so
// the unmount stays in our namespace. One that may not be unmounted (locked,
// from a more privileged namespace) is covered with an empty tmpfs instead,
// as runc does. One already gone with a mount above it is skipped.
void HideMounts(const Plan& plan) {
  int socket = plan.sync_socket;
  for (size_t i = 0; i < plan.hidden_count; ++i) {
    const char* path = plan.hidden_mounts[i];
    if (mount(nullptr, path, nullptr, MS_SLAVE | MS_REC, nullptr) != 0) {
      if (errno == ENOENT || errno == EINVAL) continue;
      Fail(socket, kStepPivotRoot, -1, errno, path);
    }
    if (umount2(path, MNT_DETACH) == 0) continue;
    if (errno != EINVAL && errno != EPERM) Fail(socket, kStepPivotRoot, -1, errno, path);
    if (mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
      Fail(socket, kStepPivotRoot, -1, errno, path);
    }
  }
}

}  // namespace

void EnterRootfs(const Plan& plan) {
  int socket = plan.sync_socket;
  if (chdir(plan.rootfs) != 0) Fail(socket, kStepPivotRoot, -1, errno, plan.rootfs);
  if (plan.root_entry == kChroot) {
    if (chroot(".") != 0) Fail(socket, kStepPivotRoot, -1, errno, "chroot");
  } else if (plan.root_entry == kMoveRoot) {
    HideMounts(plan);
    if (mount(plan.rootfs, "/", nullptr, MS_MOVE, nullptr) != 0) Fail(socket, kStepPivotRoot, -1, errno, "MS_MOVE");
    if (chroot(".") != 0) Fail(socket, kStepPivotRoot, -1, errno, "chroot");
  } else {
    // pivot_root(".", ".") stacks the old root on top of the new one; the old
    // root is then unmounted from under us, as pivot_root(2) describes.
    int old_root = OCITS_RETRY(open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
    if (old_root < 0) Fail(socket, kStepPivotRoot, -1, errno, "open /");
    if (syscall(SYS_pivot_root, ".", ".") != 0) Fail(socket, kStepPivotRoot, -1, errno, "pivot_root");
    if (fchdir(old_root) != 0) Fail(socket, kStepPivotRoot, -1, errno, "fchdir");
    // Keep unmounting the old root from propagating to the host.
    if (mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) != 0) Fail(socket, kStepPivotRoot, -1, errno, "MS_SLAVE");
    if (umount2(".", MNT_DETACH) != 0) Fail(socket, kStepPivotRoot, -1, errno, "umount old root");
    close(old_root);
  }
  if (chdir("/") != 0) Fail(socket, kStepPivotRoot, -1, errno, "chdir /");
}

void RemountDev(const Plan& plan, int root) {
  if (plan.dev_remount == 0) return;
  int dev = OpenInRoot(root, "dev", O_PATH);
  if (dev < 0) Fail(plan.sync_socket, kStepRemount, -1, -dev, "/dev");
  if (BindRemount(ProcFdPath(dev, proc_path, sizeof proc_path), plan.dev_remount) != 0) {
    CloseKeepingErrno(dev);
    Fail(plan.sync_socket, kStepRemount, -1, errno, "/dev");
  }
  close(dev);
}

void RemountRootReadonly(const Plan& plan) {
  if (!plan.readonly_root) return;
  if (BindRemount("/", MS_BIND | MS_REMOUNT | MS_RDONLY) != 0) {
    Fail(plan.sync_socket, kStepReadonlyRoot, -1, errno);
  }
}

}  // namespace ocits::init
