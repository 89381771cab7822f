// linux.seccomp as the rules the plan hands libseccomp, on a made-up host:
// names resolved to its numbers, runc's skips and splits, its refusals.
import { planSeccomp } from '../../../src/plan/seccomp';
import { SECCOMP_ACTIONS, SECCOMP_FILTER_FLAG_NEW_LISTENER, SECCOMP_FLAGS, SECCOMP_OPERATORS } from '../../../src/spec/names';
import type { Seccomp } from '../../../src/spec/types';
import { fakeHost } from '../../helpers/plan-host';

const AUDIT_ARCH_X86_64 = 0xc000003e;
const EPERM = 1;
const ENOSYS = 38;
const action = (name: string): number => SECCOMP_ACTIONS.get(name)!;
const operator = (name: string): number => SECCOMP_OPERATORS.get(name)!;
const flag = (name: string): number => SECCOMP_FLAGS.get(name)!;

function host() {
  return fakeHost({
    syscalls: { read: 0, write: 1, personality: 135, sendmsg: 46 },
    architectures: { SCMP_ARCH_X86_64: AUDIT_ARCH_X86_64 },
    seccompFlags: ['SECCOMP_FILTER_FLAG_LOG'],
    filterInstructions: 12,
  });
}

describe('the seccomp plan', () => {
  it('resolves names to numbers, drops rules that repeat the default, skips unknown syscalls', () => {
    const seccomp: Seccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: ENOSYS,
      architectures: ['SCMP_ARCH_X86_64'],
      flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_TSYNC'],
      syscalls: [
        { names: ['read', 'write', 'no_such_call'], action: 'SCMP_ACT_ALLOW' },
        // The same as the default: libseccomp would refuse it, runc drops it.
        { names: ['read'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS },
        // Two conditions on one argument cannot be ANDed: one rule each.
        {
          names: ['personality'],
          action: 'SCMP_ACT_ALLOW',
          args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }, { index: 0, value: 8, op: 'SCMP_CMP_EQ' }],
        },
        { names: ['write'], action: 'SCMP_ACT_ERRNO', args: [{ index: 2, value: 4096, valueTwo: 0, op: 'SCMP_CMP_GT' }] },
      ],
    };
    const planHost = host();
    const planned = planSeccomp(seccomp, planHost.seccomp);
    expect(planHost.compiled).toEqual([{
      defaultAction: action('SCMP_ACT_ERRNO') + ENOSYS,
      architectures: [AUDIT_ARCH_X86_64],
      rules: [
        { syscall: 0, action: action('SCMP_ACT_ALLOW'), conditions: [] },
        { syscall: 1, action: action('SCMP_ACT_ALLOW'), conditions: [] },
        { syscall: 135, action: action('SCMP_ACT_ALLOW'), conditions: [{ index: 0, op: operator('SCMP_CMP_EQ'), value: 0n, valueTwo: 0n }] },
        { syscall: 135, action: action('SCMP_ACT_ALLOW'), conditions: [{ index: 0, op: operator('SCMP_CMP_EQ'), value: 8n, valueTwo: 0n }] },
        // errnoRet unset: EPERM, as runc.
        { syscall: 1, action: action('SCMP_ACT_ERRNO') + EPERM, conditions: [{ index: 2, op: operator('SCMP_CMP_GT'), value: 4096n, valueTwo: 0n }] },
      ],
    }]);
    // TSYNC has nothing to synchronise in a single-threaded init.
    expect(planned).toEqual({ program: Buffer.alloc(12 * 8), flags: flag('SECCOMP_FILTER_FLAG_LOG'), listener: false });
  });

  it('asks for a listener when a rule notifies', () => {
    const seccomp: Seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath: '/run/agent.sock',
      flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
      syscalls: [{ names: ['read'], action: 'SCMP_ACT_NOTIFY' }],
    };
    const planHost = fakeHost({ syscalls: { read: 0 }, seccompFlags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] });
    expect(planSeccomp(seccomp, planHost.seccomp)).toEqual({
      program: Buffer.alloc(4 * 8),
      flags: SECCOMP_FILTER_FLAG_NEW_LISTENER | flag('SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'),
      listener: true,
    });
  });

  it.each<[string, Seccomp, string]>([
    ['an architecture libseccomp lacks', { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_MIPS'] },
      '/linux/seccomp/architectures/0: SCMP_ARCH_MIPS is not supported by libseccomp 2.5.4'],
    ['a flag the kernel lacks', { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_SPEC_ALLOW'] },
      '/linux/seccomp/flags/0: SECCOMP_FILTER_FLAG_SPEC_ALLOW is not supported by this kernel'],
    ['notify as the default action', { defaultAction: 'SCMP_ACT_NOTIFY' },
      '/linux/seccomp/defaultAction: SCMP_ACT_NOTIFY cannot be the default action'],
    ['notify without a listener', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_NOTIFY' }] },
      '/linux/seccomp/listenerPath: SCMP_ACT_NOTIFY needs a listenerPath to send the notify fd to'],
  ])('refuses %s, naming the field', (_, seccomp, message) => {
    expect(() => planSeccomp(seccomp, host().seccomp)).toThrow(message);
  });

  it('refuses a filter longer than the kernel takes', () => {
    const long = fakeHost({ syscalls: { read: 0 }, filterInstructions: 4097 });
    expect(() => planSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_LOG' }] }, long.seccomp)).toThrow(
      '/linux/seccomp: the filter compiles to 4097 BPF instructions; the kernel takes at most 4096',
    );
  });
});
