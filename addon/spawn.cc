#include "spawn.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <deque>
#include <string>
#include <vector>

#include "errors.h"
#include "init/fd_passing.h"
#include "init/plan.h"

namespace ocits {

namespace {

using init::Plan;

// Owns every string and array the Plan points into. Built completely before
// clone(), so the child reads a finished copy and never allocates.
class PlanStorage {
 public:
  Plan plan = {};

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
      hooks.push_back({String(hook.Get("path")), StringArray(hook.Get("args")), StringArray(hook.Get("env")),
                       hook.Get("timeout").As<Napi::Number>().Int32Value()});
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
  std::vector<int> cgroup_procs;
  std::vector<init::Sysctl> sysctls;
  std::vector<char> seccomp_program;

 private:
  std::deque<std::string> strings_;
  std::deque<std::vector<char*>> arrays_;
  std::deque<std::vector<init::HookCommand>> hooks_;
};

uint64_t Bits(const Napi::Value& value) {
  bool lossless;
  return value.As<Napi::BigInt>().Uint64Value(&lossless);
}

int32_t Int(const Napi::Object& object, const char* key) { return object.Get(key).As<Napi::Number>().Int32Value(); }
uint32_t Uint(const Napi::Object& object, const char* key) { return object.Get(key).As<Napi::Number>().Uint32Value(); }
bool Bool(const Napi::Object& object, const char* key) { return object.Get(key).As<Napi::Boolean>().Value(); }

void ReadProcess(PlanStorage& storage, const Napi::Object& process) {
  init::ProcessPlan& out = storage.plan.process;
  out.argv = storage.StringArray(process.Get("args"));
  out.envp = storage.StringArray(process.Get("env"));
  out.path_env = storage.String(process.Get("pathEnv"));
  out.cwd = storage.String(process.Get("cwd"));
  out.uid = Uint(process, "uid");
  out.gid = Uint(process, "gid");
  Napi::Array groups = process.Get("additionalGids").As<Napi::Array>();
  for (uint32_t i = 0; i < groups.Length(); ++i) storage.groups.push_back(groups.Get(i).As<Napi::Number>().Uint32Value());
  out.groups = storage.groups.data();
  out.group_count = storage.groups.size();
  out.umask = Uint(process, "umask");
  out.no_new_privileges = Bool(process, "noNewPrivileges");
  Napi::Array rlimits = process.Get("rlimits").As<Napi::Array>();
  for (uint32_t i = 0; i < rlimits.Length(); ++i) {
    Napi::Object limit = rlimits.Get(i).As<Napi::Object>();
    storage.rlimits.push_back({Int(limit, "resource"), Bits(limit.Get("soft")), Bits(limit.Get("hard"))});
  }
  out.rlimits = storage.rlimits.data();
  out.rlimit_count = storage.rlimits.size();
  Napi::Value capabilities = process.Get("capabilities");
  out.capabilities.apply = !capabilities.IsNull();
  if (out.capabilities.apply) {
    Napi::Object sets = capabilities.As<Napi::Object>();
    out.capabilities.bounding = Bits(sets.Get("bounding"));
    out.capabilities.effective = Bits(sets.Get("effective"));
    out.capabilities.permitted = Bits(sets.Get("permitted"));
    out.capabilities.inheritable = Bits(sets.Get("inheritable"));
    out.capabilities.ambient = Bits(sets.Get("ambient"));
    out.capabilities.last_cap = Int(sets, "lastCap");
  }
  out.personality = process.Get("personality").As<Napi::Number>().Int64Value();
  Napi::Value scheduler = process.Get("scheduler");
  out.scheduler.apply = !scheduler.IsNull();
  if (out.scheduler.apply) {
    Napi::Object attributes = scheduler.As<Napi::Object>();
    out.scheduler.policy = Uint(attributes, "policy");
    out.scheduler.flags = Bits(attributes.Get("flags"));
    out.scheduler.nice = Int(attributes, "nice");
    out.scheduler.priority = Uint(attributes, "priority");
    out.scheduler.runtime = Bits(attributes.Get("runtime"));
    out.scheduler.deadline = Bits(attributes.Get("deadline"));
    out.scheduler.period = Bits(attributes.Get("period"));
  }
  out.io_priority = Int(process, "ioPriority");
  out.terminal = Bool(process, "terminal");
  out.console_socket = Int(process, "consoleSocket");
}

void ReadPlan(PlanStorage& storage, const Napi::Object& source) {
  Plan& plan = storage.plan;
  plan.clone_flags = Int(source, "cloneFlags");
  Napi::Array procs = source.Get("cgroupProcs").As<Napi::Array>();
  for (uint32_t i = 0; i < procs.Length(); ++i) storage.cgroup_procs.push_back(procs.Get(i).As<Napi::Number>().Int32Value());
  plan.cgroup_procs = storage.cgroup_procs.data();
  plan.cgroup_procs_count = storage.cgroup_procs.size();
  plan.unshare_cgroup = Bool(source, "unshareCgroup");
  plan.hostname = storage.String(source.Get("hostname"));
  plan.domainname = storage.String(source.Get("domainname"));
  plan.rootfs = storage.String(source.Get("rootfs"));
  plan.root_propagation = Uint(source, "rootPropagation");
  plan.rootfs_parent_mount = storage.String(source.Get("rootfsParentMount"));
  plan.readonly_root = Bool(source, "readonlyRoot");
  plan.no_pivot = Bool(source, "noPivot");

  Napi::Array mounts = source.Get("mounts").As<Napi::Array>();
  for (uint32_t i = 0; i < mounts.Length(); ++i) {
    Napi::Object mount = mounts.Get(i).As<Napi::Object>();
    storage.mounts.push_back({storage.String(mount.Get("source")), storage.String(mount.Get("target")),
                              storage.String(mount.Get("fstype")), Uint(mount, "flags"),
                              storage.String(mount.Get("data")), Uint(mount, "remount"),
                              Uint(mount, "propagation"), Int(mount, "ensure")});
  }
  plan.mounts = storage.mounts.data();
  plan.mount_count = storage.mounts.size();

  Napi::Array devices = source.Get("devices").As<Napi::Array>();
  for (uint32_t i = 0; i < devices.Length(); ++i) {
    Napi::Object device = devices.Get(i).As<Napi::Object>();
    storage.devices.push_back({storage.String(device.Get("path")), (mode_t)Uint(device, "mode"),
                               makedev(Uint(device, "major"), Uint(device, "minor")), Uint(device, "uid"),
                               Uint(device, "gid")});
  }
  plan.devices = storage.devices.data();
  plan.device_count = storage.devices.size();

  Napi::Array symlinks = source.Get("symlinks").As<Napi::Array>();
  for (uint32_t i = 0; i < symlinks.Length(); ++i) {
    Napi::Object link = symlinks.Get(i).As<Napi::Object>();
    storage.symlinks.push_back({storage.String(link.Get("target")), storage.String(link.Get("path")),
                                Bool(link, "replace")});
  }
  plan.symlinks = storage.symlinks.data();
  plan.symlink_count = storage.symlinks.size();

  plan.masked_paths = storage.Paths(source.Get("maskedPaths"), &plan.masked_count);
  plan.readonly_paths = storage.Paths(source.Get("readonlyPaths"), &plan.readonly_count);
  Napi::Array sysctls = source.Get("sysctls").As<Napi::Array>();
  for (uint32_t i = 0; i < sysctls.Length(); ++i) {
    Napi::Object sysctl = sysctls.Get(i).As<Napi::Object>();
    storage.sysctls.push_back({storage.String(sysctl.Get("path")), storage.String(sysctl.Get("value"))});
  }
  plan.sysctls = storage.sysctls.data();
  plan.sysctl_count = storage.sysctls.size();
  Napi::Value seccomp = source.Get("seccomp");
  if (!seccomp.IsNull()) {
    Napi::Object filter = seccomp.As<Napi::Object>();
    Napi::Buffer<char> program = filter.Get("program").As<Napi::Buffer<char>>();
    storage.seccomp_program.assign(program.Data(), program.Data() + program.Length());
    plan.seccomp.program = storage.seccomp_program.data();
    plan.seccomp.length = (unsigned short)(program.Length() / 8);  // sizeof(struct sock_filter)
    plan.seccomp.flags = Uint(filter, "flags");
    plan.seccomp.listener = Bool(filter, "listener");
  }
  plan.create_container_hooks = storage.Hooks(source.Get("createContainerHooks"), &plan.create_container_count);
  plan.start_container_hooks = storage.Hooks(source.Get("startContainerHooks"), &plan.start_container_count);
  plan.exec_fifo = storage.String(source.Get("execFifo"));
  ReadProcess(storage, source.Get("process").As<Napi::Object>());
  storage.state_buffer.resize(Uint(source, "stateBufferSize"));
  plan.state_buffer = storage.state_buffer.data();
  plan.state_buffer_size = storage.state_buffer.size();
}

}  // namespace

Napi::Value SpawnContainerInit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsObject()) {
    Napi::TypeError::New(env, "spawnContainerInit(plan): bad arguments").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  PlanStorage storage;
  ReadPlan(storage, info[0].As<Napi::Object>());
  if (env.IsExceptionPending()) return env.Undefined();  // a field of the wrong type

  int sockets[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sockets) != 0) {
    return ThrowErrno(env, errno, "socketpair");
  }
  storage.plan.sync_socket = sockets[1];

  // Block every signal across clone so that none runs one of Node's handlers
  // in the child before it resets them.
  sigset_t all;
  sigset_t previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  long pid = syscall(SYS_clone, (unsigned long)storage.plan.clone_flags | SIGCHLD, 0, nullptr, nullptr, 0);
  if (pid == 0) {
    close(sockets[0]);  // or a dead parent would never look like one
    init::RunContainerInit(storage.plan);
  }
  int clone_error = errno;
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  close(sockets[1]);
  if (pid < 0) {
    close(sockets[0]);
    return ThrowErrno(env, clone_error, "clone");
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, (double)pid));
  result.Set("socket", Napi::Number::New(env, sockets[0]));
  return result;
}

Napi::Value InitReceive(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int socket = info[0].As<Napi::Number>().Int32Value();
  init::Message message;
  long count;
  do {
    count = recv(socket, &message, sizeof message, 0);
  } while (count < 0 && errno == EINTR);
  if (count < 0) return ThrowErrno(env, errno, "recv");
  return Napi::Buffer<char>::Copy(env, reinterpret_cast<char*>(&message), (size_t)count);
}

Napi::Value InitReceiveWithFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int socket = info[0].As<Napi::Number>().Int32Value();
  init::Message message;
  int fd;
  long count = init::ReceiveWithFd(socket, &message, sizeof message, &fd);
  if (count < 0) return ThrowErrno(env, errno, "recvmsg");
  Napi::Object result = Napi::Object::New(env);
  result.Set("message", Napi::Buffer<char>::Copy(env, reinterpret_cast<char*>(&message), (size_t)count));
  result.Set("fd", Napi::Number::New(env, fd));
  return result;
}

Napi::Value InitSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int socket = info[0].As<Napi::Number>().Int32Value();
  Napi::Buffer<char> payload = info[1].As<Napi::Buffer<char>>();
  long count;
  do {
    count = send(socket, payload.Data(), payload.Length(), MSG_NOSIGNAL);
  } while (count < 0 && errno == EINTR);
  if (count < 0) return ThrowErrno(env, errno, "send");
  return env.Undefined();
}

Napi::Value InitStepNames(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array names = Napi::Array::New(env, init::kStepCount);
  for (uint32_t i = 0; i < init::kStepCount; ++i) names.Set(i, init::kStepNames[i]);
  return names;
}

}  // namespace ocits
