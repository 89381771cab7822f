// Syscalls Node lacks for handling container processes from the outside:
// waiting for a non-libuv child, signalling through a pidfd, fifos, and
// passing fds over unix sockets.
#pragma once
#include <napi.h>

namespace ocits {

Napi::Value WaitForExit(const Napi::CallbackInfo& info);   // (pid) -> Promise<{code, signal}>
Napi::Value Reap(const Napi::CallbackInfo& info);          // (pid) -> {code, signal}, blocking
Napi::Value PidfdOpen(const Napi::CallbackInfo& info);     // (pid) -> fd
Napi::Value PidfdSendSignal(const Napi::CallbackInfo& info);  // (fd, signal)
// (fd, timeoutMs) -> whether fd became readable (or hung up) in time. Blocks
// the thread: for commands that have nothing else to do meanwhile.
Napi::Value WaitReadable(const Napi::CallbackInfo& info);
Napi::Value Mkfifo(const Napi::CallbackInfo& info);        // (path, mode)
Napi::Value SocketPair(const Napi::CallbackInfo& info);    // () -> [fd, fd]
Napi::Value ConnectUnix(const Napi::CallbackInfo& info);   // (path) -> fd
Napi::Value ReceiveFd(const Napi::CallbackInfo& info);     // (socket) -> fd

}  // namespace ocits
