#include "seccomp_info.h"

#include <seccomp.h>

#include <string>

namespace ocits {

Napi::Value SeccompVersion(const Napi::CallbackInfo& info) {
  const scmp_version* version = seccomp_version();
  std::string text = std::to_string(version->major) + "." + std::to_string(version->minor) + "." +
                     std::to_string(version->micro);
  return Napi::String::New(info.Env(), text);
}

Napi::Value SeccompResolveSyscall(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "seccompResolveSyscall(name): bad arguments")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string name = info[0].As<Napi::String>().Utf8Value();
  int number = seccomp_syscall_resolve_name(name.c_str());
  return Napi::Number::New(env, number == __NR_SCMP_ERROR ? -1 : number);
}

}  // namespace ocits
