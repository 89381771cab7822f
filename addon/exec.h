// `ocits exec`: starting a process inside a running container.
#pragma once
#include <napi.h>

namespace ocits {

// spawnExecProcess(plan) -> { pid, socket }: pid is the intermediate child,
// which sends the host pid of the real process (kMessageExecPid) and exits.
Napi::Value SpawnExecProcess(const Napi::CallbackInfo& info);
// becomeChildSubreaper(): orphaned descendants become our children, so we
// can wait for the process the intermediate child forked.
Napi::Value BecomeChildSubreaper(const Napi::CallbackInfo& info);

}  // namespace ocits
