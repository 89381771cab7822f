// Starting a container's init process and talking to it until it is ready.
#pragma once
#include <napi.h>

namespace ocits {

// spawnContainerInit(plan) -> { pid, socket }
Napi::Value SpawnContainerInit(const Napi::CallbackInfo& info);
// initReceive(socket) -> Buffer (one message; empty when the child is gone)
Napi::Value InitReceive(const Napi::CallbackInfo& info);
// initReceiveWithFd(socket): {message: Buffer, fd: number}; fd is -1 when
// the message carried none (SCM_RIGHTS).
Napi::Value InitReceiveWithFd(const Napi::CallbackInfo& info);
// initSend(socket, payload: Buffer)
Napi::Value InitSend(const Napi::CallbackInfo& info);
// The init steps' names, indexed as in messages.
Napi::Value InitStepNames(const Napi::CallbackInfo& info);

}  // namespace ocits
