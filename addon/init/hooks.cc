#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "safe.h"

namespace ocits::init {

namespace {

// What the hook wrote (stdout and stderr), or its end once it wrote more
// than fits: like the runtime's hook messages, the failure quotes the last
// lines, where a program says why it failed.
struct Output {
  char text[2048];
  size_t used;
  bool truncated;  // the older bytes were dropped, so the first line is cut

  void Append(const char* chunk, long count) {
    for (long i = 0; i < count; ++i) {
      if (used + 1 == sizeof text) {
        size_t half = used / 2;
        for (size_t j = half; j < used; ++j) text[j - half] = text[j];
        used -= half;
        truncated = true;
      }
      text[used++] = chunk[i];
    }
    text[used] = '\0';
  }
};

Output output;

bool HasText(const char* text, size_t length) {
  for (size_t i = 0; i < length; ++i) {
    if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r' && text[i] != '\n') return true;
  }
  return false;
}

// The last `lines` lines with more than blanks in them, as src/lifecycle/hooks.ts
// quotes a runtime hook (protocol.ts then joins them into one line).
const char* LastLines(int lines) {
  const char* text = output.text;
  size_t first = 0;
  if (output.truncated) {
    while (first < output.used && text[first] != '\n') ++first;
  }
  size_t end = output.used;  // one past the line looked at
  for (;;) {
    size_t begin = end;
    while (begin > first && text[begin - 1] != '\n') --begin;
    if (HasText(text + begin, end - begin) && --lines == 0) return text + begin;
    if (begin == first) return text + first;
    end = begin - 1;  // before the newline that ends the line above
  }
}

const int kQuotedLines = 3;

int64_t NowMilliseconds() {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

// The standard signals by number, as the runtime's hook messages name them.
const char* const kSignalNames[] = {
    nullptr,   "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",    "SIGTRAP", "SIGABRT",  "SIGBUS",
    "SIGFPE",  "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2",   "SIGPIPE", "SIGALRM",  "SIGTERM",
    "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP",   "SIGTTIN", "SIGTTOU",  "SIGURG",
    "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH",  "SIGIO",   "SIGPWR",   "SIGSYS",
};

// fork() without glibc's atfork handlers, which are not safe here.
pid_t ForkRaw() { return (pid_t)syscall(SYS_clone, SIGCHLD, 0, nullptr, nullptr, 0); }

// Runs one hook; returns true on exit status 0. Otherwise describes the
// failure in detail, with *error the errno of a failed execve.
bool RunHook(const HookCommand& hook, const char* state, Text& detail, int* error) {
  int input[2];
  int captured[2];
  int exec_failure[2];  // the child's errno when its execve fails; close-on-exec, so empty when it succeeds
  if (pipe2(input, O_CLOEXEC) != 0 || pipe2(captured, O_CLOEXEC) != 0 || pipe2(exec_failure, O_CLOEXEC) != 0) {
    detail.Add("(").Add(hook.path).Add(") failed: cannot make pipes");
    return false;
  }
  pid_t pid = ForkRaw();
  if (pid < 0) {
    detail.Add("(").Add(hook.path).Add(") failed: cannot fork");
    return false;
  }
  if (pid == 0) {
    // Ignored while we feed its stdin (RunContainerHooks); the hook gets the default.
    signal(SIGPIPE, SIG_DFL);
    dup3(input[0], 0, 0);
    dup3(captured[1], 1, 0);
    dup3(captured[1], 2, 0);
    execve(hook.path, hook.argv, hook.envp);
    int exec_errno = errno;
    OCITS_RETRY(write(exec_failure[1], &exec_errno, sizeof exec_errno));
    _exit(127);
  }
  close(input[0]);
  close(captured[1]);
  close(exec_failure[1]);
  // Fed as the hook reads it, between reads of its output: the state may be
  // larger than a pipe holds (annotations), and a hook that never reads it
  // must not block us.
  fcntl(input[1], F_SETFL, O_NONBLOCK);
  const char* unsent = state;
  size_t unsent_length = Length(state);

  int64_t deadline = hook.timeout_seconds > 0 ? NowMilliseconds() + hook.timeout_seconds * 1000LL : -1;
  output.used = 0;
  output.truncated = false;
  output.text[0] = '\0';
  int status = 0;
  bool timed_out = false;
  bool exited = false;
  while (!exited) {
    struct pollfd ready[2] = {{captured[0], POLLIN, 0}, {input[1], POLLOUT, 0}};
    poll(ready, 2, 10);
    if (ready[0].revents & (POLLIN | POLLHUP)) {
      char chunk[512];
      long count = OCITS_RETRY(read(captured[0], chunk, sizeof chunk));
      output.Append(chunk, count);
    }
    if (input[1] >= 0 && (ready[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
      long written = OCITS_RETRY(write(input[1], unsent, unsent_length));
      if (written > 0) {
        unsent += written;
        unsent_length -= (size_t)written;
      }
      // Sent, or the hook closed its stdin (EPIPE): it has what it wanted.
      if (unsent_length == 0 || (written < 0 && errno != EAGAIN)) {
        close(input[1]);
        input[1] = -1;
      }
    }
    if (OCITS_RETRY(waitpid(pid, &status, WNOHANG)) == pid) exited = true;
    else if (deadline >= 0 && NowMilliseconds() > deadline) {
      kill(pid, SIGKILL);
      OCITS_RETRY(waitpid(pid, &status, 0));
      timed_out = true;
      exited = true;
    }
  }
  // Whatever the hook wrote just before exiting.
  fcntl(captured[0], F_SETFL, O_NONBLOCK);
  char chunk[512];
  long count;
  while ((count = OCITS_RETRY(read(captured[0], chunk, sizeof chunk))) > 0) output.Append(chunk, count);
  close(captured[0]);
  if (input[1] >= 0) close(input[1]);
  int exec_errno = 0;
  bool exec_failed = OCITS_RETRY(read(exec_failure[0], &exec_errno, sizeof exec_errno)) == (long)sizeof exec_errno;
  close(exec_failure[0]);

  if (!timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
  // Worded as src/lifecycle/hooks.ts words a runtime hook's failure.
  detail.Add("(").Add(hook.path).Add(") failed");
  int killer = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  if (timed_out) {
    detail.Add(": timed out after ").AddNumber(hook.timeout_seconds).Add(" s");
  } else if (exec_failed) {
    detail.Add(": cannot execute it");
    *error = exec_errno;
  } else if (WIFEXITED(status)) {
    detail.Add(": exit status ").AddNumber(WEXITSTATUS(status));
  } else if (killer > 0 && killer < (int)(sizeof kSignalNames / sizeof kSignalNames[0])) {
    detail.Add(": killed by ").Add(kSignalNames[killer]);
  } else {
    detail.Add(": killed by signal ").AddNumber(killer);
  }
  const char* quoted = LastLines(kQuotedLines);
  if (HasText(quoted, Length(quoted))) detail.Add(": ").Add(quoted);
  return false;
}

}  // namespace

int RunContainerHooks(const HookCommand* hooks, size_t count, const char* state, char* buffer, size_t capacity,
                      int* error) {
  *error = 0;
  // A hook that exits before reading all its state must not kill us with SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  int failed = -1;
  for (size_t i = 0; i < count && failed < 0; ++i) {
    Text detail(buffer, capacity);
    if (!RunHook(hooks[i], state, detail, error)) failed = (int)i;
  }
  // The container's process gets the default, as ResetSignals left it.
  signal(SIGPIPE, SIG_DFL);
  return failed;
}

}  // namespace ocits::init
