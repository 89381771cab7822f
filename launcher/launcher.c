#define _GNU_SOURCE
// bin/ocits: starts Node on bin/ocits.js from a sealed copy of the Node
// binary, so that no process ocits clones into a container can reach the
// host's node through /proc/self/exe (the CVE-2019-5736 class).
//
// Every container process ocits makes (the init, exec'd processes, hooks run
// in the container) is a clone of the ocits process until it calls execve.
// The kernel resolves `#!/proc/self/exe` in a script, or an execve of
// /proc/self/exe, against the caller's executable: the container would run
// the runtime's own binary, keep an O_PATH descriptor of it, and reopen it
// for writing through /proc/self/fd/N once nothing executes it. So Node is
// executed from a file nobody can write to, whatever the credentials:
//
//  1. an overlayfs mounted read-only with no upper layer, built with
//     fsopen() and fsmount() and never attached anywhere: no mount namespace
//     holds it, so nothing can remount it, and a lower-only overlay refuses
//     writes itself. It costs no copy (as in runc 1.2).
//  2. where no overlay can be made (a caller without CAP_SYS_ADMIN, a kernel
//     without overlayfs): a memfd copy of Node sealed against writes (as in
//     runc 1.1), unless the caller is not root and Node belongs to root and
//     only root may write it: then a container, whose credentials never
//     exceed the caller's, cannot open it for writing either, and the
//     100 MB copy is not needed.
//
// How Node was sealed goes to bin/ocits.js in OCITS_SEALED_EXE; ocits
// refuses to make container processes without it.
//
// Node is found as `#!/usr/bin/env node` found it: the first `node` in PATH.
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

// The first executable regular file called `node` in PATH, as a real path.
static int find_node(char* found) {
  const char* search = getenv("PATH");
  if (search == NULL || *search == '\0') search = "/usr/local/bin:/usr/bin:/bin";
  while (1) {
    const char* end = strchrnul(search, ':');
    int length = (int)(end - search);
    char candidate[PATH_MAX];
    // An empty element means the current directory, as for execvp.
    if (snprintf(candidate, sizeof candidate, "%.*s%snode", length, search, length > 0 ? "/" : "") <
            (int)sizeof candidate &&
        access(candidate, X_OK) == 0) {
      struct stat status;
      if (stat(candidate, &status) == 0 && S_ISREG(status.st_mode) && realpath(candidate, found) != NULL) return 0;
    }
    if (*end == '\0') return -1;
    search = end + 1;
  }
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
  int copy = memfd_create("ocits-node", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (copy < 0 && errno == EINVAL) copy = memfd_create("ocits-node", MFD_CLOEXEC | MFD_ALLOW_SEALING);
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

int main(int argc, char** argv) {
  // This program is TOP/build/Release/ocits-launcher; the script is TOP/bin/ocits.js.
  char self[PATH_MAX];
  if (realpath("/proc/self/exe", self) == NULL) die("cannot read", "/proc/self/exe");
  *strrchr(self, '/') = '\0';  // TOP/build/Release, a directory of ours
  char script[PATH_MAX];
  strcpy(script, self);
  for (int up = 0; up < 2; ++up) {
    char* slash = strrchr(script, '/');
    if (slash == NULL || slash == script) {
      errno = ENOENT;
      die("is not in its checkout's build/Release", self);
    }
    *slash = '\0';
  }
  if (strlen(script) + sizeof "/bin/ocits.js" > sizeof script) {
    errno = ENAMETOOLONG;
    die("cannot find bin/ocits.js beside", self);
  }
  strcat(script, "/bin/ocits.js");

  char node[PATH_MAX];
  if (find_node(node) != 0) {
    fprintf(stderr, "ocits: cannot find node in PATH\n");
    return 1;
  }
  char* slash = strrchr(node, '/');
  *slash = '\0';
  int executable = open_through_overlay(slash == node ? "/" : node, slash + 1, self);
  *slash = '/';
  const char* sealed = "overlay";
  if (executable < 0) {
    if (caller_cannot_write(node)) {
      sealed = "owned by root";
      executable = open(node, O_PATH | O_CLOEXEC);
      if (executable < 0) die("cannot open", node);
    } else {
      sealed = "memfd";
      executable = sealed_copy(node);
    }
  }
  if (setenv("OCITS_SEALED_EXE", sealed, 1) != 0) die("cannot set OCITS_SEALED_EXE for", node);

  char** arguments = calloc((size_t)argc + 2, sizeof *arguments);
  if (arguments == NULL) die("cannot start", node);
  arguments[0] = "node";
  arguments[1] = script;
  for (int i = 1; i < argc; ++i) arguments[i + 1] = argv[i];
  syscall(SYS_execveat, executable, "", arguments, environ, AT_EMPTY_PATH);
  die("cannot execute", node);
}
