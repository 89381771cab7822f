#include "exec.h"

#include <errno.h>
#include <sys/prctl.h>

#include <vector>

#include "errors.h"
#include "exec_plan.h"
#include "spawn.h"

namespace ocits {

namespace {

using exec::ExecPlan;
using exec::NamespaceFd;

// The storage an ExecPlan points into, besides the process's.
struct ExecStorage {
  PlanStorage process;
  std::vector<NamespaceFd> namespaces;
  std::vector<int> kept_fds;
};

void ReadExecPlan(ExecStorage& storage, ExecPlan& plan, const Napi::Object& source) {
  std::vector<int>& kept = storage.kept_fds;
  ReadCgroupJoin(storage.process, source.Get("cgroup"), plan.cgroup);
  kept.insert(kept.end(), storage.process.cgroup_tasks.begin(), storage.process.cgroup_tasks.end());
  if (plan.cgroup.dir >= 0) kept.push_back(plan.cgroup.dir);

  Napi::Array namespaces = source.Get("namespaces").As<Napi::Array>();
  for (uint32_t i = 0; i < namespaces.Length(); ++i) {
    Napi::Object ns = namespaces.Get(i).As<Napi::Object>();
    NamespaceFd& entry = storage.namespaces.emplace_back();
    entry.fd = Int(ns, "fd");
    entry.type = Int(ns, "type");
    entry.name = storage.process.String(ns.Get("name"));
    kept.push_back(storage.namespaces.back().fd);
  }
  plan.namespaces = storage.namespaces.data();
  plan.namespace_count = storage.namespaces.size();

  plan.preserved_fds = Int(source, "preservedFds");
  plan.oom_score_adj = storage.process.String(source.Get("oomScoreAdj"));
  plan.root = Int(source, "root");
  if (plan.root >= 0) kept.push_back(plan.root);
  for (int fd = 3; fd < 3 + plan.preserved_fds; ++fd) kept.push_back(fd);
  ReadProcess(storage.process, source.Get("process").As<Napi::Object>(), plan.process);
  if (plan.process.console_socket >= 0) kept.push_back(plan.process.console_socket);
  kept.push_back(-1);  // the sync socket's slot (see ExecPlan)
  plan.kept_fds = kept.data();
  plan.kept_count = kept.size();
}

}  // namespace

Napi::Value SpawnExecProcess(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsObject()) {
    Napi::TypeError::New(env, "spawnExecProcess(plan): bad arguments").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  ExecStorage storage;
  ExecPlan plan = {};
  ReadExecPlan(storage, plan, info[0].As<Napi::Object>());
  if (env.IsExceptionPending()) return env.Undefined();  // a field of the wrong type
  return CloneWithSocket(env, 0, &plan.cgroup, &plan.sync_socket,
                         [](const void* child_plan) { exec::RunExecChild(*static_cast<const ExecPlan*>(child_plan)); },
                         &plan);
}

Napi::Value BecomeChildSubreaper(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) return ThrowErrno(env, errno, "prctl(PR_SET_CHILD_SUBREAPER)");
  return env.Undefined();
}

}  // namespace ocits
