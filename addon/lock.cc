#include "lock.h"

#include <errno.h>
#include <sys/file.h>

#include <string>

#include "errors.h"

namespace ocits {

Napi::Value Flock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 3 || !info[0].IsNumber() || !info[1].IsString() || !info[2].IsBoolean()) {
    Napi::TypeError::New(env, "flock(fd, mode, wait): bad arguments").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  std::string mode = info[1].As<Napi::String>().Utf8Value();
  bool wait = info[2].As<Napi::Boolean>().Value();

  int operation;
  if (mode == "exclusive") {
    operation = LOCK_EX;
  } else if (mode == "shared") {
    operation = LOCK_SH;
  } else if (mode == "unlock") {
    operation = LOCK_UN;
  } else {
    Napi::TypeError::New(env, "flock: mode must be exclusive, shared or unlock")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (!wait) operation |= LOCK_NB;

  int rc;
  do {
    rc = flock(fd, operation);
  } while (rc != 0 && errno == EINTR);
  if (rc == 0) return Napi::Boolean::New(env, true);
  if (errno == EWOULDBLOCK && !wait) return Napi::Boolean::New(env, false);
  return ThrowErrno(env, errno, "flock");
}

}  // namespace ocits
