// flock(2), which Node does not expose. The state store uses it for the
// per-container lock: the kernel drops the lock when the process dies, so a
// crashed command never leaves a container locked.
#pragma once
#include <napi.h>

namespace ocits {

// flock(fd: number, mode: "exclusive" | "shared" | "unlock", wait: boolean): boolean
// Returns false only when wait is false and another holder has the lock.
Napi::Value Flock(const Napi::CallbackInfo& info);

}  // namespace ocits
