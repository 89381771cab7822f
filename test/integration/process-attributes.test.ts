// linux.personality, process.scheduler and process.ioPriority with real
// containers, observed from inside: uname, /proc/PID/stat and ionice.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Runtime, busyboxBundle } from '../helpers/busybox';

const runtime = new Runtime();
afterAll(() => runtime.cleanUp());

let counter = 0;
const nextId = (): string => `c${process.pid}-${++counter}`;

function runWith(script: string, change: (config: Record<string, any>) => void) {
  const bundle = busyboxBundle((config) => {
    config.process.args = ['sh', '-c', script];
    change(config);
  });
  // Applets the shared helper does not link.
  for (const applet of ['uname', 'ionice']) fs.symlinkSync('busybox', path.join(bundle, 'rootfs', 'bin', applet));
  const id = nextId();
  return { ...runtime.run(['run', '--bundle', bundle, id]), id };
}

/** Scheduling policy and nice value from a /proc/PID/stat line (proc(5) fields 41 and 19). */
function scheduling(statLine: string): { policy: number; nice: number } {
  const fields = statLine.slice(statLine.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state).
  return { policy: Number(fields[41 - 3]), nice: Number(fields[19 - 3]) };
}

describe('linux.personality', () => {
  it.each([
    ['LINUX32', 'i686'],
    ['LINUX', 'x86_64'],
  ])('runs the process with the %s execution domain', (domain, machine) => {
    const { stdout, stderr, status } = runWith('uname -m', (config) => {
      config.linux.personality = { domain };
    });
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toBe(`${machine}\n`);
  });
});

describe('process.scheduler', () => {
  it('sets the policy and nice value; with SCHED_FLAG_RESET_ON_FORK children lose a negative nice', () => {
    const { stdout, stderr, status } = runWith('cat /proc/$$/stat; cat /proc/self/stat; true', (config) => {
      config.process.scheduler = { policy: 'SCHED_BATCH', nice: -5, flags: ['SCHED_FLAG_RESET_ON_FORK'] };
    });
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const [own, child] = stdout.trim().split('\n');
    expect(scheduling(own)).toEqual({ policy: 3, nice: -5 });
    // The reset drops privileged settings only: real-time policies and a negative nice.
    expect(scheduling(child)).toEqual({ policy: 3, nice: 0 });
  });

  it('sets SCHED_IDLE, which children inherit', () => {
    const { stdout, status } = runWith('cat /proc/self/stat; true', (config) => {
      config.process.scheduler = { policy: 'SCHED_IDLE' };
    });
    expect(status).toBe(0);
    expect(scheduling(stdout.trim()).policy).toBe(5);
  });
});

describe('process.ioPriority', () => {
  it.each([
    ['IOPRIO_CLASS_BE', 6, 'best-effort: prio 6'],
    ['IOPRIO_CLASS_RT', 2, 'realtime: prio 2'],
    ['IOPRIO_CLASS_IDLE', 0, 'idle'],
  ])('sets class %s with priority %d', (ioClass, priority, shown) => {
    const { stdout, stderr, status } = runWith('ionice -p $$', (config) => {
      config.process.ioPriority = { class: ioClass, priority };
    });
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toBe(`${shown}\n`);
  });
});

describe('refused settings', () => {
  const refusals: Array<[string, (config: Record<string, any>) => void, string]> = [
    ['personality flags', (config) => {
      config.linux.personality = { domain: 'LINUX', flags: ['ADDR_NO_RANDOMIZE'] };
    }, '/linux/personality/flags: no personality flags are supported (got ADDR_NO_RANDOMIZE)'],
    ['SCHED_ISO, which Linux never merged', (config) => {
      config.process.scheduler = { policy: 'SCHED_ISO' };
    }, '/process/scheduler/policy: SCHED_ISO is not supported by Linux'],
    ['a priority for a policy without one', (config) => {
      config.process.scheduler = { policy: 'SCHED_BATCH', priority: 10 };
    }, '/process/scheduler/priority: only SCHED_FIFO and SCHED_RR take a priority'],
    ['deadline parameters for another policy', (config) => {
      config.process.scheduler = { policy: 'SCHED_OTHER', runtime: 1000 };
    }, '/process/scheduler: runtime, deadline and period are only for SCHED_DEADLINE'],
    ['a nice value out of range', (config) => {
      config.process.scheduler = { policy: 'SCHED_OTHER', nice: 25 };
    }, 'invalid config.json: /process/scheduler/nice: must be <= 19, not 25'],
    ['SCHED_DEADLINE parameters the kernel rejects', (config) => {
      config.process.scheduler = { policy: 'SCHED_DEADLINE', runtime: 2000000, deadline: 1000000, period: 1000000 };
    }, 'container init failed: scheduler: invalid argument'],
  ];

  it.each(refusals)('refuses %s with a message naming the field', (_, change, message) => {
    const { stderr, status, id } = runWith('true', change);
    expect(status).toBe(1);
    expect(stderr).toBe(`ocits: ${message}\n`);
    expect(runtime.run(['state', id]).status).toBe(1);
  });
});
