// The plan of `ocits exec` in C form: which namespaces and cgroups to join and
// which process to run. src/lifecycle/exec.ts computes it (src/addon-plan.ts
// declares it); exec.cc copies it before clone(), so the child only reads
// memory that was complete before it.
#pragma once
#include <stddef.h>

#include "init/plan.h"

namespace ocits::exec {

struct NamespaceFd {
  int fd;            // open /proc/<init>/ns/<name>
  int type;          // CLONE_NEW*, for setns to check
  const char* name;  // "net", for messages
};

struct ExecPlan {
  init::CgroupJoin cgroup;
  // In the order they are joined: user first, the mount namespace late.
  const NamespaceFd* namespaces;
  size_t namespace_count;
  // Every fd the child keeps once it starts: those above, the console
  // socket, the preserved fds, and in the last slot the sync socket, which
  // the child writes there itself (its number is known only at clone). All
  // others are closed.
  int* kept_fds;
  size_t kept_count;
  int preserved_fds;  // fds 3 .. 3+preserved_fds-1 pass to the process
  const char* oom_score_adj;  // written to /proc/self/oom_score_adj; nullptr: inherit ours
  // -1, or the container's root (/proc/<init>/root, O_PATH) to chroot to:
  // a container that shares our mount namespace has no root of its own there.
  int root;
  init::ProcessPlan process;
  int sync_socket;
};

// Runs in the cloned child; never returns. Only async-signal-safe code.
[[noreturn]] void RunExecChild(const ExecPlan& plan);

}  // namespace ocits::exec
