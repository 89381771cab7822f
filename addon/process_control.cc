#include "process_control.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "errors.h"
#include "init/fd_passing.h"

namespace ocits {

namespace {

Napi::Object ExitStatus(Napi::Env env, int status) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("code", WIFEXITED(status) ? Napi::Number::New(env, WEXITSTATUS(status)) : env.Null());
  result.Set("signal", WIFSIGNALED(status) ? Napi::Number::New(env, WTERMSIG(status)) : env.Null());
  return result;
}

// waitpid() on a libuv worker thread: any thread may wait for the process's
// children, and the event loop stays free for signal forwarding and the pty.
class ExitWaiter : public Napi::AsyncWorker {
 public:
  ExitWaiter(Napi::Env env, pid_t pid) : Napi::AsyncWorker(env), pid_(pid), deferred_(env) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    pid_t rc;
    do {
      rc = waitpid(pid_, &status_, __WALL);
    } while (rc < 0 && errno == EINTR);
    error_ = rc < 0 ? errno : 0;
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (error_ != 0) {
      Napi::Error error = Napi::Error::New(env, std::string("waitpid: ") + strerror(error_));
      deferred_.Reject(error.Value());
      return;
    }
    deferred_.Resolve(ExitStatus(env, status_));
  }

 private:
  pid_t pid_;
  int status_ = 0;
  int error_ = 0;
  Napi::Promise::Deferred deferred_;
};

}  // namespace

Napi::Value WaitForExit(const Napi::CallbackInfo& info) {
  auto* waiter = new ExitWaiter(info.Env(), info[0].As<Napi::Number>().Int32Value());
  Napi::Promise promise = waiter->Promise();
  waiter->Queue();
  return promise;
}

Napi::Value Reap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pid_t pid = info[0].As<Napi::Number>().Int32Value();
  int status = 0;
  pid_t rc;
  do {
    rc = waitpid(pid, &status, __WALL);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) return ThrowErrno(env, errno, "waitpid");
  return ExitStatus(env, status);
}

Napi::Value PidfdOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = (int)syscall(SYS_pidfd_open, info[0].As<Napi::Number>().Int32Value(), 0);
  if (fd < 0) return ThrowErrno(env, errno, "pidfd_open");
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  return Napi::Number::New(env, fd);
}

Napi::Value PidfdSendSignal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int signal = info[1].As<Napi::Number>().Int32Value();
  if (syscall(SYS_pidfd_send_signal, fd, signal, nullptr, 0) != 0) return ThrowErrno(env, errno, "pidfd_send_signal");
  return env.Undefined();
}

Napi::Value WaitReadable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int timeout_ms = info[1].As<Napi::Number>().Int32Value();
  struct pollfd entry = {fd, POLLIN, 0};
  int ready = poll(&entry, 1, timeout_ms);
  if (ready < 0 && errno != EINTR) return ThrowErrno(env, errno, "poll");
  return Napi::Boolean::New(env, ready > 0);
}

Napi::Value CopyWindowSize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int from = info[0].As<Napi::Number>().Int32Value();
  int to = info[1].As<Napi::Number>().Int32Value();
  struct winsize size;
  if (ioctl(from, TIOCGWINSZ, &size) != 0) return ThrowErrno(env, errno, "TIOCGWINSZ");
  if (ioctl(to, TIOCSWINSZ, &size) != 0) return ThrowErrno(env, errno, "TIOCSWINSZ");
  return env.Undefined();
}

Napi::Value Mkfifo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  mode_t mode = info[1].As<Napi::Number>().Uint32Value();
  mode_t previous = umask(0);
  int rc = mkfifo(path.c_str(), mode);
  int error = errno;
  umask(previous);
  if (rc != 0) return ThrowErrno(env, error, "mkfifo", path.c_str());
  return env.Undefined();
}

Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return ThrowErrno(env, errno, "socketpair");
  Napi::Array pair = Napi::Array::New(env, 2);
  pair.Set(0u, fds[0]);
  pair.Set(1u, fds[1]);
  return pair;
}

Napi::Value ConnectUnix(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  struct sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) return ThrowErrno(env, ENAMETOOLONG, "connect", path.c_str());
  memcpy(address.sun_path, path.c_str(), path.size() + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ThrowErrno(env, errno, "socket");
  if (connect(fd, reinterpret_cast<struct sockaddr*>(&address), sizeof address) != 0) {
    int error = errno;
    close(fd);
    return ThrowErrno(env, error, "connect", path.c_str());
  }
  return Napi::Number::New(env, fd);
}

Napi::Value ReceiveFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int socket = info[0].As<Napi::Number>().Int32Value();
  char name[4096];
  int fd;
  if (init::ReceiveWithFd(socket, name, sizeof name, &fd) < 0) return ThrowErrno(env, errno, "recvmsg");
  if (fd < 0) return ThrowErrno(env, EBADMSG, "recvmsg");
  return Napi::Number::New(env, fd);
}

}  // namespace ocits
