// Starting a container's init process and talking to it until it is ready.
#pragma once
#include <napi.h>

#include <deque>
#include <string>
#include <vector>

#include "init/plan.h"
#include "napi_helpers.h"

namespace ocits {

// Owns every string and array a plan (init::Plan, exec::ExecPlan) points
// into. Built completely before clone(), so the child reads a finished copy
// and never allocates.
class PlanStorage {
 public:
  const char* String(const Napi::Value& value) {
    if (value.IsNull() || value.IsUndefined()) return nullptr;
    strings_.push_back(value.As<Napi::String>().Utf8Value());
    return strings_.back().c_str();
  }

  char* const* StringArray(const Napi::Value& value) {
    Napi::Array array = value.As<Napi::Array>();
    std::vector<char*>& pointers = arrays_.emplace_back();
    for (uint32_t i = 0; i < array.Length(); ++i) pointers.push_back(const_cast<char*>(String(array.Get(i))));
    pointers.push_back(nullptr);
    return pointers.data();
  }

  const char* const* Paths(const Napi::Value& value, size_t* count) {
    *count = value.As<Napi::Array>().Length();
    return StringArray(value);
  }

  const init::HookCommand* Hooks(const Napi::Value& value, size_t* count) {
    Napi::Array array = value.As<Napi::Array>();
    std::vector<init::HookCommand>& hooks = hooks_.emplace_back();
    for (uint32_t i = 0; i < array.Length(); ++i) {
      Napi::Object hook = array.Get(i).As<Napi::Object>();
      init::HookCommand& command = hooks.emplace_back();
      command.path = String(hook.Get("path"));
      command.argv = StringArray(hook.Get("args"));
      command.envp = StringArray(hook.Get("env"));
      command.timeout_seconds = Int(hook, "timeout");
    }
    *count = hooks.size();
    return hooks.data();
  }

  std::vector<init::MountStep> mounts;
  std::vector<init::DeviceNode> devices;
  std::vector<init::Symlink> symlinks;
  std::vector<init::Rlimit> rlimits;
  std::vector<gid_t> groups;
  std::vector<char> state_buffer;
  std::vector<int> cgroup_tasks;
  std::vector<init::Sysctl> sysctls;
  std::vector<char> seccomp_program;
  std::vector<init::NamespaceJoin> namespace_joins;

 private:
  std::deque<std::string> strings_;
  std::deque<std::vector<char*>> arrays_;
  std::deque<std::vector<init::HookCommand>> hooks_;
};

// Copies a ProcessPlan (src/addon-plan.ts) into out.
void ReadProcess(PlanStorage& storage, const Napi::Object& process, init::ProcessPlan& out);

// Copies a CgroupJoin (src/addon-plan.ts) into out.
void ReadCgroupJoin(PlanStorage& storage, const Napi::Value& source, init::CgroupJoin& out);

// Runs in a cloned child with the plan; never returns. Only async-signal-safe code.
using ChildMain = void (*)(const void* plan);

// Clones a child (clone_flags | SIGCHLD) that runs child(plan), connected to
// us by a SOCK_SEQPACKET socketpair: its end is stored in *child_socket (a
// field of plan) before the clone. Like fork(), the child runs on a copy of
// our stack. With cgroup->dir set it starts in that cgroup2 cgroup through
// clone3(CLONE_INTO_CGROUP); a kernel without it (before 5.7: ENOSYS or
// E2BIG) gets a plain clone and cgroup->dir_needs_write, for JoinCgroup.
// Returns { pid, socket } with our end, or throws.
Napi::Value CloneWithSocket(Napi::Env env, unsigned long clone_flags, init::CgroupJoin* cgroup, int* child_socket,
                            ChildMain child, const void* plan);

// spawnContainerInit(plan) -> { pid, socket }
Napi::Value SpawnContainerInit(const Napi::CallbackInfo& info);
// initReceive(socket) -> Buffer (one message; empty when the child is gone)
Napi::Value InitReceive(const Napi::CallbackInfo& info);
// initReceiveWithFd(socket): {message: Buffer, fd: number}; fd is -1 when
// the message carried none (SCM_RIGHTS).
Napi::Value InitReceiveWithFd(const Napi::CallbackInfo& info);
// initSend(socket, payload: Buffer)
Napi::Value InitSend(const Napi::CallbackInfo& info);
// namespaceType(fd) -> the CLONE_NEW* type of an open namespace file (NS_GET_NSTYPE)
Napi::Value NamespaceType(const Napi::CallbackInfo& info);
// The init steps' names, indexed as in messages.
Napi::Value InitStepNames(const Napi::CallbackInfo& info);

// The message kinds by name and the layout of init::Message, so TypeScript
// reads the wire format from its one definition in plan.h.
Napi::Value InitMessageFormat(const Napi::CallbackInfo& info);

}  // namespace ocits
