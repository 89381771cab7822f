#include "copy_up.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "safe.h"

namespace ocits::init {

namespace {

// Deeper trees than this are refused rather than risk the stack.
constexpr int kMaxDepth = 64;

// The child is single-threaded: one buffer serves every file copy.
char copy_buffer[64 * 1024];

struct linux_dirent64 {
  ino64_t d_ino;
  off64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

int CopyFile(int from_dir, int to_dir, const char* name, const struct stat& st) {
  int in = OCITS_RETRY(openat(from_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (in < 0) return -errno;
  int out = OCITS_RETRY(openat(to_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 07777));
  if (out < 0) {
    int error = errno;
    close(in);
    return -error;
  }
  int result = 0;
  for (;;) {
    long count = OCITS_RETRY(read(in, copy_buffer, sizeof copy_buffer));
    if (count == 0) break;
    if (count < 0) {
      result = -errno;
      break;
    }
    for (long done = 0; done < count;) {
      long written = OCITS_RETRY(write(out, copy_buffer + done, (size_t)(count - done)));
      if (written < 0) {
        result = -errno;
        break;
      }
      done += written;
    }
    if (result != 0) break;
  }
  close(in);
  close(out);
  return result;
}

int CopyEntry(int from_dir, int to_dir, const char* name, int depth);

int CopyDirectory(int from, int to, int depth) {
  if (depth > kMaxDepth) return -ELOOP;
  char entries[4096];
  for (;;) {
    long size = syscall(SYS_getdents64, from, entries, sizeof entries);
    if (size < 0) return -errno;
    if (size == 0) return 0;
    for (long offset = 0; offset < size;) {
      const linux_dirent64* entry = reinterpret_cast<const linux_dirent64*>(entries + offset);
      offset += entry->d_reclen;
      if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
      int rc = CopyEntry(from, to, entry->d_name, depth);
      if (rc < 0) return rc;
    }
  }
}

// Owner, then mode (chown clears set-id bits), then times, as they were.
int CopyAttributes(int to_dir, const char* name, const struct stat& st) {
  if (fchownat(to_dir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0) return -errno;
  if (!S_ISLNK(st.st_mode) && fchmodat(to_dir, name, st.st_mode & 07777, 0) != 0) return -errno;
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (utimensat(to_dir, name, times, AT_SYMLINK_NOFOLLOW) != 0) return -errno;
  return 0;
}

int CopyEntry(int from_dir, int to_dir, const char* name, int depth) {
  struct stat st;
  if (fstatat(from_dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return -errno;
  int rc = 0;
  if (S_ISDIR(st.st_mode)) {
    if (mkdirat(to_dir, name, 0700) != 0) return -errno;
    int from = OCITS_RETRY(openat(from_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (from < 0) return -errno;
    int to = OCITS_RETRY(openat(to_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (to < 0) {
      rc = -errno;
      close(from);
      return rc;
    }
    rc = CopyDirectory(from, to, depth + 1);
    close(from);
    close(to);
  } else if (S_ISREG(st.st_mode)) {
    rc = CopyFile(from_dir, to_dir, name, st);
  } else if (S_ISLNK(st.st_mode)) {
    char target[PATH_MAX];
    long length = readlinkat(from_dir, name, target, sizeof target - 1);
    if (length < 0) return -errno;
    target[length] = '\0';
    if (symlinkat(target, to_dir, name) != 0) return -errno;
  } else if (mknodat(to_dir, name, st.st_mode, st.st_rdev) != 0) {
    return -errno;
  }
  if (rc < 0) return rc;
  return CopyAttributes(to_dir, name, st);
}

}  // namespace

int CopyTree(int from, int to) {
  int rc = CopyDirectory(from, to, 0);
  if (rc < 0) return rc;
  struct stat st;
  if (fstat(from, &st) != 0) return -errno;
  if (fchown(to, st.st_uid, st.st_gid) != 0 || fchmod(to, st.st_mode & 07777) != 0) return -errno;
  return 0;
}

}  // namespace ocits::init
