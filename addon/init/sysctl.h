// linux.sysctl, written through the container's own /proc: the child is in
// the container's namespaces, so the values land in them.
#pragma once
#include "plan.h"

namespace ocits::init {

// Writes every plan.sysctls entry, resolving its path inside the rootfs and
// refusing a file that is not on procfs.
void WriteSysctls(const Plan& plan, int root);

}  // namespace ocits::init
