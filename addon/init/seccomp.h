// The child's side of seccomp: loading the filter compiled before clone()
// (addon/seccomp_filter.cc) with the raw seccomp(2) syscall, which is
// async-signal-safe where libseccomp's loader is not.
#pragma once
#include "plan.h"

namespace ocits::init {

// Loads plan.seccomp if there is one. Returns the notify fd when the filter
// was loaded with SECCOMP_FILTER_FLAG_NEW_LISTENER, else -1.
int LoadSeccompFilter(const Plan& plan);

}  // namespace ocits::init
