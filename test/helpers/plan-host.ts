// A made-up host for building launch plans as values (test/unit/plan/):
// every fact a plan reads from the host or asks libseccomp is given here.
import type { SeccompFilterRules } from '../../src/addon-plan';
import type { MountEntry } from '../../src/mountinfo';
import type { PlanHost } from '../../src/plan/host';

export interface FakeHostFacts {
  capLastCap?: number;
  apparmor?: boolean;
  selinux?: boolean;
  mountPoints?: string[];
  /** Whole mountinfo entries; mountPoints makes ext4 ones. */
  mounts?: MountEntry[];
  /** Host paths that exist, and whether each is a directory. */
  paths?: Record<string, 'directory' | 'other'>;
  kcore?: boolean;
  /** libseccomp's syscall numbers; a name not listed is unknown (-1). */
  syscalls?: Record<string, number>;
  /** AUDIT_ARCH tokens by SCMP_ARCH_* name; one not listed is unsupported (0). */
  architectures?: Record<string, number>;
  /** The SECCOMP_FILTER_FLAG_* names the kernel takes. */
  seccompFlags?: string[];
  /** How many BPF instructions a compiled filter has. */
  filterInstructions?: number;
}

export interface FakeHost extends PlanHost {
  /** Every filter the plan compiled, as it asked libseccomp to. */
  compiled: SeccompFilterRules[];
}

export function fakeHost(facts: FakeHostFacts = {}): FakeHost {
  const compiled: SeccompFilterRules[] = [];
  return {
    compiled,
    capLastCap: () => facts.capLastCap ?? 40,
    apparmorEnabled: () => facts.apparmor ?? false,
    selinuxEnabled: () => facts.selinux ?? false,
    apparmorExecFile: () => '/proc/self/attr/apparmor/exec',
    mounts: () => facts.mounts ?? (facts.mountPoints ?? ['/']).map((mountPoint) => ({ root: '/', mountPoint, fstype: 'ext4', superOptions: [] })),
    pathKind: (file) => facts.paths?.[file],
    hasKcore: () => facts.kcore ?? true,
    seccomp: {
      version: () => '2.5.4',
      syscallNumber: (name) => facts.syscalls?.[name] ?? -1,
      archToken: (name) => facts.architectures?.[name] ?? 0,
      flagSupported: (name) => (facts.seccompFlags ?? []).includes(name),
      compile: (filter) => {
        compiled.push(filter);
        return Buffer.alloc(8 * (facts.filterInstructions ?? 4));
      },
    },
  };
}
