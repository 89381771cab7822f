// linux.personality, process.scheduler and process.ioPriority as the numbers
// personality(2), sched_setattr(2) and ioprio_set(2) take. The checks are
// runc's; whatever else the kernel refuses, it names through the init step.
import type { Scheduler } from '../addon-plan';
import { OcitsError } from '../errors';
import type { IoPriority, Personality, Scheduler as SchedulerSpec } from '../spec/types';

// include/uapi/linux/personality.h
const PERSONALITIES: ReadonlyMap<string, number> = new Map([
  ['LINUX', 0x0000],
  ['LINUX32', 0x0008],
]);

// include/uapi/linux/sched.h; SCHED_ISO was reserved but never merged.
const POLICIES: ReadonlyMap<string, number> = new Map([
  ['SCHED_OTHER', 0],
  ['SCHED_FIFO', 1],
  ['SCHED_RR', 2],
  ['SCHED_BATCH', 3],
  ['SCHED_IDLE', 5],
  ['SCHED_DEADLINE', 6],
]);

const SCHEDULER_FLAGS: ReadonlyMap<string, number> = new Map([
  ['SCHED_FLAG_RESET_ON_FORK', 0x01],
  ['SCHED_FLAG_RECLAIM', 0x02],
  ['SCHED_FLAG_DL_OVERRUN', 0x04],
  ['SCHED_FLAG_KEEP_POLICY', 0x08],
  ['SCHED_FLAG_KEEP_PARAMS', 0x10],
  ['SCHED_FLAG_UTIL_CLAMP_MIN', 0x20],
  ['SCHED_FLAG_UTIL_CLAMP_MAX', 0x40],
]);

// include/uapi/linux/ioprio.h
const IO_PRIORITY_CLASSES: ReadonlyMap<string, number> = new Map([
  ['IOPRIO_CLASS_RT', 1],
  ['IOPRIO_CLASS_BE', 2],
  ['IOPRIO_CLASS_IDLE', 3],
]);
const IOPRIO_CLASS_SHIFT = 13;

/** The persona for personality(2), or -1 to leave it. */
export function planPersonality(personality: Personality | undefined): number {
  if (personality === undefined) return -1;
  const persona = PERSONALITIES.get(personality.domain);
  if (persona === undefined) throw new OcitsError(`/linux/personality/domain: unknown personality ${personality.domain}`);
  // config-linux.md defines no flags yet.
  if ((personality.flags ?? []).length > 0) {
    throw new OcitsError(`/linux/personality/flags: no personality flags are supported (got ${personality.flags!.join(', ')})`);
  }
  return persona;
}

export function planScheduler(scheduler: SchedulerSpec | undefined): Scheduler | null {
  if (scheduler === undefined) return null;
  const where = '/process/scheduler';
  const policy = POLICIES.get(scheduler.policy);
  if (policy === undefined) throw new OcitsError(`${where}/policy: ${scheduler.policy} is not supported by Linux`);
  const nice = scheduler.nice ?? 0;
  if (!Number.isInteger(nice) || nice < -20 || nice > 19) throw new OcitsError(`${where}/nice: ${nice} is not between -20 and 19`);
  const priority = scheduler.priority ?? 0;
  const realTime = scheduler.policy === 'SCHED_FIFO' || scheduler.policy === 'SCHED_RR';
  if (priority !== 0 && !realTime) {
    throw new OcitsError(`${where}/priority: only SCHED_FIFO and SCHED_RR take a priority`);
  }
  const deadline = { runtime: scheduler.runtime ?? 0, deadline: scheduler.deadline ?? 0, period: scheduler.period ?? 0 };
  if (scheduler.policy !== 'SCHED_DEADLINE' && Object.values(deadline).some((value) => value !== 0)) {
    throw new OcitsError(`${where}: runtime, deadline and period are only for SCHED_DEADLINE`);
  }
  let flags = 0n;
  (scheduler.flags ?? []).forEach((name, i) => {
    const flag = SCHEDULER_FLAGS.get(name);
    if (flag === undefined) throw new OcitsError(`${where}/flags/${i}: unknown scheduler flag ${name}`);
    flags |= BigInt(flag);
  });
  return {
    policy,
    flags,
    nice,
    priority,
    runtime: BigInt(deadline.runtime),
    deadline: BigInt(deadline.deadline),
    period: BigInt(deadline.period),
  };
}

/** The ioprio_set(2) value, or -1 to leave it. */
export function planIoPriority(ioPriority: IoPriority | undefined): number {
  if (ioPriority === undefined) return -1;
  const where = '/process/ioPriority';
  const ioClass = IO_PRIORITY_CLASSES.get(ioPriority.class);
  if (ioClass === undefined) throw new OcitsError(`${where}/class: unknown I/O priority class ${ioPriority.class}`);
  if (!Number.isInteger(ioPriority.priority) || ioPriority.priority < 0 || ioPriority.priority > 7) {
    throw new OcitsError(`${where}/priority: ${ioPriority.priority} is not between 0 and 7`);
  }
  return (ioClass << IOPRIO_CLASS_SHIFT) | ioPriority.priority;
}
