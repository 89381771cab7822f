// The features document (features.md): what this build of ocits can do on
// this host. It must stay truthful, so it lists only capabilities that work
// at this commit and grows as they land; an empty list means "none", not
// "unknown". It sits with the plan, whose modules decide what works.
import * as fs from 'node:fs';
import buildInfo from '../../generated/build-info.json';
import { systemdIsInit } from '../cgroups/systemd';
import { CAPABILITIES, SECCOMP_ACTIONS, SECCOMP_ARCHITECTURES, SECCOMP_FLAGS, SECCOMP_OPERATORS } from '../spec/names';
import type { Features, SeccompFeatures } from '../spec/types';
import { OCI_VERSION, OCI_VERSION_MIN } from '../spec/version';
import { liveHost } from './host';
import { KNOWN_MOUNT_OPTIONS } from './mount-options';

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
      // The systemd driver where systemd is init; a user's own instance only on cgroup v2.
      cgroup: { v1: true, v2: true, systemd: systemdIsInit(), systemdUser: systemdIsInit() && pureCgroupV2(), rdma: true },
      seccomp: seccompFeatures(),
      // Applied only where the host has the module; refused elsewhere.
      apparmor: { enabled: liveHost.apparmorEnabled() },
      selinux: { enabled: liveHost.selinuxEnabled() },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: true } },
    },
    annotations: {
      'io.github.seccomp.libseccomp.version': liveHost.seccomp.version(),
      'dev.ocits.version': buildInfo.version,
      'dev.ocits.commit': buildInfo.commit,
    },
  };
}

function pureCgroupV2(): boolean {
  return fs.existsSync('/sys/fs/cgroup/cgroup.controllers');
}

// Sorted, as runc lists them.
function seccompFeatures(): SeccompFeatures {
  const names = (set: Iterable<string>): string[] => [...set].sort();
  return {
    enabled: true,
    actions: names(SECCOMP_ACTIONS.keys()),
    operators: names(SECCOMP_OPERATORS.keys()),
    archs: names([...SECCOMP_ARCHITECTURES.keys()].filter((name) => liveHost.seccomp.archToken(name) !== 0)),
    knownFlags: names(SECCOMP_FLAGS.keys()),
    supportedFlags: names([...SECCOMP_FLAGS.keys()].filter(liveHost.seccomp.flagSupported)),
  };
}
