#include "seccomp.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "safe.h"

namespace ocits::init {

int LoadSeccompFilter(const Plan& plan) {
  const SeccompFilter& filter = plan.seccomp;
  if (filter.program == nullptr) return -1;
  struct sock_fprog program = {filter.length,
                               const_cast<struct sock_filter*>(static_cast<const struct sock_filter*>(filter.program))};
  long result = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, filter.flags, &program);
  if (result < 0) Fail(plan.sync_socket, kStepSeccomp, -1, errno, "seccomp(SECCOMP_SET_MODE_FILTER)");
  return filter.listener ? (int)result : -1;
}

}  // namespace ocits::init
