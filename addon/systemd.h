// Talking to systemd's manager over D-Bus (libsystemd's sd-bus), for the
// systemd cgroup driver. TypeScript decides the unit and its properties; this
// file only marshals them, makes the calls and waits for the jobs.
#pragma once
#include <napi.h>

namespace ocits {

// systemdConnect(user): a connection to the system bus, or the caller's user bus.
Napi::Value SystemdConnect(const Napi::CallbackInfo& info);
// systemdStartTransientUnit(bus, name, properties, timeoutMs): waits for the job.
Napi::Value SystemdStartTransientUnit(const Napi::CallbackInfo& info);
// systemdStopUnit(bus, name, mode, timeoutMs): false when there is no such unit.
Napi::Value SystemdStopUnit(const Napi::CallbackInfo& info);
// systemdSetUnitProperties(bus, name, properties).
Napi::Value SystemdSetUnitProperties(const Napi::CallbackInfo& info);
// systemdAttachProcesses(bus, name, subcgroup, pids): into a running unit's cgroup (or one below it).
Napi::Value SystemdAttachProcesses(const Napi::CallbackInfo& info);
// systemdUnitActiveState(bus, name): the unit's ActiveState, null when systemd has no such unit loaded.
Napi::Value SystemdUnitActiveState(const Napi::CallbackInfo& info);
// systemdManagerProperty(bus, name): a string property of the manager (ControlGroup, Version).
Napi::Value SystemdManagerProperty(const Napi::CallbackInfo& info);

}  // namespace ocits
