// The addon's entry point: it only registers functions. Each kernel concern
// lives in its own file; TypeScript decides policy and calls these mechanisms.
#include <napi.h>

#include "bpf.h"
#include "exec.h"
#include "lock.h"
#include "unmount.h"
#include "process_control.h"
#include "seccomp_filter.h"
#include "seccomp_info.h"
#include "spawn.h"
#include "systemd.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("flock", Napi::Function::New(env, ocits::Flock, "flock"));
  exports.Set("seccompVersion", Napi::Function::New(env, ocits::SeccompVersion, "seccompVersion"));
  exports.Set("seccompSyscallNumber", Napi::Function::New(env, ocits::SeccompSyscallNumber, "seccompSyscallNumber"));
  exports.Set("seccompArchToken", Napi::Function::New(env, ocits::SeccompArchToken, "seccompArchToken"));
  exports.Set("compileSeccompFilter", Napi::Function::New(env, ocits::CompileSeccompFilter, "compileSeccompFilter"));
  exports.Set("seccompFlagSupported", Napi::Function::New(env, ocits::SeccompFlagSupported, "seccompFlagSupported"));
  exports.Set("sendWithFd", Napi::Function::New(env, ocits::SendWithFd, "sendWithFd"));
  exports.Set("initReceiveWithFd", Napi::Function::New(env, ocits::InitReceiveWithFd, "initReceiveWithFd"));
  exports.Set("spawnContainerInit", Napi::Function::New(env, ocits::SpawnContainerInit, "spawnContainerInit"));
  exports.Set("initReceive", Napi::Function::New(env, ocits::InitReceive, "initReceive"));
  exports.Set("detachMount", Napi::Function::New(env, ocits::DetachMount, "detachMount"));
  exports.Set("initSend", Napi::Function::New(env, ocits::InitSend, "initSend"));
  exports.Set("namespaceType", Napi::Function::New(env, ocits::NamespaceType, "namespaceType"));
  exports.Set("initStepNames", Napi::Function::New(env, ocits::InitStepNames, "initStepNames"));
  exports.Set("initMessageFormat", Napi::Function::New(env, ocits::InitMessageFormat, "initMessageFormat"));
  exports.Set("spawnExecProcess", Napi::Function::New(env, ocits::SpawnExecProcess, "spawnExecProcess"));
  exports.Set("becomeChildSubreaper", Napi::Function::New(env, ocits::BecomeChildSubreaper, "becomeChildSubreaper"));
  exports.Set("waitForExit", Napi::Function::New(env, ocits::WaitForExit, "waitForExit"));
  exports.Set("reap", Napi::Function::New(env, ocits::Reap, "reap"));
  exports.Set("pidfdOpen", Napi::Function::New(env, ocits::PidfdOpen, "pidfdOpen"));
  exports.Set("pidfdSendSignal", Napi::Function::New(env, ocits::PidfdSendSignal, "pidfdSendSignal"));
  exports.Set("waitReadable", Napi::Function::New(env, ocits::WaitReadable, "waitReadable"));
  exports.Set("copyWindowSize", Napi::Function::New(env, ocits::CopyWindowSize, "copyWindowSize"));
  exports.Set("mkfifo", Napi::Function::New(env, ocits::Mkfifo, "mkfifo"));
  exports.Set("socketPair", Napi::Function::New(env, ocits::SocketPair, "socketPair"));
  exports.Set("connectUnix", Napi::Function::New(env, ocits::ConnectUnix, "connectUnix"));
  exports.Set("receiveFd", Napi::Function::New(env, ocits::ReceiveFd, "receiveFd"));
  exports.Set("attachDeviceProgram", Napi::Function::New(env, ocits::AttachDeviceProgram, "attachDeviceProgram"));
  exports.Set("deviceProgramIds", Napi::Function::New(env, ocits::DeviceProgramIds, "deviceProgramIds"));
  exports.Set("systemdConnect", Napi::Function::New(env, ocits::SystemdConnect, "systemdConnect"));
  exports.Set("systemdStartTransientUnit", Napi::Function::New(env, ocits::SystemdStartTransientUnit, "systemdStartTransientUnit"));
  exports.Set("systemdStopUnit", Napi::Function::New(env, ocits::SystemdStopUnit, "systemdStopUnit"));
  exports.Set("systemdSetUnitProperties", Napi::Function::New(env, ocits::SystemdSetUnitProperties, "systemdSetUnitProperties"));
  exports.Set("systemdAttachProcesses", Napi::Function::New(env, ocits::SystemdAttachProcesses, "systemdAttachProcesses"));
  exports.Set("systemdUnitActiveState", Napi::Function::New(env, ocits::SystemdUnitActiveState, "systemdUnitActiveState"));
  exports.Set("systemdManagerProperty", Napi::Function::New(env, ocits::SystemdManagerProperty, "systemdManagerProperty"));
  return exports;
}

}  // namespace

NODE_API_MODULE(ocits, Init)
