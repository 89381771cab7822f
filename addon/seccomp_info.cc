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

}  // namespace ocits
