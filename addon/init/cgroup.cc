#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "safe.h"

namespace ocits::init {

void JoinCgroup(const CgroupJoin& join, int socket) {
  if (join.from_parent) {
    Send(socket, kMessagePlaceMe);
    AwaitContinue(socket);
  }
  if (join.dir_needs_write) {
    int procs = OCITS_RETRY(openat(join.dir, "cgroup.procs", O_WRONLY | O_CLOEXEC));
    if (procs < 0 || OCITS_RETRY(write(procs, "0", 1)) != 1) Fail(socket, kStepCgroup, -1, errno);
    close(procs);
  }
  for (size_t i = 0; i < join.tasks_count; ++i) {
    if (OCITS_RETRY(write(join.tasks[i], "0", 1)) != 1) Fail(socket, kStepCgroup, (int)i, errno);
    close(join.tasks[i]);
  }
  if (join.dir >= 0) close(join.dir);
}

}  // namespace ocits::init
