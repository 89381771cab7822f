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
#include "safe.h"

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

void SetUpConsole(const Plan& plan) {
  const ProcessPlan& process = plan.process;
  int socket = plan.sync_socket;
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

void ApplyRlimits(const Plan& plan) {
  for (size_t i = 0; i < plan.process.rlimit_count; ++i) {
    const Rlimit& limit = plan.process.rlimits[i];
    struct rlimit value = {limit.soft, limit.hard};
    if (setrlimit(limit.resource, &value) != 0) Fail(plan.sync_socket, kStepRlimit, (int)i, errno);
  }
}

void ApplyNoNewPrivileges(const Plan& plan) {
  if (plan.process.no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    Fail(plan.sync_socket, kStepNoNewPrivileges, -1, errno);
  }
}

void SwitchUserAndCapabilities(const Plan& plan) {
  const ProcessPlan& process = plan.process;
  const Capabilities& caps = process.capabilities;
  int socket = plan.sync_socket;
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
  if (syscall(SYS_setgroups, process.group_count, process.groups) != 0) Fail(socket, kStepUser, -1, errno, "setgroups");
  if (syscall(SYS_setresgid, process.gid, process.gid, process.gid) != 0) Fail(socket, kStepUser, -1, errno, "setresgid");
  if (syscall(SYS_setresuid, process.uid, process.uid, process.uid) != 0) Fail(socket, kStepUser, -1, errno, "setresuid");
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) Fail(socket, kStepUser, -1, errno, "PR_SET_KEEPCAPS");
  // A credential change clears the parent-death signal; keep it until ready.
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
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

void EnterCwd(const Plan& plan) {
  if (chdir(plan.process.cwd) != 0) Fail(plan.sync_socket, kStepChdir, -1, errno, plan.process.cwd);
}

const char* FindExecutable(const Plan& plan) {
  const char* name = plan.process.argv[0];
  int socket = plan.sync_socket;
  for (const char* c = name; *c != '\0'; ++c) {
    if (*c != '/') continue;
    if (!IsExecutableFile(name)) Fail(socket, kStepFindExecutable, -1, errno == 0 ? EACCES : errno, name);
    return name;
  }
  const char* search = plan.process.path_env;
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

}  // namespace ocits::init
