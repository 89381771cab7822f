// What the linked libseccomp can do, for `--version` and `features`.
#pragma once
#include <napi.h>

namespace ocits {

// seccompVersion(): string, the runtime libseccomp version ("2.5.4").
Napi::Value SeccompVersion(const Napi::CallbackInfo& info);

}  // namespace ocits
