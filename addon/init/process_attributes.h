// The process's execution domain and scheduling: linux.personality,
// process.scheduler and process.ioPriority, each one raw syscall.
#pragma once
#include "plan.h"

namespace ocits::init {

// personality(2), sched_setattr(2) and ioprio_set(2), for the fields the plan sets.
void ApplyProcessAttributes(const ProcessPlan& process, int socket);

}  // namespace ocits::init
