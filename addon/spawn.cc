#include "spawn.h"

#include <errno.h>
#include <stddef.h>
#include <linux/nsfs.h>
#include <linux/sched.h>
#include <signal.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "errors.h"
#include "idmap.h"
#include "init/fd_passing.h"
#include "init/plan.h"

namespace ocits {

namespace {

using init::Plan;

}  // namespace

void ReadProcess(PlanStorage& storage, const Napi::Object& process, init::ProcessPlan& out) {
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
    init::Rlimit& rlimit = storage.rlimits.emplace_back();
    rlimit.resource = Int(limit, "resource");
    rlimit.soft = Bits(limit, "soft");
    rlimit.hard = Bits(limit, "hard");
  }
  out.rlimits = storage.rlimits.data();
  out.rlimit_count = storage.rlimits.size();
  Napi::Value capabilities = process.Get("capabilities");
  out.capabilities.apply = !capabilities.IsNull();
  if (out.capabilities.apply) {
    Napi::Object sets = capabilities.As<Napi::Object>();
    out.capabilities.bounding = Bits(sets, "bounding");
    out.capabilities.effective = Bits(sets, "effective");
    out.capabilities.permitted = Bits(sets, "permitted");
    out.capabilities.inheritable = Bits(sets, "inheritable");
    out.capabilities.ambient = Bits(sets, "ambient");
    out.capabilities.last_cap = Int(sets, "lastCap");
  }
  Napi::Value seccomp = process.Get("seccomp");
  if (!seccomp.IsNull()) {
    Napi::Object filter = seccomp.As<Napi::Object>();
    Napi::Buffer<char> program = filter.Get("program").As<Napi::Buffer<char>>();
    storage.seccomp_program.assign(program.Data(), program.Data() + program.Length());
    out.seccomp.program = storage.seccomp_program.data();
    out.seccomp.length = (unsigned short)(program.Length() / 8);  // sizeof(struct sock_filter)
    out.seccomp.flags = Uint(filter, "flags");
    out.seccomp.listener = Bool(filter, "listener");
  }
  out.personality = Int64(process, "personality");
  Napi::Value scheduler = process.Get("scheduler");
  out.scheduler.apply = !scheduler.IsNull();
  if (out.scheduler.apply) {
    Napi::Object attributes = scheduler.As<Napi::Object>();
    out.scheduler.policy = Uint(attributes, "policy");
    out.scheduler.flags = Bits(attributes, "flags");
    out.scheduler.nice = Int(attributes, "nice");
    out.scheduler.priority = Uint(attributes, "priority");
    out.scheduler.runtime = Bits(attributes, "runtime");
    out.scheduler.deadline = Bits(attributes, "deadline");
    out.scheduler.period = Bits(attributes, "period");
  }
  out.io_priority = Int(process, "ioPriority");
  out.set_groups = Bool(process, "setGroups");
  Napi::Array lsm_writes = process.Get("lsmWrites").As<Napi::Array>();
  Napi::Array lsm_paths = Napi::Array::New(process.Env(), lsm_writes.Length());
  Napi::Array lsm_values = Napi::Array::New(process.Env(), lsm_writes.Length());
  for (uint32_t i = 0; i < lsm_writes.Length(); ++i) {
    Napi::Object write = lsm_writes.Get(i).As<Napi::Object>();
    lsm_paths.Set(i, write.Get("path"));
    lsm_values.Set(i, write.Get("value"));
  }
  out.lsm_paths = storage.StringArray(lsm_paths);
  out.lsm_values = storage.StringArray(lsm_values);
  out.lsm_count = lsm_writes.Length();
  out.terminal = Bool(process, "terminal");
  out.console_rows = (unsigned short)Uint(process, "consoleRows");
  out.console_columns = (unsigned short)Uint(process, "consoleColumns");
  out.console_socket = Int(process, "consoleSocket");
}

void ReadCgroupJoin(PlanStorage& storage, const Napi::Value& source, init::CgroupJoin& out) {
  Napi::Object join = source.As<Napi::Object>();
  out.dir = Int(join, "dir");
  out.dir_needs_write = false;
  Napi::Array tasks = join.Get("tasks").As<Napi::Array>();
  for (uint32_t i = 0; i < tasks.Length(); ++i) storage.cgroup_tasks.push_back(tasks.Get(i).As<Napi::Number>().Int32Value());
  out.tasks = storage.cgroup_tasks.data();
  out.tasks_count = storage.cgroup_tasks.size();
}

namespace {

void ReadNamespaces(PlanStorage& storage, init::NamespaceEntry& out, const Napi::Object& source) {
  Napi::Array joins = source.Get("joins").As<Napi::Array>();
  for (uint32_t i = 0; i < joins.Length(); ++i) {
    Napi::Object join = joins.Get(i).As<Napi::Object>();
    init::NamespaceJoin& entry = storage.namespace_joins.emplace_back();
    entry.fd = Int(join, "fd");
    entry.type = Int(join, "type");
    entry.path = storage.String(join.Get("path"));
  }
  out.joins = storage.namespace_joins.data();
  out.join_count = storage.namespace_joins.size();
  out.new_user = Bool(source, "newUser");
  out.become_root = Bool(source, "becomeRoot");
  out.unshare_flags = Int(source, "unshareFlags");
  out.time_offsets = storage.String(source.Get("timeOffsets"));
  out.fork_init = Bool(source, "forkInit");
}

// The user namespace the container joins by path, for an idmapped bind
// that takes the container's mapping: a copy of its fd, since the init
// turns each mount's fd into the mapped tree (namespaces.cc).
int DuplicateJoinedUserNamespace(const PlanStorage& storage, std::string* failure) {
  for (const init::NamespaceJoin& join : storage.namespace_joins) {
    if (join.type != CLONE_NEWUSER) continue;
    int fd = fcntl(join.fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) *failure = std::string("dup of the joined user namespace: ") + strerror(errno);
    return fd;
  }
  *failure = "the container joins no user namespace";
  return -1;
}

// The idmapped binds' user namespaces, made here in the parent (see
// idmap.h). Returns false with an exception pending when one cannot be made.
bool OpenMountNamespaces(Napi::Env env, const Napi::Object& source, Plan& plan, PlanStorage& storage,
                         MountNamespaceFds& namespaces) {
  Napi::Array mounts = source.Get("mounts").As<Napi::Array>();
  for (uint32_t i = 0; i < mounts.Length(); ++i) {
    Napi::Object mount = mounts.Get(i).As<Napi::Object>();
    Napi::Value idmap = mount.Get("idmap");
    if (idmap.IsNull()) continue;
    Napi::Object mapping = idmap.As<Napi::Object>();
    init::MountStep& step = storage.mounts[i];
    std::string failure;
    int userns = mapping.Get("uidMap").IsNull() ? DuplicateJoinedUserNamespace(storage, &failure)
                                                : OpenUserNamespace(storage.String(mapping.Get("uidMap")),
                                                                    storage.String(mapping.Get("gidMap")), &failure);
    if (userns < 0) {
      std::string where = "/mounts/" + std::to_string(Int(mount, "configIndex")) + ": idmapped mount: " + failure;
      Napi::Error::New(env, where).ThrowAsJavaScriptException();
      return false;
    }
    namespaces.fds.push_back(userns);
    step.userns = userns;
    step.idmap_recursive = Bool(mapping, "recursive");
  }
  plan.mount_userns = namespaces.fds.data();
  plan.mount_userns_count = namespaces.fds.size();
  return true;
}

void ReadPlan(PlanStorage& storage, Plan& plan, const Napi::Object& source) {
  plan.clone_flags = Int(source, "cloneFlags");
  ReadNamespaces(storage, plan.namespaces, source.Get("namespaces").As<Napi::Object>());
  ReadCgroupJoin(storage, source.Get("cgroup"), plan.cgroup);
  plan.unshare_cgroup = Bool(source, "unshareCgroup");
  plan.hostname = storage.String(source.Get("hostname"));
  plan.domainname = storage.String(source.Get("domainname"));
  plan.rootfs = storage.String(source.Get("rootfs"));
  plan.root_propagation = Uint(source, "rootPropagation");
  plan.rootfs_parent_mount = storage.String(source.Get("rootfsParentMount"));
  plan.readonly_root = Bool(source, "readonlyRoot");
  plan.dev_remount = Uint(source, "devRemount");
  plan.root_entry = static_cast<init::RootEntry>(Int(source, "rootEntry"));
  plan.hidden_mounts = storage.Paths(source.Get("hiddenMounts"), &plan.hidden_count);

  Napi::Array mounts = source.Get("mounts").As<Napi::Array>();
  for (uint32_t i = 0; i < mounts.Length(); ++i) {
    Napi::Object mount = mounts.Get(i).As<Napi::Object>();
    init::MountStep& step = storage.mounts.emplace_back();
    step.source = storage.String(mount.Get("source"));
    step.target = storage.String(mount.Get("target"));
    step.fstype = storage.String(mount.Get("fstype"));
    step.flags = Uint(mount, "flags");
    step.data = storage.String(mount.Get("data"));
    step.remount = Uint(mount, "remount");
    step.propagation = Uint(mount, "propagation");
    step.ensure = Int(mount, "ensure");
    step.copy_up = Bool(mount, "copyUp");
    step.fallback_source = storage.String(mount.Get("fallbackSource"));
    step.fallback_remount = Uint(mount, "fallbackRemount");
    step.attr_set = Uint(mount, "attrSet");
    step.attr_clr = Uint(mount, "attrClr");
    step.userns = -1;  // OpenMountNamespaces sets it for an idmapped bind
    step.idmap_recursive = false;
  }
  plan.mounts = storage.mounts.data();
  plan.mount_count = storage.mounts.size();

  Napi::Array devices = source.Get("devices").As<Napi::Array>();
  for (uint32_t i = 0; i < devices.Length(); ++i) {
    Napi::Object device = devices.Get(i).As<Napi::Object>();
    init::DeviceNode& node = storage.devices.emplace_back();
    node.path = storage.String(device.Get("path"));
    node.bind_source = storage.String(device.Get("bindSource"));
    node.mode = (mode_t)Uint(device, "mode");
    node.dev = makedev(Uint(device, "major"), Uint(device, "minor"));
    node.uid = Uint(device, "uid");
    node.gid = Uint(device, "gid");
  }
  plan.devices = storage.devices.data();
  plan.device_count = storage.devices.size();

  Napi::Array symlinks = source.Get("symlinks").As<Napi::Array>();
  for (uint32_t i = 0; i < symlinks.Length(); ++i) {
    Napi::Object link = symlinks.Get(i).As<Napi::Object>();
    init::Symlink& symlink = storage.symlinks.emplace_back();
    symlink.target = storage.String(link.Get("target"));
    symlink.path = storage.String(link.Get("path"));
    symlink.replace = Bool(link, "replace");
  }
  plan.symlinks = storage.symlinks.data();
  plan.symlink_count = storage.symlinks.size();

  plan.masked_paths = storage.Paths(source.Get("maskedPaths"), &plan.masked_count);
  plan.readonly_paths = storage.Paths(source.Get("readonlyPaths"), &plan.readonly_count);
  Napi::Array sysctls = source.Get("sysctls").As<Napi::Array>();
  for (uint32_t i = 0; i < sysctls.Length(); ++i) {
    Napi::Object sysctl = sysctls.Get(i).As<Napi::Object>();
    init::Sysctl& entry = storage.sysctls.emplace_back();
    entry.path = storage.String(sysctl.Get("path"));
    entry.value = storage.String(sysctl.Get("value"));
  }
  plan.sysctls = storage.sysctls.data();
  plan.sysctl_count = storage.sysctls.size();
  plan.create_container_hooks = storage.Hooks(source.Get("createContainerHooks"), &plan.create_container_count);
  plan.start_container_hooks = storage.Hooks(source.Get("startContainerHooks"), &plan.start_container_count);
  plan.exec_fifo = storage.String(source.Get("execFifo"));
  plan.passed_fds = Int(source, "passedFds");
  ReadProcess(storage, source.Get("process").As<Napi::Object>(), plan.process);
  storage.state_buffer.resize(Uint(source, "stateBufferSize"));
  plan.state_buffer = storage.state_buffer.data();
  plan.state_buffer_size = storage.state_buffer.size();
}

long Clone(unsigned long clone_flags, init::CgroupJoin* cgroup) {
  clone_args args;
  memset(&args, 0, sizeof args);
  args.flags = clone_flags;
  args.exit_signal = SIGCHLD;
  if (cgroup != nullptr && cgroup->dir >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = (uint64_t)cgroup->dir;
  }
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid >= 0 || (errno != ENOSYS && errno != E2BIG)) return pid;
  if (cgroup != nullptr) cgroup->dir_needs_write = cgroup->dir >= 0;
  return syscall(SYS_clone, clone_flags | SIGCHLD, 0, nullptr, nullptr, 0);
}

}  // namespace

Napi::Value CloneWithSocket(Napi::Env env, unsigned long clone_flags, init::CgroupJoin* cgroup, int* child_socket,
                            ChildMain child, const void* plan) {
  int sockets[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sockets) != 0) {
    return ThrowErrno(env, errno, "socketpair");
  }
  *child_socket = sockets[1];

  // Block every signal across clone so that none runs one of Node's handlers
  // in the child before it resets them.
  sigset_t all;
  sigset_t previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  long pid = Clone(clone_flags, cgroup);
  if (pid == 0) {
    close(sockets[0]);  // or a dead parent would never look like one
    child(plan);
    _exit(127);  // a child main never returns; never let it run Node's code
  }
  int clone_error = errno;
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  close(sockets[1]);
  if (pid < 0) {
    close(sockets[0]);
    return ThrowErrno(env, clone_error, "clone3");
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, (double)pid));
  result.Set("socket", Napi::Number::New(env, sockets[0]));
  return result;
}

Napi::Value SpawnContainerInit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsObject()) {
    Napi::TypeError::New(env, "spawnContainerInit(plan): bad arguments").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  PlanStorage storage;
  Plan plan = {};
  ReadPlan(storage, plan, info[0].As<Napi::Object>());
  if (env.IsExceptionPending()) return env.Undefined();  // a field of the wrong type
  MountNamespaceFds namespaces;
  if (!OpenMountNamespaces(env, info[0].As<Napi::Object>(), plan, storage, namespaces)) return env.Undefined();

  return CloneWithSocket(env, (unsigned long)plan.clone_flags, &plan.cgroup, &plan.sync_socket,
                         [](const void* child_plan) { init::RunContainerInit(*static_cast<const Plan*>(child_plan)); },
                         &plan);
}

Napi::Value InitReceive(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int socket = info[0].As<Napi::Number>().Int32Value();
  init::Message message;
  long count;
  bool reset_seen = false;
  for (;;) {
    count = recv(socket, &message, sizeof message, 0);
    if (count >= 0) break;
    if (errno == EINTR) continue;
    // A child that exits with data of ours unread (a failure before it read
    // the state documents) resets the connection. The kernel may report that
    // once, ahead of the messages the child sent before it exited, which the
    // next recv returns (or end of file).
    if (errno == ECONNRESET && !reset_seen) {
      reset_seen = true;
      continue;
    }
    return ThrowErrno(env, errno, "recv");
  }
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

Napi::Value NamespaceType(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int type = ioctl(fd, NS_GET_NSTYPE);
  if (type < 0) return ThrowErrno(env, errno, "ioctl NS_GET_NSTYPE");
  return Napi::Number::New(env, type);
}

Napi::Value InitStepNames(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array names = Napi::Array::New(env, init::kStepCount);
  for (uint32_t i = 0; i < init::kStepCount; ++i) names.Set(i, init::kStepNames[i]);
  return names;
}

Napi::Value InitMessageFormat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object kinds = Napi::Object::New(env);
  kinds.Set("mounted", Napi::Number::New(env, init::kMessageMounted));
  kinds.Set("ready", Napi::Number::New(env, init::kMessageReady));
  kinds.Set("error", Napi::Number::New(env, init::kMessageError));
  kinds.Set("continue", Napi::Number::New(env, init::kMessageContinue));
  kinds.Set("execPid", Napi::Number::New(env, init::kMessageExecPid));
  kinds.Set("seccompListener", Napi::Number::New(env, init::kMessageSeccompListener));
  kinds.Set("mapIds", Napi::Number::New(env, init::kMessageMapIds));
  kinds.Set("initPid", Napi::Number::New(env, init::kMessageInitPid));
  Napi::Object format = Napi::Object::New(env);
  format.Set("kinds", kinds);
  format.Set("size", (double)sizeof(init::Message));
  format.Set("detailOffset", (double)offsetof(init::Message, detail));
  return format;
}

}  // namespace ocits
