// Turning a failed syscall into a JavaScript exception that carries errno's
// symbolic code, so TypeScript can branch on err.code like it does for fs.
#pragma once
#include <napi.h>

namespace ocits {

// Throws Error("<syscall> <path>: <strerror>") with .code, .errno and .syscall
// set, the same shape Node's own fs errors have. Returns an undefined value for
// the caller to return.
Napi::Value ThrowErrno(Napi::Env env, int err, const char* syscall, const char* path = nullptr);

}  // namespace ocits
