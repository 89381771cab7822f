// Helpers every N-API function file shares. The field readers read a plan
// object that TypeScript built (src/addon-plan.ts declares them); a field of
// the wrong type leaves a JavaScript exception pending, which the caller
// checks once it has read the whole plan.
#pragma once
#include <napi.h>
#include <stdint.h>
#include <unistd.h>

namespace ocits {

inline int32_t Int(const Napi::Object& object, const char* key) {
  return object.Get(key).As<Napi::Number>().Int32Value();
}

inline uint32_t Uint(const Napi::Object& object, const char* key) {
  return object.Get(key).As<Napi::Number>().Uint32Value();
}

inline int64_t Int64(const Napi::Object& object, const char* key) {
  return object.Get(key).As<Napi::Number>().Int64Value();
}

inline bool Bool(const Napi::Object& object, const char* key) { return object.Get(key).As<Napi::Boolean>().Value(); }

// A bigint field: 64-bit masks and limits that a double cannot hold.
inline uint64_t Bits(const Napi::Object& object, const char* key) {
  bool lossless;
  return object.Get(key).As<Napi::BigInt>().Uint64Value(&lossless);
}

// Closes an fd when it goes out of scope, so every early return is clean.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace ocits
