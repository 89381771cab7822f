// The container's filesystem, built inside the child's new mount namespace:
// every path is resolved inside the rootfs (openat2 RESOLVE_IN_ROOT), and
// every mount lands on the resolved fd, never on a path string a container
// could swap for a symlink.
#pragma once
#include "plan.h"

namespace ocits::init {

// Opens rel (relative to the rootfs) without leaving the rootfs. Returns the
// fd or -errno.
int OpenInRoot(int root, const char* rel, int flags);

// Makes /dev read-only (plan.dev_remount) once everything below it exists.
void RemountDev(const Plan& plan, int root);

// Sets propagation and bind-mounts the rootfs onto itself so it can become
// the root; returns an O_PATH fd of it.
int PrepareRootfs(const Plan& plan);
void MountAll(const Plan& plan, int root);
void CreateDevices(const Plan& plan, int root);
void CreateSymlinks(const Plan& plan, int root);
void CreateCwd(const Plan& plan, int root);
void MaskPaths(const Plan& plan, int root);
void MakeReadonlyPaths(const Plan& plan, int root);
// pivot_root (or MS_MOVE and chroot, or chroot alone: plan.root_entry) into the rootfs; leaves the
// cwd at the new /.
void EnterRootfs(const Plan& plan);
void RemountRootReadonly(const Plan& plan);

}  // namespace ocits::init
