// The features document (features.md): what this build of ocits can do.
// It must stay truthful, so it lists only capabilities that work at this
// commit and grows as they land; an empty list means "none", not "unknown".
import buildInfo from '../../generated/build-info.json';
import { addon } from '../addon';
import type { Features } from './types';
import { OCI_VERSION, OCI_VERSION_MIN } from './version';

export function features(): Features {
  return {
    ociVersionMin: OCI_VERSION_MIN,
    ociVersionMax: OCI_VERSION,
    hooks: [],
    mountOptions: [],
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts'],
      capabilities: [],
      cgroup: { v1: false, v2: false, systemd: false, systemdUser: false, rdma: false },
      seccomp: { enabled: false },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
    },
    annotations: {
      'io.github.seccomp.libseccomp.version': addon().seccompVersion(),
      'dev.ocits.version': buildInfo.version,
      'dev.ocits.commit': buildInfo.commit,
    },
  };
}
