#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "fd_passing.h"
#include "process_attributes.h"
#include "safe.h"
#include "seccomp.h"

namespace ocits::init {

namespace {

char executable[4096];

bool Has(uint64_t set, int capability) { return (set >> capability) & 1; }

bool IsExecutableFile(const char* path) {
  struct stat status;
  if (stat(path, &status) != 0) return false;
  return S_ISREG(status.st_mode) && (status.st_mode & 0111) != 0 && access(path, X_OK) == 0;
}

}  // namespace

void ResetSignals() {
  struct sigaction action = {};
  action.sa_handler = SIG_DFL;
  for (int signal = 1; signal < NSIG; ++signal) {
    if (signal == SIGKILL || signal == SIGSTOP) continue;
    sigaction(signal, &action, nullptr);  // fails harmlessly for glibc's reserved signals
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

namespace {

void SetUpConsole(const ProcessPlan& process, int socket) {
  if (!process.terminal) return;
  // The container's own devpts: /dev/ptmx is its pts/ptmx by now.
  int master = OCITS_RETRY(open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (master < 0) Fail(socket, kStepConsole, -1, errno, "open /dev/ptmx");
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) != 0) Fail(socket, kStepConsole, -1, errno, "unlock pty");
  int peer = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (peer < 0) Fail(socket, kStepConsole, -1, errno, "open pty peer");
  // Engines expect "\n" to arrive as "\n", as runc leaves it.
  struct termios settings;
  if (ioctl(master, TCGETS, &settings) == 0) {
    settings.c_oflag &= ~(tcflag_t)ONLCR;
    ioctl(master, TCSETS, &settings);
  }
  if (process.console_rows != 0 && process.console_columns != 0) {
    struct winsize size = {process.console_rows, process.console_columns, 0, 0};
    if (ioctl(master, TIOCSWINSZ, &size) != 0) Fail(socket, kStepConsole, -1, errno, "set console size");
  }
  // The pty master travels to the console socket as SCM_RIGHTS, with its
  // name as the payload, as runc's terminal protocol does.
  static const char kName[] = "/dev/ptmx";
  if (SendWithFd(process.console_socket, kName, sizeof kName - 1, master) < 0) {
    Fail(socket, kStepConsole, -1, errno, "send pty master");
  }
  close(master);
  close(process.console_socket);
  if (setsid() < 0) Fail(socket, kStepConsole, -1, errno, "setsid");
  if (ioctl(peer, TIOCSCTTY, 0) != 0) Fail(socket, kStepConsole, -1, errno, "set controlling terminal");
  for (int fd = 0; fd <= 2; ++fd) {
    if (dup3(peer, fd, 0) < 0) Fail(socket, kStepConsole, -1, errno, "dup pty to stdio");
  }
  close(peer);
}

// Each write names what the next execve runs under; as root, before the
// credentials change and before a seccomp filter could refuse the write.
void ApplySecurityLabels(const ProcessPlan& process, int socket) {
  for (size_t i = 0; i < process.lsm_count; ++i) {
    int fd = OCITS_RETRY(open(process.lsm_paths[i], O_WRONLY | O_CLOEXEC));
    if (fd < 0) Fail(socket, kStepSecurityLabel, (int)i, errno, process.lsm_paths[i]);
    size_t length = Length(process.lsm_values[i]);
    if (OCITS_RETRY(write(fd, process.lsm_values[i], length)) != (long)length) {
      Fail(socket, kStepSecurityLabel, (int)i, errno, process.lsm_paths[i]);
    }
    close(fd);
  }
}

void ApplyRlimits(const ProcessPlan& process, int socket) {
  for (size_t i = 0; i < process.rlimit_count; ++i) {
    const Rlimit& limit = process.rlimits[i];
    struct rlimit value = {limit.soft, limit.hard};
    if (setrlimit(limit.resource, &value) != 0) Fail(socket, kStepRlimit, (int)i, errno);
  }
}

void ApplyNoNewPrivileges(const ProcessPlan& process, int socket) {
  if (process.no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    Fail(socket, kStepNoNewPrivileges, -1, errno);
  }
}

void SwitchUserAndCapabilities(const ProcessPlan& process, int socket, bool keep_parent_death_signal) {
  const Capabilities& caps = process.capabilities;
  if (caps.apply) {
    // Dropping from the bounding set needs CAP_SETPCAP, which we lose below.
    for (int capability = 0; capability <= caps.last_cap; ++capability) {
      if (!Has(caps.bounding, capability) && prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0) {
        Fail(socket, kStepCapabilityBounding, capability, errno);
      }
    }
  }
  // Keep the permitted set across the uid change; it is cut down right after.
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) Fail(socket, kStepUser, -1, errno, "PR_SET_KEEPCAPS");
  if (process.set_groups && syscall(SYS_setgroups, process.group_count, process.groups) != 0) {
    Fail(socket, kStepUser, -1, errno, "setgroups");
  }
  if (syscall(SYS_setresgid, process.gid, process.gid, process.gid) != 0) Fail(socket, kStepUser, -1, errno, "setresgid");
  if (syscall(SYS_setresuid, process.uid, process.uid, process.uid) != 0) Fail(socket, kStepUser, -1, errno, "setresuid");
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) Fail(socket, kStepUser, -1, errno, "PR_SET_KEEPCAPS");
  // A credential change clears the parent-death signal.
  if (keep_parent_death_signal) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (!caps.apply) return;

  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  for (int word = 0; word < 2; ++word) {
    data[word].effective = (uint32_t)(caps.effective >> (32 * word));
    data[word].permitted = (uint32_t)(caps.permitted >> (32 * word));
    data[word].inheritable = (uint32_t)(caps.inheritable >> (32 * word));
  }
  if (syscall(SYS_capset, &header, data) != 0) Fail(socket, kStepCapabilities, -1, errno);
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) Fail(socket, kStepCapabilities, -1, errno);
  for (int capability = 0; capability <= caps.last_cap; ++capability) {
    if (Has(caps.ambient, capability) &&
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, capability, 0, 0) != 0) {
      Fail(socket, kStepCapabilities, capability, errno, "ambient");
    }
  }
}

// Tried first with the runtime's credentials, as runc does: a directory the
// process's user may not search (a 0700 /root for uid 1000) is still its
// working directory. Refused for lack of permission, it is tried again once
// the user is set, for a directory only that user may enter.
bool EnterCwdBeforeUser(const ProcessPlan& process, int socket) {
  if (chdir(process.cwd) == 0) return true;
  if (errno != EACCES && errno != EPERM) Fail(socket, kStepChdir, -1, errno, process.cwd);
  return false;
}

void EnterCwd(const ProcessPlan& process, int socket) {
  if (chdir(process.cwd) != 0) Fail(socket, kStepChdir, -1, errno, process.cwd);
}

const char* FindExecutable(const ProcessPlan& process, int socket) {
  const char* name = process.argv[0];
  for (const char* c = name; *c != '\0'; ++c) {
    if (*c != '/') continue;
    if (!IsExecutableFile(name)) Fail(socket, kStepFindExecutable, -1, errno == 0 ? EACCES : errno, name);
    return name;
  }
  const char* search = process.path_env;
  if (search != nullptr) {
    while (true) {
      const char* end = search;
      while (*end != '\0' && *end != ':') ++end;
      Text candidate(executable, sizeof executable);
      // An empty PATH entry means the current directory.
      if (end == search) candidate.Add(".");
      else candidate.Add(search, (size_t)(end - search));
      candidate.Add("/").Add(name);
      if (IsExecutableFile(executable)) return executable;
      if (*end == '\0') break;
      search = end + 1;
    }
  }
  Fail(socket, kStepFindExecutable, -1, ENOENT, name);
}

}  // namespace

const char* PrepareProcess(const ProcessPlan& process, int socket, bool keep_parent_death_signal) {
  SetUpConsole(process, socket);
  // While we still have every capability (CAP_SYS_NICE for a real-time
  // policy or class) and before a seccomp filter could forbid the calls.
  ApplyProcessAttributes(process, socket);
  ApplySecurityLabels(process, socket);
  ApplyRlimits(process, socket);
  ApplyNoNewPrivileges(process, socket);
  // runc's order: without no_new_privs loading a filter needs CAP_SYS_ADMIN,
  // so it goes before the capabilities are dropped; with it, as late as
  // possible, so the fewest of our own syscalls run under the filter. For
  // the init both are before the wait on exec.fifo, so a notify fd reaches
  // the listener during create.
  if (!process.no_new_privileges) LoadSeccomp(process, socket);
  bool in_cwd = EnterCwdBeforeUser(process, socket);
  SwitchUserAndCapabilities(process, socket, keep_parent_death_signal);
  umask(process.umask);
  if (!in_cwd) EnterCwd(process, socket);
  const char* program = FindExecutable(process, socket);
  if (process.no_new_privileges) LoadSeccomp(process, socket);
  return program;
}

void CloseFdsExcept(const int* keep, size_t count) { CloseFdsFrom(3, keep, count); }

void PassFds(int count) {
  for (int fd = 3; fd < 3 + count; ++fd) fcntl(fd, F_SETFD, 0);
}

void CloseFdsFrom(int first, const int* keep, size_t count, const int* more, size_t more_count) {
  unsigned int from = (unsigned int)first;
  for (;;) {
    // The lowest kept fd at or above `from`; the lists are short.
    long next = -1;
    for (size_t i = 0; i < count + more_count; ++i) {
      int fd = i < count ? keep[i] : more[i - count];
      if (fd >= (int)from && (next < 0 || fd < next)) next = fd;
    }
    if (next < 0) break;
    if ((unsigned int)next > from) syscall(SYS_close_range, from, (unsigned int)next - 1, 0);
    from = (unsigned int)next + 1;
  }
  syscall(SYS_close_range, from, ~0U, 0);
}

void MakeStdioPlain() {
  for (int fd = 0; fd <= 2; ++fd) {
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0 && (flags & O_NONBLOCK)) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    fcntl(fd, F_SETFD, 0);
  }
}

}  // namespace ocits::init
