#include "process_attributes.h"

#include <errno.h>
#include <linux/sched/types.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "safe.h"

namespace ocits::init {

namespace {

constexpr int kIoprioWhoProcess = 1;  // IOPRIO_WHO_PROCESS

}  // namespace

void ApplyProcessAttributes(const ProcessPlan& process, int socket) {
  if (process.personality >= 0 && syscall(SYS_personality, (unsigned long)process.personality) < 0) {
    Fail(socket, kStepPersonality, -1, errno);
  }
  if (process.scheduler.apply) {
    struct sched_attr attributes = {};
    attributes.size = sizeof attributes;
    attributes.sched_policy = process.scheduler.policy;
    attributes.sched_flags = process.scheduler.flags;
    attributes.sched_nice = process.scheduler.nice;
    attributes.sched_priority = process.scheduler.priority;
    attributes.sched_runtime = process.scheduler.runtime;
    attributes.sched_deadline = process.scheduler.deadline;
    attributes.sched_period = process.scheduler.period;
    if (syscall(SYS_sched_setattr, 0, &attributes, 0) != 0) Fail(socket, kStepScheduler, -1, errno);
  }
  if (process.io_priority >= 0 && syscall(SYS_ioprio_set, kIoprioWhoProcess, 0, process.io_priority) != 0) {
    Fail(socket, kStepIoPriority, -1, errno);
  }
}

}  // namespace ocits::init
