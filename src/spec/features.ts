// The features document (features.md): what this build of ocits can do.
// It must stay truthful, so it lists only capabilities that work at this
// commit and grows as they land; an empty list means "none", not "unknown".
import buildInfo from '../../generated/build-info.json';
import { addon } from '../addon';
import { KNOWN_MOUNT_OPTIONS } from '../plan/mount-options';
import { apparmorEnabled, selinuxEnabled } from '../plan/lsm';
import { CAPABILITIES, SECCOMP_ACTIONS, SECCOMP_ARCHITECTURES, SECCOMP_FILTER_FLAG_NEW_LISTENER, SECCOMP_FLAGS, SECCOMP_OPERATORS } from './names';
import type { Features, SeccompFeatures } from './types';
import { OCI_VERSION, OCI_VERSION_MIN } from './version';

export function features(): Features {
  return {
    ociVersionMin: OCI_VERSION_MIN,
    ociVersionMax: OCI_VERSION,
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: [...KNOWN_MOUNT_OPTIONS].sort(),
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts'],
      // In bit order, as runc lists them; those above the kernel's
      // cap_last_cap are skipped with a warning when a config names them.
      capabilities: [...CAPABILITIES.keys()],
      // v1, v2 and hybrid hosts with linux.resources, through cgroupfs; rdma.max on both.
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: true },
      seccomp: seccompFeatures(),
      // Applied only where the host has the module; refused elsewhere.
      apparmor: { enabled: apparmorEnabled() },
      selinux: { enabled: selinuxEnabled() },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: true } },
    },
    annotations: {
      'io.github.seccomp.libseccomp.version': addon().seccompVersion(),
      'dev.ocits.version': buildInfo.version,
      'dev.ocits.commit': buildInfo.commit,
    },
  };
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

// Sorted, as runc lists them.
function seccompFeatures(): SeccompFeatures {
  const names = (set: Iterable<string>): string[] => [...set].sort();
  return {
    enabled: true,
    actions: names(SECCOMP_ACTIONS.keys()),
    operators: names(SECCOMP_OPERATORS.keys()),
    archs: names([...SECCOMP_ARCHITECTURES.keys()].filter((name) => seccompArchToken(name) !== 0)),
    knownFlags: names(SECCOMP_FLAGS.keys()),
    supportedFlags: names([...SECCOMP_FLAGS.keys()].filter(seccompFlagSupported)),
  };
}
