// process.capabilities seen from inside the container through
// /proc/self/status, and runc's two rules for names: an unknown name is an
// error naming it, a name known here but not to the running kernel is
// skipped with a warning.
import { planCapabilities } from '../../src/plan/process';
import * as output from '../../src/output';
import { Runtime, busyboxBundle } from '../helpers/busybox';

const runtime = new Runtime();
afterAll(() => runtime.cleanUp());

let counter = 0;
const nextId = (): string => `c${process.pid}-${++counter}`;

const bit = (n: number): bigint => 1n << BigInt(n);
const hex = (mask: bigint): string => mask.toString(16).padStart(16, '0');

describe('process.capabilities', () => {
  it('gives the container exactly the configured sets', () => {
    const bundle = busyboxBundle((config) => {
      config.process.args = ['sh', '-c', 'grep -E "^Cap(Inh|Prm|Eff|Bnd|Amb)" /proc/self/status'];
      config.process.capabilities = {
        // CHOWN 0, KILL 5, NET_BIND_SERVICE 10, SYS_ADMIN 21
        bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_ADMIN'],
        permitted: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        effective: ['CAP_CHOWN', 'CAP_KILL'],
        inheritable: ['CAP_NET_BIND_SERVICE'],
        ambient: ['CAP_NET_BIND_SERVICE'],
      };
    });
    const { stdout, stderr, status } = runtime.run(['run', '--bundle', bundle, nextId()]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const fields = Object.fromEntries(stdout.trim().split('\n').map((line) => line.split(':\t')));
    expect(fields.CapBnd).toBe(hex(bit(0) | bit(5) | bit(10) | bit(21)));
    expect(fields.CapInh).toBe(hex(bit(10)));
    expect(fields.CapAmb).toBe(hex(bit(10)));
    // The spec's default noNewPrivileges keeps root's execve from gaining
    // the bounding set; root's effective set follows its permitted one.
    // runc 1.1.5 shows the same five lines for this config.
    expect(fields.CapPrm).toBe(hex(bit(0) | bit(5) | bit(10)));
    expect(fields.CapEff).toBe(fields.CapPrm);
  });

  it('keeps the sets of a non-root process as configured', () => {
    const bundle = busyboxBundle((config) => {
      config.process.args = ['sh', '-c', 'grep -E "^Cap(Inh|Prm|Eff|Bnd|Amb)" /proc/self/status'];
      config.process.user = { uid: 1000, gid: 1000 };
      config.process.capabilities = {
        bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        permitted: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        effective: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        inheritable: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        ambient: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      };
    });
    const { stdout, stderr, status } = runtime.run(['run', '--bundle', bundle, nextId()]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const fields = Object.fromEntries(stdout.trim().split('\n').map((line) => line.split(':\t')));
    // A non-root execve keeps only the ambient set in permitted and effective.
    expect(fields).toEqual({
      CapInh: hex(bit(5) | bit(10)),
      CapPrm: hex(bit(5) | bit(10)),
      CapEff: hex(bit(5) | bit(10)),
      CapBnd: hex(bit(0) | bit(5) | bit(10)),
      CapAmb: hex(bit(5) | bit(10)),
    });
  });

  it('refuses an unknown capability name, naming it', () => {
    const bundle = busyboxBundle((config) => {
      config.process.capabilities.bounding.push('CAP_BOGUS');
    });
    const id = nextId();
    const { stderr, status } = runtime.run(['create', '--bundle', bundle, id]);
    expect(status).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('unknown capability CAP_BOGUS');
    expect(runtime.run(['state', id]).status).toBe(1);
  });

  it('refuses an unknown name given to exec --cap', () => {
    const bundle = busyboxBundle((config) => {
      config.process.args = ['sleep', '60'];
    });
    const id = nextId();
    runtime.ok(['run', '--detach', '--bundle', bundle, id]);
    const { stderr, status } = runtime.run(['exec', '--cap', 'CAP_BOGUS', id, 'true']);
    expect(status).toBe(1);
    expect(stderr).toContain('unknown capability CAP_BOGUS');
    runtime.ok(['kill', id, 'KILL']);
  });

  it('skips capabilities above the kernel\'s cap_last_cap with one warning', () => {
    const warnings: string[] = [];
    const spy = jest.spyOn(output, 'writeStderr').mockImplementation((text: string) => {
      warnings.push(text);
    });
    try {
      // A kernel that stops at CAP_AUDIT_READ (37): PERFMON (38) and BPF (39) are skipped.
      const planned = planCapabilities({ bounding: ['CAP_CHOWN', 'CAP_PERFMON', 'CAP_BPF'], effective: ['CAP_BPF'] }, 37);
      expect(planned.bounding).toBe(bit(0));
      expect(planned.effective).toBe(0n);
      expect(planned.lastCap).toBe(37);
    } finally {
      spy.mockRestore();
    }
    expect(warnings.join('')).toMatch(/ignoring capabilities unknown to this kernel \(cap_last_cap 37\): CAP_PERFMON CAP_BPF/);
  });
});
