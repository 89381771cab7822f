// The addon's entry point: it only registers functions. Each kernel concern
// lives in its own file; TypeScript decides policy and calls these mechanisms.
#include <napi.h>

#include "lock.h"
#include "seccomp_info.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("flock", Napi::Function::New(env, ocits::Flock, "flock"));
  exports.Set("seccompVersion", Napi::Function::New(env, ocits::SeccompVersion, "seccompVersion"));
  return exports;
}

}  // namespace

NODE_API_MODULE(ocits, Init)
