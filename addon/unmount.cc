#include "unmount.h"

#include <errno.h>
#include <sys/mount.h>

#include <string>

#include "errors.h"

namespace ocits {

Napi::Value DetachMount(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  if (umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0) return ThrowErrno(env, errno, "umount", path.c_str());
  return env.Undefined();
}

}  // namespace ocits
