// Seccomp filters compiled with libseccomp in the parent, before clone():
// libseccomp allocates, which the cloned child must not. TypeScript decides
// what the filter says (src/plan/seccomp.ts); these functions only
// resolve names, build the filter and export it as a raw BPF program.
#pragma once
#include <napi.h>

namespace ocits {

// seccompSyscallNumber(name): number, libseccomp's number for a syscall on
// the native architecture, or -1 when libseccomp does not know the name.
Napi::Value SeccompSyscallNumber(const Napi::CallbackInfo& info);

// seccompArchToken(name): number, the AUDIT_ARCH_* token for a libseccomp
// architecture name ("x86_64"), or 0 when this libseccomp does not know it.
Napi::Value SeccompArchToken(const Napi::CallbackInfo& info);

// compileSeccompFilter({defaultAction, architectures, rules}): Buffer, the
// exported struct sock_filter array.
Napi::Value CompileSeccompFilter(const Napi::CallbackInfo& info);

// seccompFlagSupported(flags): boolean, whether the kernel accepts these
// SECCOMP_FILTER_FLAG_* bits for seccomp(SECCOMP_SET_MODE_FILTER).
Napi::Value SeccompFlagSupported(const Napi::CallbackInfo& info);

// sendWithFd(socket, payload, fd): one sendmsg with payload and fd as SCM_RIGHTS.
Napi::Value SendWithFd(const Napi::CallbackInfo& info);

}  // namespace ocits
