#include "seccomp.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fd_passing.h"
#include "safe.h"

namespace ocits::init {

void LoadSeccomp(const ProcessPlan& process, int socket) {
  const SeccompFilter& filter = process.seccomp;
  if (filter.program == nullptr) return;
  struct sock_fprog program = {filter.length,
                               const_cast<struct sock_filter*>(static_cast<const struct sock_filter*>(filter.program))};
  long listener = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, filter.flags, &program);
  if (listener < 0) Fail(socket, kStepSeccomp, -1, errno, "seccomp(SECCOMP_SET_MODE_FILTER)");
  if (!filter.listener) return;
  Message message;
  memset(&message, 0, sizeof message);
  message.kind = kMessageSeccompListener;
  if (SendWithFd(socket, &message, sizeof message, (int)listener) < 0) {
    Fail(socket, kStepSeccomp, -1, errno, "send the notify fd");
  }
  close((int)listener);
  long count = OCITS_RETRY(recv(socket, &message, sizeof message, 0));
  if (count != (long)sizeof message || message.kind != kMessageContinue) _exit(1);
}

}  // namespace ocits::init
