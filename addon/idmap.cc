#include "idmap.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sched.h>

namespace ocits {

namespace {

std::string Describe(const char* call, const char* what, int error) {
  std::string text = call;
  if (what != nullptr) text.append(" ").append(what);
  return text.append(": ").append(strerror(error));
}

bool WriteFile(const std::string& path, const char* text, std::string* failure) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    *failure = Describe("open", path.c_str(), errno);
    return false;
  }
  size_t length = strlen(text);
  bool written = write(fd, text, length) == (ssize_t)length;
  int error = errno;
  close(fd);
  if (!written) *failure = Describe("write", path.c_str(), error);
  return written;
}

// A user namespace with these maps, as an fd: a helper process is cloned
// into a new one, the maps are written for it, its ns/user is opened, and
// the helper is killed. The namespace lives on through the fd.
}  // namespace

int OpenUserNamespace(const char* uid_map, const char* gid_map, std::string* failure) {
  // Node is multithreaded: the helper runs only raw syscalls, with every
  // signal blocked so none of Node's handlers runs in it.
  sigset_t all;
  sigset_t previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, nullptr, nullptr, 0);
  if (pid == 0) {
    syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    for (;;) syscall(SYS_pause);
  }
  int clone_error = errno;
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (pid < 0) {
    *failure = Describe("clone", "CLONE_NEWUSER", clone_error);
    return -1;
  }
  std::string proc = "/proc/" + std::to_string(pid) + "/";
  int ns = -1;
  if (WriteFile(proc + "uid_map", uid_map, failure) && WriteFile(proc + "gid_map", gid_map, failure)) {
    ns = open((proc + "ns/user").c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0) *failure = Describe("open", (proc + "ns/user").c_str(), errno);
  }
  kill((pid_t)pid, SIGKILL);
  while (waitpid((pid_t)pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  return ns;
}

MountNamespaceFds::~MountNamespaceFds() {
  for (int fd : fds) close(fd);
}

}  // namespace ocits
