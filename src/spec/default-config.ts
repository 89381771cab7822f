// The config.json that `ocits spec` writes: the same fields and defaults as
// `runc spec` (runc 1.1.5), so bundles made for runc and for ocits agree.
// The hostname names this runtime, as runc's names runc.
import { OCI_VERSION } from './version';
import type { Mount, RuntimeConfig } from './types';

export interface DefaultConfigOptions {
  /** Make the config runnable by an unprivileged user: a user namespace mapping these ids to root. */
  rootless?: { uid: number; gid: number };
}

const DEFAULT_CAPABILITIES = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

export function defaultConfig(options: DefaultConfigOptions = {}): RuntimeConfig {
  const { rootless } = options;
  return {
    ociVersion: OCI_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: {
        bounding: [...DEFAULT_CAPABILITIES],
        effective: [...DEFAULT_CAPABILITIES],
        permitted: [...DEFAULT_CAPABILITIES],
        ambient: [...DEFAULT_CAPABILITIES],
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'ocits',
    mounts: defaultMounts(rootless !== undefined),
    linux: {
      ...(rootless === undefined
        ? { resources: { devices: [{ allow: false, access: 'rwm' }] } }
        : {
            uidMappings: [{ containerID: 0, hostID: rootless.uid, size: 1 }],
            gidMappings: [{ containerID: 0, hostID: rootless.gid, size: 1 }],
          }),
      // Without privilege a new network namespace has no way out, so rootless keeps the host's.
      namespaces: (rootless === undefined
        ? ['pid', 'network', 'ipc', 'uts', 'mount']
        : ['pid', 'ipc', 'uts', 'mount', 'user']
      ).map((type) => ({ type: type as 'pid' })),
      maskedPaths: [
        '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
        '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

function defaultMounts(rootless: boolean): Mount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc' },
    {
      destination: '/dev',
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
    },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      // gid 5 (tty) may not be mapped in a rootless user namespace.
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', ...(rootless ? [] : ['gid=5'])],
    },
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
    },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    // A fresh sysfs needs a network namespace of our own; rootless bind-mounts the host's.
    rootless
      ? { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] }
      : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'],
    },
  ];
}
