// The child's side of seccomp: loading the filter compiled before clone()
// (addon/seccomp_filter.cc) with the raw seccomp(2) syscall, which is
// async-signal-safe where libseccomp's loader is not.
#pragma once
#include "plan.h"

namespace ocits::init {

// Loads process.seccomp if there is one. With SECCOMP_FILTER_FLAG_NEW_LISTENER
// the notify fd goes to the parent over socket (kMessageSeccompListener),
// which hands it to the listener and then sends kMessageContinue, as runc's
// procSeccomp/procSeccompDone.
void LoadSeccomp(const ProcessPlan& process, int socket);

}  // namespace ocits::init
