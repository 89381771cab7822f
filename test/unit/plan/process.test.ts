// The process part of a plan as a value, on hosts this machine is not: one
// with AppArmor and SELinux enabled, and one whose kernel knows fewer
// capabilities.
import * as output from '../../../src/output';
import { planProcess } from '../../../src/plan/process';
import type { Process } from '../../../src/spec/types';
import { fakeHost } from '../../helpers/plan-host';

const RLIMIT_CORE = 4;
const RLIM_INFINITY = (1n << 64n) - 1n;
const SCHED_FIFO = 1;
const IOPRIO_CLASS_BE = 2;
const [CAP_CHOWN, CAP_KILL, CAP_BPF] = [0, 5, 39];

function process(overrides: Partial<Process> = {}): Process {
  return { args: ['/bin/app', '-v'], cwd: '/srv', user: { uid: 1000, gid: 100 }, ...overrides };
}

describe('the process plan', () => {
  it('carries the whole process spec in the addon\'s terms', () => {
    const spec = process({
      env: ['PATH=/bin', 'HOME=/root', 'PATH=/usr/bin:/bin'],
      terminal: true,
      consoleSize: { height: 40, width: 120 },
      user: { uid: 1000, gid: 100, umask: 0o077, additionalGids: [5, 6] },
      rlimits: [{ type: 'RLIMIT_CORE', soft: 0, hard: 2 ** 64 }],
      noNewPrivileges: true,
      capabilities: { bounding: ['CAP_CHOWN', 'CAP_KILL'], permitted: ['CAP_KILL'], inheritable: ['CAP_KILL'], ambient: ['CAP_KILL', 'CAP_CHOWN'] },
      scheduler: { policy: 'SCHED_FIFO', priority: 10 },
      ioPriority: { class: 'IOPRIO_CLASS_BE', priority: 4 },
      apparmorProfile: 'restricted',
      selinuxLabel: 'system_u:system_r:container_t:s0',
    });
    const host = fakeHost({ apparmor: true, selinux: true, capLastCap: 40 });
    expect(planProcess(spec, 9, host)).toEqual({
      args: ['/bin/app', '-v'],
      env: ['PATH=/bin', 'HOME=/root', 'PATH=/usr/bin:/bin'],
      // The last PATH wins, as it does for the process.
      pathEnv: '/usr/bin:/bin',
      cwd: '/srv',
      uid: 1000,
      gid: 100,
      additionalGids: [5, 6],
      umask: 0o077,
      noNewPrivileges: true,
      // 2^64 arrives rounded from JSON; it means unlimited.
      rlimits: [{ resource: RLIMIT_CORE, soft: 0n, hard: RLIM_INFINITY }],
      capabilities: {
        bounding: (1n << BigInt(CAP_CHOWN)) | (1n << BigInt(CAP_KILL)),
        effective: 0n,
        permitted: 1n << BigInt(CAP_KILL),
        inheritable: 1n << BigInt(CAP_KILL),
        // CAP_CHOWN is neither permitted nor inheritable, so the kernel would refuse it as ambient.
        ambient: 1n << BigInt(CAP_KILL),
        lastCap: 40,
      },
      seccomp: null,
      personality: -1,
      scheduler: { policy: SCHED_FIFO, flags: 0n, nice: 0, priority: 10, runtime: 0n, deadline: 0n, period: 0n },
      ioPriority: (IOPRIO_CLASS_BE << 13) | 4,
      setGroups: true,
      terminal: true,
      lsmWrites: [
        { path: '/proc/self/attr/apparmor/exec', value: 'exec restricted' },
        { path: '/proc/self/attr/exec', value: 'system_u:system_r:container_t:s0' },
      ],
      consoleRows: 40,
      consoleColumns: 120,
      consoleSocket: 9,
    });
  });

  it('leaves out capabilities the host kernel does not know, with a warning', () => {
    const spec = process({ capabilities: { bounding: ['CAP_CHOWN', 'CAP_BPF'], effective: ['CAP_BPF'] } });
    const warnings = jest.spyOn(output, 'writeStderr').mockImplementation(() => {});
    let planned;
    try {
      planned = planProcess(spec, -1, fakeHost({ capLastCap: 38 })).capabilities;
      expect(warnings.mock.calls.join('')).toMatch(/ignoring capabilities unknown to this kernel \(cap_last_cap 38\): CAP_BPF/);
    } finally {
      warnings.mockRestore();
    }
    expect(planned).toEqual({ bounding: 1n << BigInt(CAP_CHOWN), effective: 0n, permitted: 0n, inheritable: 0n, ambient: 0n, lastCap: 38 });
    expect(planProcess(spec, -1, fakeHost({ capLastCap: 40 })).capabilities?.effective).toBe(1n << BigInt(CAP_BPF));
  });

  it('refuses a label for a module the host lacks, naming the field', () => {
    const host = fakeHost({ apparmor: false, selinux: false });
    expect(() => planProcess(process({ apparmorProfile: 'p' }), -1, host)).toThrow('/process/apparmorProfile: AppArmor is not enabled on this host');
    expect(() => planProcess(process({ selinuxLabel: 'l' }), -1, host)).toThrow('/process/selinuxLabel: SELinux is not enabled on this host');
  });
});
