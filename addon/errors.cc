#include "errors.h"

#include <string.h>

#include <string>

namespace ocits {

namespace {

// Names for the errno values our syscalls can report; anything else falls back
// to a numeric code so nothing is lost.
const char* ErrnoName(int err) {
  switch (err) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EEXIST: return "EEXIST";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case ENOSPC: return "ENOSPC";
    case EROFS: return "EROFS";
    case ENOSYS: return "ENOSYS";
    case ENOLCK: return "ENOLCK";
    case ENOTSUP: return "ENOTSUP";
    case EPIPE: return "EPIPE";
    case ECONNRESET: return "ECONNRESET";
    default: return nullptr;
  }
}

}  // namespace

Napi::Value ThrowErrno(Napi::Env env, int err, const char* syscall, const char* path) {
  std::string message = syscall;
  if (path != nullptr) {
    message += " ";
    message += path;
  }
  message += ": ";
  message += strerror(err);
  Napi::Error error = Napi::Error::New(env, message);
  const char* name = ErrnoName(err);
  error.Set("code", name != nullptr ? Napi::String::New(env, name)
                                    : Napi::String::New(env, "E" + std::to_string(err)));
  error.Set("errno", Napi::Number::New(env, -err));
  error.Set("syscall", Napi::String::New(env, syscall));
  error.ThrowAsJavaScriptException();
  return env.Undefined();
}

}  // namespace ocits
