// Joining the container's cgroup from the child, before it runs anything.
#pragma once
#include "plan.h"

namespace ocits::init {

// Completes what clone started (see CgroupJoin) and closes join's fds.
// Reports a failure over socket as kStepCgroup and exits.
void JoinCgroup(const CgroupJoin& join, int socket);

}  // namespace ocits::init
