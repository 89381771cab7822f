#include "seccomp_filter.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "errors.h"
#include "init/fd_passing.h"
#include "napi_helpers.h"

namespace ocits {

namespace {

// Releases the libseccomp context on every return path.
class FilterContext {
 public:
  explicit FilterContext(uint32_t default_action) : context_(seccomp_init(default_action)) {}
  ~FilterContext() {
    if (context_ != nullptr) seccomp_release(context_);
  }
  scmp_filter_ctx get() const { return context_; }

 private:
  scmp_filter_ctx context_;
};

// libseccomp returns -errno; the message names what it was doing.
Napi::Value ThrowSeccomp(Napi::Env env, int result, const std::string& what) {
  Napi::Error::New(env, what + ": " + strerror(-result)).ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value AddRule(Napi::Env env, scmp_filter_ctx context, const Napi::Object& rule) {
  int syscall_number = rule.Get("syscall").As<Napi::Number>().Int32Value();
  uint32_t action = Uint(rule, "action");
  Napi::Array conditions = rule.Get("conditions").As<Napi::Array>();
  std::vector<scmp_arg_cmp> compares;
  for (uint32_t i = 0; i < conditions.Length(); ++i) {
    Napi::Object condition = conditions.Get(i).As<Napi::Object>();
    scmp_arg_cmp& compare = compares.emplace_back();
    compare.arg = Uint(condition, "index");
    compare.op = (scmp_compare)Uint(condition, "op");
    compare.datum_a = Bits(condition, "value");
    compare.datum_b = Bits(condition, "valueTwo");
  }
  // Not the _exact variant: libseccomp may rewrite a rule for a multiplexed
  // syscall (socketcall, ipc) on architectures that have them, as runc lets it.
  int result = seccomp_rule_add_array(context, action, syscall_number, (unsigned int)compares.size(), compares.data());
  if (result < 0) {
    char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, syscall_number);
    std::string label = name != nullptr ? name : std::to_string(syscall_number);
    free(name);
    return ThrowSeccomp(env, result, "seccomp rule for " + label);
  }
  return env.Undefined();
}

// The filter as the kernel loads it: seccomp_export_bpf writes to an fd
// (libseccomp 2.5 has no in-memory export), so it goes through a memfd.
Napi::Value ExportProgram(Napi::Env env, scmp_filter_ctx context) {
  Fd memory(memfd_create("ocits-seccomp", MFD_CLOEXEC));
  if (memory.get() < 0) return ThrowErrno(env, errno, "memfd_create");
  int result = seccomp_export_bpf(context, memory.get());
  if (result < 0) return ThrowSeccomp(env, result, "seccomp_export_bpf");
  struct stat status;
  if (fstat(memory.get(), &status) != 0) return ThrowErrno(env, errno, "fstat");
  Napi::Buffer<char> program = Napi::Buffer<char>::New(env, (size_t)status.st_size);
  size_t done = 0;
  while (done < program.Length()) {
    ssize_t count = pread(memory.get(), program.Data() + done, program.Length() - done, (off_t)done);
    if (count < 0 && errno == EINTR) continue;
    if (count <= 0) return ThrowErrno(env, count < 0 ? errno : EIO, "pread");
    done += (size_t)count;
  }
  return program;
}

}  // namespace

Napi::Value SeccompSyscallNumber(const Napi::CallbackInfo& info) {
  std::string name = info[0].As<Napi::String>().Utf8Value();
  int number = seccomp_syscall_resolve_name(name.c_str());
  return Napi::Number::New(info.Env(), number == __NR_SCMP_ERROR ? -1 : number);
}

Napi::Value SeccompArchToken(const Napi::CallbackInfo& info) {
  std::string name = info[0].As<Napi::String>().Utf8Value();
  return Napi::Number::New(info.Env(), seccomp_arch_resolve_name(name.c_str()));
}

Napi::Value CompileSeccompFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsObject()) {
    Napi::TypeError::New(env, "compileSeccompFilter(filter): bad arguments").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object filter = info[0].As<Napi::Object>();
  FilterContext context(Uint(filter, "defaultAction"));
  if (context.get() == nullptr) return ThrowSeccomp(env, -EINVAL, "seccomp_init");
  Napi::Array architectures = filter.Get("architectures").As<Napi::Array>();
  for (uint32_t i = 0; i < architectures.Length(); ++i) {
    uint32_t token = architectures.Get(i).As<Napi::Number>().Uint32Value();
    int result = seccomp_arch_add(context.get(), token);
    // The native architecture is in every new filter already.
    if (result < 0 && result != -EEXIST) return ThrowSeccomp(env, result, "seccomp_arch_add " + std::to_string(token));
  }
  Napi::Array rules = filter.Get("rules").As<Napi::Array>();
  for (uint32_t i = 0; i < rules.Length(); ++i) {
    AddRule(env, context.get(), rules.Get(i).As<Napi::Object>());
    if (env.IsExceptionPending()) return env.Undefined();
  }
  return ExportProgram(env, context.get());
}

Napi::Value SeccompFlagSupported(const Napi::CallbackInfo& info) {
  unsigned int flags = info[0].As<Napi::Number>().Uint32Value();
  // With no program the kernel checks the flags and then fails to read the
  // filter: EFAULT means it knows them, EINVAL that it does not. Nothing is
  // loaded either way.
  long result = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, nullptr);
  return Napi::Boolean::New(info.Env(), result < 0 && errno == EFAULT);
}

Napi::Value SendWithFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int socket = info[0].As<Napi::Number>().Int32Value();
  Napi::Buffer<char> payload = info[1].As<Napi::Buffer<char>>();
  int fd = info[2].As<Napi::Number>().Int32Value();
  long count = init::SendWithFd(socket, payload.Data(), payload.Length(), fd);
  if (count < 0) return ThrowErrno(env, errno, "sendmsg");
  // A stream socket may take less; the rest goes without the fd, as the spec allows.
  size_t sent = (size_t)count;
  while (sent < payload.Length()) {
    count = send(socket, payload.Data() + sent, payload.Length() - sent, MSG_NOSIGNAL);
    if (count < 0 && errno == EINTR) continue;
    if (count < 0) return ThrowErrno(env, errno, "send");
    sent += (size_t)count;
  }
  return env.Undefined();
}

}  // namespace ocits
