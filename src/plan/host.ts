// The facts about this host that a launch plan depends on, behind one
// object: plans take a PlanHost, so tests build whole plans from a host of
// their own (test/unit/plan/) without root, containers or the addon. The live
// host reads each fact once, on first use, so a plan pays only for what it
// asks (most configs never need mountinfo or libseccomp).
import * as fs from 'node:fs';
import { addon } from '../addon';
import type { SeccompFilterRules } from '../addon-plan';
import { type MountEntry, parseMountinfo } from '../mountinfo';
import { SECCOMP_ARCHITECTURES, SECCOMP_FILTER_FLAG_NEW_LISTENER, SECCOMP_FLAGS } from '../spec/names';

/** libseccomp and the kernel's seccomp, as the plan asks about them. */
export interface SeccompHost {
  /** The linked libseccomp's version, e.g. "2.5.4", for messages. */
  version(): string;
  /** The syscall's number on this architecture; -1 when libseccomp does not know it. */
  syscallNumber(name: string): number;
  /** The AUDIT_ARCH token of a SCMP_ARCH_* name; 0 when libseccomp lacks it. */
  archToken(name: string): number;
  /** Whether the kernel takes this SECCOMP_FILTER_FLAG_* flag. */
  flagSupported(name: string): boolean;
  /** The filter as struct sock_filter[]. */
  compile(filter: SeccompFilterRules): Buffer;
}

export interface PlanHost {
  /** /proc/sys/kernel/cap_last_cap: the highest capability the kernel knows. */
  capLastCap(): number;
  apparmorEnabled(): boolean;
  selinuxEnabled(): boolean;
  /**
   * The file the AppArmor profile for the next execve goes to: since Linux
   * 5.8 each module has its own attr directory; the shared file is the older
   * interface, which runc falls back to.
   */
  apparmorExecFile(): string;
  /** The mounts of our mount namespace (/proc/self/mountinfo). */
  mounts(): MountEntry[];
  /** What is at a host path: a directory, something else, or nothing (undefined). */
  pathKind(file: string): 'directory' | 'other' | undefined;
  /** Whether the host has /proc/kcore, which a container's /dev/core links to. */
  hasKcore(): boolean;
  seccomp: SeccompHost;
}

// As runc's apparmor.IsEnabled: the module is loaded and says it is on.
export function apparmorEnabled(): boolean {
  try {
    return fs.readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').startsWith('Y');
  } catch {
    return false;
  }
}

// As go-selinux's GetEnabled: selinuxfs is mounted (at its usual place) and
// the process has a context.
export function selinuxEnabled(): boolean {
  if (!fs.existsSync('/sys/fs/selinux/enforce')) return false;
  try {
    return fs.readFileSync('/proc/self/attr/current', 'utf8').replace(/\0/g, '').trim() !== '';
  } catch {
    return false;
  }
}

/** The AUDIT_ARCH token of a SCMP_ARCH_* name in the linked libseccomp; 0 when it lacks it. */
export function seccompArchToken(name: string): number {
  const libseccompName = SECCOMP_ARCHITECTURES.get(name);
  return libseccompName !== undefined ? addon().seccompArchToken(libseccompName) : 0;
}

/** Whether the running kernel takes a SECCOMP_FILTER_FLAG_* flag. */
export function seccompFlagSupported(name: string): boolean {
  const flag = SECCOMP_FLAGS.get(name);
  if (flag === undefined) return false;
  // ocits's init process is single-threaded, so TSYNC is accepted and has nothing to do.
  if (name === 'SECCOMP_FILTER_FLAG_TSYNC') return true;
  // The kernel takes WAIT_KILLABLE_RECV only together with NEW_LISTENER.
  const probe = name === 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV' ? flag | SECCOMP_FILTER_FLAG_NEW_LISTENER : flag;
  return addon().seccompFlagSupported(probe);
}

/** Remembers fact's value from its first call. */
function memo<T>(fact: () => T): () => T {
  let known: { value: T } | undefined;
  return () => {
    known ??= { value: fact() };
    return known.value;
  };
}

/** This host, as create and exec plan for it. */
export const liveHost: PlanHost = {
  capLastCap: memo(() => Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim())),
  apparmorEnabled: memo(apparmorEnabled),
  selinuxEnabled: memo(selinuxEnabled),
  apparmorExecFile: memo(() => (fs.existsSync('/proc/self/attr/apparmor/exec') ? '/proc/self/attr/apparmor/exec' : '/proc/self/attr/exec')),
  mounts: () => parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8')),
  pathKind: (file) => {
    try {
      return fs.statSync(file).isDirectory() ? 'directory' : 'other';
    } catch {
      return undefined;
    }
  },
  hasKcore: () => fs.existsSync('/proc/kcore'),
  seccomp: {
    version: () => addon().seccompVersion(),
    syscallNumber: (name) => addon().seccompSyscallNumber(name),
    archToken: seccompArchToken,
    flagSupported: seccompFlagSupported,
    compile: (filter) => addon().compileSeccompFilter(filter),
  },
};
