#define _GNU_SOURCE
// bin/ocits: runs the ocits program (dist/ocits, a single executable that
// scripts/build.js compiles with Bun) from a sealed copy, so that no process
// ocits clones into a container can reach a writable host binary through
// /proc/self/exe (the CVE-2019-5736 class).
//
// Every container process ocits makes (the init, exec'd processes, hooks run
// in the container) is a clone of the ocits process until it calls execve.
// The kernel resolves `#!/proc/self/exe` in a script, or an execve of
// /proc/self/exe, against the caller's executable: the container would run
// the runtime's own binary, keep an O_PATH descriptor of it, and reopen it
// for writing through /proc/self/fd/N once nothing executes it. So the
// program is executed from a file nobody can write to, whatever the
// credentials:
//
//  1. an overlayfs mounted read-only with no upper layer, built with
//     fsopen() and fsmount() and never attached anywhere: no mount namespace
//     holds it, so nothing can remount it, and a lower-only overlay refuses
//     writes itself. It costs no copy (as in runc 1.2).
//  2. where no overlay can be made (a caller without CAP_SYS_ADMIN, a kernel
//     without overlayfs): a memfd copy of the program sealed against writes
//     (as in runc 1.1), unless the caller is not root and the program belongs
//     to root and only root may write it: then a container, whose
//     credentials never exceed the caller's, cannot open it for writing
//     either, and the 110 MB copy is not needed.
//
// How the program was sealed goes to it in OCITS_SEALED_EXE; ocits refuses
// to make container processes without it. Where the addon is goes in
// OCITS_ADDON: the program, run from a detached mount or a memfd, cannot
// find its checkout from its own path.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char** environ;

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

static void die(const char* what, const char* path) {
  fprintf(stderr, "ocits: %s \"%s\": %s\n", what, path, strerror(errno));
  exit(1);
}

// Overlayfs's lowerdir list separates layers with ':', and kernels that
// take it as a legacy option string separate options with ','; both honour
// '\' as an escape.
static int escape_layer(const char* path, char* out, size_t size) {
  size_t used = 0;
  for (; *path != '\0'; ++path) {
    if (used + 3 > size) return -1;
    if (*path == ':' || *path == ',' || *path == '\\') out[used++] = '\\';
    out[used++] = *path;
  }
  out[used] = '\0';
  return 0;
}

// An O_PATH fd of DIR/NAME through a detached, read-only, lower-only
// overlay of DIR. Such an overlay needs a second lower layer: SPARE, a real
// directory (overlayfs takes no detached mount as a layer) that does not
// overlap DIR. Its contents never show, since DIR lies above it and we open
// only NAME.
static int open_through_overlay(const char* dir, const char* name, const char* spare) {
  int context = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
  if (context < 0) return -1;
  int result = -1;
  // One string, which every kernel with fsopen() takes (lowerdir+ came in
  // 6.8; before overlayfs spoke the new mount API, the keys were only
  // checked at CMD_CREATE).
  char layers[PATH_MAX * 4 + 2];
  char escaped_spare[PATH_MAX * 2];
  if (escape_layer(dir, layers, PATH_MAX * 2) != 0 || escape_layer(spare, escaped_spare, sizeof escaped_spare) != 0) {
    goto out;
  }
  strcat(layers, ":");
  strcat(layers, escaped_spare);
  if (syscall(SYS_fsconfig, context, FSCONFIG_SET_STRING, "lowerdir", layers, 0) != 0) goto out;
  // Inode number translation is of no use here and logs to dmesg when the
  // layers are on different file systems.
  syscall(SYS_fsconfig, context, FSCONFIG_SET_STRING, "xino", "off", 0);
  if (syscall(SYS_fsconfig, context, FSCONFIG_CMD_CREATE, NULL, NULL, 0) != 0) goto out;
  int mount = (int)syscall(SYS_fsmount, context, FSMOUNT_CLOEXEC,
                           MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID);
  if (mount < 0) goto out;
  result = openat(mount, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  close(mount);
out:
  close(context);
  return result;
}

// A memfd holding a copy of FILE, sealed so that it can never change.
static int sealed_copy(const char* file) {
  int source = open(file, O_RDONLY | O_CLOEXEC);
  if (source < 0) die("cannot open", file);
  // Kernels that know MFD_EXEC (6.3) may refuse executable memfds without it.
  int copy = memfd_create("ocits", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (copy < 0 && errno == EINVAL) copy = memfd_create("ocits", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (copy < 0) die("cannot make a sealed copy of", file);
  ssize_t sent;
  while ((sent = sendfile(copy, source, NULL, 1 << 30)) > 0) {
  }
  if (sent < 0) die("cannot copy", file);
  close(source);
  if (fcntl(copy, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) != 0) {
    die("cannot seal the copy of", file);
  }
  return copy;
}

static int caller_cannot_write(const char* file) {
  struct stat status;
  return geteuid() != 0 && stat(file, &status) == 0 && status.st_uid == 0 && (status.st_mode & 022) == 0;
}

// DIR becomes the directory LEVELS levels up from PATH (both PATH_MAX long).
static void up(const char* path, int levels, char* dir) {
  strcpy(dir, path);
  for (int level = 0; level < levels; ++level) {
    char* slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir) {
      errno = ENOENT;
      die("is not in its checkout's build/Release", path);
    }
    *slash = '\0';
  }
}

int main(int argc, char** argv) {
  // This program is TOP/build/Release/ocits-launcher, beside the addon
  // (ocits.node); the program it runs is TOP/dist/ocits.
  char self[PATH_MAX];
  if (realpath("/proc/self/exe", self) == NULL) die("cannot read", "/proc/self/exe");
  char release[PATH_MAX];
  up(self, 1, release);
  char dist[PATH_MAX];
  up(self, 3, dist);
  char program[PATH_MAX];
  char addon[PATH_MAX];
  if (strlen(dist) + sizeof "/dist/ocits" > sizeof dist ||
      snprintf(addon, sizeof addon, "%s/ocits.node", release) >= (int)sizeof addon) {
    errno = ENAMETOOLONG;
    die("cannot find the ocits program beside", self);
  }
  strcat(dist, "/dist");
  snprintf(program, sizeof program, "%s/ocits", dist);
  if (access(program, X_OK) != 0) die("cannot find the ocits program (`npm ci` builds it)", program);

  int executable = open_through_overlay(dist, "ocits", release);
  const char* sealed = "overlay";
  if (executable < 0) {
    if (caller_cannot_write(program)) {
      sealed = "owned by root";
      executable = open(program, O_PATH | O_CLOEXEC);
      if (executable < 0) die("cannot open", program);
    } else {
      sealed = "memfd";
      executable = sealed_copy(program);
    }
  }
  // The program is Bun's runtime too, and would run as Bun with this set.
  if (unsetenv("BUN_BE_BUN") != 0 || setenv("OCITS_SEALED_EXE", sealed, 1) != 0 || setenv("OCITS_ADDON", addon, 1) != 0) {
    die("cannot set the environment of", program);
  }

  argv[0] = "ocits";
  syscall(SYS_execveat, executable, "", argv, environ, AT_EMPTY_PATH);
  die("cannot execute", program);
}
