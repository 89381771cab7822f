// umount2(2), which Node does not expose. `delete` uses it for a container
// without a mount namespace of its own, whose mounts create made in ours.
#pragma once
#include <napi.h>

namespace ocits {

// detachMount(path: string): void. Lazily unmounts the mount at path and
// everything below it (MNT_DETACH), never following a final symlink.
Napi::Value DetachMount(const Napi::CallbackInfo& info);

}  // namespace ocits
