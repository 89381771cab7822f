// The cgroup v2 device controller's mechanism: loading a
// BPF_PROG_TYPE_CGROUP_DEVICE program and attaching it to a cgroup. v2 has
// no devices.allow/deny files; the program decides every open and mknod of
// a device node by a process in the cgroup. TypeScript builds the program.
#pragma once
#include <napi.h>

namespace ocits {

// (cgroupDir, instructions: Buffer of struct bpf_insn, license) -> undefined.
// Attaches with BPF_F_ALLOW_MULTI, then detaches the device programs that
// were attached to that cgroup before, so a later call replaces the rules.
Napi::Value AttachDeviceProgram(const Napi::CallbackInfo& info);
// (cgroupDir) -> ids of the device programs attached directly to it.
Napi::Value DeviceProgramIds(const Napi::CallbackInfo& info);

}  // namespace ocits
