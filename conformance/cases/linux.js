// The filesystem, devices and namespaces of a container (config.md#configMounts,
// config-linux.md, runtime-linux.md), observed from inside one container with
// a read-only root, and the namespaces and cgroup of a container that shares
// most of the runtime's namespaces.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { probe, parseMountinfo } = require('../lib/probe');
const { observe } = require('./process');

const NAMESPACE_FILES = { pid: 'pid', network: 'net', ipc: 'ipc', uts: 'uts', mount: 'mnt', cgroup: 'cgroup' };

/** The runtime's namespaces: the suite's, as the runtime is its child. */
function runtimeNamespace(type) {
  return fs.readlinkSync(`/proc/self/ns/${NAMESPACE_FILES[type]}`);
}

const namespaceProbes = () => Object.entries(NAMESPACE_FILES).map(([type, file]) => [`ns-${type}`, `readlink /proc/self/ns/${file}`]);

/** The mountinfo entry at `mountPoint` (the last one: the one on top). */
function mountAt(o, mountPoint) {
  const mounts = parseMountinfo(probe(o.probes, 'mountinfo').out);
  const found = mounts.filter((m) => m.mountPoint === mountPoint);
  if (found.length === 0) throw new Error(`nothing is mounted at ${mountPoint}`);
  return found[found.length - 1];
}

/** A case: the mount at `mountPoint` has every per-mount option in `options`. */
function mountOptions(mountPoint, configured, expected, absent = []) {
  return {
    section: 'config.md#configLinuxMountOptions',
    requirement: `mount options ${configured.join(',')} are applied (${mountPoint})`,
    check(o) {
      const mount = mountAt(o, mountPoint);
      const all = [...mount.options, ...mount.superOptions];
      const missing = expected.filter((option) => !all.includes(option));
      const extra = absent.filter((option) => all.includes(option));
      if (missing.length > 0) return `missing ${missing.join(',')} in ${mount.options.join(',')} / ${mount.superOptions.join(',')}`;
      if (extra.length > 0) return `unexpected ${extra.join(',')} in ${mount.options.join(',')}`;
      return undefined;
    },
  };
}

/** A case: probe `name` printed exactly `expected`. */
function printed(section, requirement, name, expected) {
  return {
    section,
    requirement,
    check(o) {
      const { out } = probe(o.probes, name);
      return out === expected ? undefined : `printed ${JSON.stringify(out)}, expected ${JSON.stringify(expected)}`;
    },
  };
}

const DEFAULT_DEVICES = [
  ['/dev/null', '1:3'],
  ['/dev/zero', '1:5'],
  ['/dev/full', '1:7'],
  ['/dev/random', '1:8'],
  ['/dev/urandom', '1:9'],
  ['/dev/tty', '5:0'],
  ['/dev/ptmx', '5:2'],
];
const DEV_LINKS = [
  ['/dev/fd', '/proc/self/fd'],
  ['/dev/stdin', '/proc/self/fd/0'],
  ['/dev/stdout', '/proc/self/fd/1'],
  ['/dev/stderr', '/proc/self/fd/2'],
];
const ANNOTATIONS = { 'org.example.conformance': 'a value', 'org.example.empty': '' };

const filesystem = {
  title: 'filesystem, devices and namespaces of a root container',
  setup(context) {
    return observe(
      context,
      'filesystem',
      (config, bundle) => {
        const rootfs = path.join(bundle, 'rootfs');
        const made = (dir) => fs.mkdirSync(path.join(rootfs, dir), { recursive: true });
        ['conformance/masked-dir', 'conformance/outer', 'conformance/opts-a', 'conformance/opts-b'].forEach(made);
        fs.writeFileSync(path.join(rootfs, 'conformance', 'masked-dir', 'secret'), 'secret\n');
        fs.writeFileSync(path.join(rootfs, 'conformance', 'masked-file'), 'secret\n');
        const bindRo = path.join(bundle, 'bind-ro');
        const bindRw = path.join(bundle, 'bind-rw');
        fs.mkdirSync(bindRo);
        fs.mkdirSync(path.join(bindRw, 'ro-sub'), { recursive: true });
        fs.writeFileSync(path.join(bindRo, 'file'), 'from the host\n');
        const propagation = path.join(bundle, 'propagation');
        for (const kind of ['shared', 'private', 'unbindable']) fs.mkdirSync(path.join(propagation, kind), { recursive: true });

        config.root.readonly = true;
        config.annotations = ANNOTATIONS;
        config.mounts.push(
          { destination: '/conformance/opts-a', type: 'tmpfs', source: 'tmpfs', options: ['ro', 'nosuid', 'nodev', 'noexec', 'noatime'] },
          { destination: '/conformance/opts-b', type: 'tmpfs', source: 'tmpfs', options: ['rw', 'suid', 'dev', 'exec', 'nodiratime', 'sync', 'dirsync'] },
          { destination: '/conformance/bind-ro', type: 'bind', source: bindRo, options: ['bind', 'ro'] },
          { destination: '/conformance/bind-rw', type: 'bind', source: bindRw, options: ['rbind', 'rw'] },
          // Listed order: the inner mount only survives if it comes second.
          { destination: '/conformance/outer', type: 'tmpfs', source: 'tmpfs', options: ['mode=755'] },
          { destination: '/conformance/outer/inner', type: 'tmpfs', source: 'tmpfs', options: ['mode=700'] },
          { destination: 'conformance/relative', type: 'tmpfs', source: 'tmpfs', options: [] },
          { destination: '/conformance/shared', type: 'bind', source: path.join(propagation, 'shared'), options: ['rbind', 'rshared'] },
          { destination: '/conformance/private', type: 'bind', source: path.join(propagation, 'private'), options: ['rbind', 'rprivate'] },
          { destination: '/conformance/unbindable', type: 'bind', source: path.join(propagation, 'unbindable'), options: ['rbind', 'runbindable'] },
        );
        config.linux.maskedPaths.push('/conformance/masked-dir', '/conformance/masked-file', '/conformance/no-such-path');
        config.linux.readonlyPaths.push('/conformance/bind-rw/ro-sub');
        config.linux.devices = [
          { path: '/dev/conformance-null', type: 'c', major: 1, minor: 3, fileMode: 0o640, uid: 1000, gid: 2000 },
          { path: '/dev/conformance-fifo', type: 'p', fileMode: 0o600 },
          { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666 },
        ];
        // Listed order: read and write allowed, then write denied again.
        config.linux.resources.devices.push(
          { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' },
          { allow: false, type: 'c', major: 10, minor: 229, access: 'w' },
        );
      },
      [
        ['mountinfo', 'cat /proc/self/mountinfo'],
        ['write-root', 'touch /conformance-root-file'],
        ['read-bind', 'cat /conformance/bind-ro/file'],
        ['write-bind-ro', 'touch /conformance/bind-ro/new'],
        ['write-bind-rw', 'touch /conformance/bind-rw/new && echo written'],
        ['write-readonly-path', 'touch /conformance/bind-rw/ro-sub/new'],
        ['masked-file', 'cat /conformance/masked-file'],
        ['masked-dir', 'ls -A /conformance/masked-dir'],
        ['masked-timer-list', 'wc -c < /proc/timer_list'],
        ['masked-missing', 'test -e /conformance/no-such-path || echo absent'],
        ['readonly-proc-sys', 'echo 1 > /proc/sys/kernel/conformance 2>&1; grep -c "" /proc/sys/kernel/ostype'],
        ['device', 'stat -c "%F %t:%T %a %u:%g" /dev/conformance-null'],
        ['fifo', 'stat -c "%F %a" /dev/conformance-fifo'],
        ['device-read', 'exec 3</dev/fuse && echo allowed'],
        ['device-write', 'exec 3>/dev/fuse && echo allowed'],
        ['default-devices', `for d in ${DEFAULT_DEVICES.map(([d]) => d).join(' ')}; do stat -L -c "%n %F %t:%T" $d; done`],
        ['use-default-devices', 'head -c 4 /dev/zero | wc -c; head -c 4 /dev/urandom | wc -c; head -c 4 /dev/random | wc -c; echo x > /dev/null && echo null; { echo x > /dev/full; } 2>/dev/null || echo full'],
        ['dev-links', `for l in ${DEV_LINKS.map(([l]) => l).join(' ')}; do echo "$l $(readlink $l)"; done`],
        ['pid', 'echo $$'],
        ...namespaceProbes(),
      ],
    );
  },
  cases: [
    {
      section: 'config.md#configRoot',
      requirement: 'root.readonly true: the root filesystem MUST be read-only inside the container',
      check(o) {
        const result = probe(o.probes, 'write-root');
        if (result.status === 0) return 'a file was created in /';
        return /read-only/i.test(result.out) ? undefined : `creating a file failed otherwise: ${result.out}`;
      },
    },
    {
      section: 'config.md#configMounts',
      requirement: 'a bind mount shows the source directory at its destination',
      check: (o) => (probe(o.probes, 'read-bind').out === 'from the host' ? undefined : `read ${probe(o.probes, 'read-bind').out}`),
    },
    mountOptions('/conformance/opts-a', ['ro', 'nosuid', 'nodev', 'noexec', 'noatime'], ['ro', 'nosuid', 'nodev', 'noexec', 'noatime']),
    mountOptions('/conformance/opts-b', ['rw', 'suid', 'dev', 'exec', 'nodiratime', 'sync', 'dirsync'], ['rw', 'nodiratime', 'sync', 'dirsync'], ['nosuid', 'nodev', 'noexec', 'ro']),
    mountOptions('/conformance/bind-ro', ['bind', 'ro'], ['ro']),
    {
      section: 'config.md#configLinuxMountOptions',
      requirement: 'a bind mount with ro is read-only',
      check(o) {
        const result = probe(o.probes, 'write-bind-ro');
        return result.status !== 0 && /read-only/i.test(result.out) ? undefined : `touch: status ${result.status} ${result.out}`;
      },
    },
    {
      section: 'config.md#configLinuxMountOptions',
      requirement: 'an rbind mount with rw is writable',
      check: (o) => (probe(o.probes, 'write-bind-rw').out === 'written' ? undefined : probe(o.probes, 'write-bind-rw').out),
    },
    {
      section: 'config.md#configMounts',
      requirement: 'the runtime MUST mount entries in the listed order (a nested mount after its parent)',
      check(o) {
        const outer = mountAt(o, '/conformance/outer');
        const inner = mountAt(o, '/conformance/outer/inner');
        return inner.parent === outer.id && inner.fstype === 'tmpfs' ? undefined : 'the inner mount is not on the outer one: it came first, or is hidden';
      },
    },
    {
      section: 'config.md#configMounts',
      requirement: 'a relative destination MUST be interpreted as relative to "/"',
      check: (o) => (mountAt(o, '/conformance/relative').fstype === 'tmpfs' ? undefined : 'no tmpfs at /conformance/relative'),
    },
    {
      section: 'config.md#configLinuxMountOptions',
      requirement: 'propagation option rshared makes the mount shared',
      check(o) {
        const mount = mountAt(o, '/conformance/shared');
        return mount.optional.some((tag) => tag.startsWith('shared:')) ? undefined : `propagation fields: ${mount.optional.join(' ') || 'none'}`;
      },
    },
    {
      section: 'config.md#configLinuxMountOptions',
      requirement: 'propagation option rprivate makes the mount private',
      check(o) {
        const mount = mountAt(o, '/conformance/private');
        return mount.optional.length === 0 ? undefined : `propagation fields: ${mount.optional.join(' ')}`;
      },
    },
    {
      section: 'config.md#configLinuxMountOptions',
      requirement: 'propagation option runbindable makes the mount unbindable',
      check(o) {
        const mount = mountAt(o, '/conformance/unbindable');
        return mount.optional.includes('unbindable') ? undefined : `propagation fields: ${mount.optional.join(' ') || 'none'}`;
      },
    },
    {
      section: 'config-linux.md#configLinuxMaskedPaths',
      requirement: 'a masked file cannot be read',
      check: (o) => (probe(o.probes, 'masked-file').out === '' ? undefined : `read ${probe(o.probes, 'masked-file').out}`),
    },
    {
      section: 'config-linux.md#configLinuxMaskedPaths',
      requirement: 'a masked directory shows none of its contents',
      check: (o) => (probe(o.probes, 'masked-dir').out === '' ? undefined : `listed ${probe(o.probes, 'masked-dir').out}`),
    },
    printed('config-linux.md#configLinuxMaskedPaths', 'a masked /proc file (/proc/timer_list) reads empty', 'masked-timer-list', '0'),
    printed('config-linux.md#configLinuxMaskedPaths', 'a masked path that does not exist is skipped, not created', 'masked-missing', 'absent'),
    {
      section: 'config-linux.md#configLinuxReadonlyPaths',
      requirement: 'a readonly path is read-only while its parent mount stays writable',
      check(o) {
        const result = probe(o.probes, 'write-readonly-path');
        return result.status !== 0 && /read-only/i.test(result.out) ? undefined : `touch: status ${result.status} ${result.out}`;
      },
    },
    {
      section: 'config-linux.md#configLinuxReadonlyPaths',
      requirement: 'a readonly /proc/sys is read-only and still readable',
      check(o) {
        const mount = mountAt(o, '/proc/sys');
        if (!mount.options.includes('ro')) return `/proc/sys is mounted ${mount.options.join(',')}`;
        return probe(o.probes, 'readonly-proc-sys').out.endsWith('1') ? undefined : probe(o.probes, 'readonly-proc-sys').out;
      },
    },
    printed('config-linux.md#configLinuxDevices', 'a listed device exists with its type, numbers, fileMode, uid and gid', 'device', 'character special file 1:3 640 1000:2000'),
    printed('config-linux.md#configLinuxDevices', 'a listed fifo (type p) exists with its fileMode', 'fifo', 'fifo 600'),
    printed('config-linux.md#configLinuxDeviceAllowedlist', 'allowed device list entries apply in order: read still allowed', 'device-read', 'allowed'),
    {
      section: 'config-linux.md#configLinuxDeviceAllowedlist',
      requirement: 'allowed device list entries apply in order: the later deny of write wins',
      check(o) {
        const result = probe(o.probes, 'device-write');
        return result.status !== 0 && /not permitted/i.test(result.out) ? undefined : `opening for write: status ${result.status} ${result.out}`;
      },
    },
    printed(
      'config-linux.md#configLinuxDefaultDevices',
      'the runtime MUST supply /dev/null, zero, full, random, urandom, tty and ptmx',
      'default-devices',
      DEFAULT_DEVICES.map(([device, numbers]) => `${device} character special file ${numbers}`).join('\n'),
    ),
    printed('config-linux.md#configLinuxDefaultDevices', 'the default devices are usable', 'use-default-devices', '4\n4\n4\nnull\nfull'),
    printed(
      'runtime-linux.md#runtimeLinuxDevSymbolicLinks',
      'the runtime MUST create /dev/fd, /dev/stdin, /dev/stdout, /dev/stderr',
      'dev-links',
      DEV_LINKS.map(([link, target]) => `${link} ${target}`).join('\n'),
    ),
    ...Object.keys(NAMESPACE_FILES).map((type) => ({
      section: 'config-linux.md#configLinuxNamespaces',
      requirement: `a ${type} namespace without path: the runtime MUST create a new one`,
      check(o) {
        const seen = probe(o.probes, `ns-${type}`).out;
        return seen !== '' && seen !== runtimeNamespace(type) ? undefined : `the container is in ${seen || 'no namespace'}, the runtime in ${runtimeNamespace(type)}`;
      },
    })),
    printed('config-linux.md#configLinuxNamespaces', 'in a new pid namespace the container process is pid 1', 'pid', '1'),
    {
      section: 'runtime.md#runtimeState',
      requirement: 'annotations in the state are those of config.json',
      check(o) {
        const seen = JSON.stringify(o.created.annotations ?? {});
        return seen === JSON.stringify(ANNOTATIONS) ? undefined : `state annotations: ${seen}`;
      },
    },
  ],
};

const INHERITED = ['pid', 'network', 'ipc', 'uts', 'cgroup'];

const inherited = {
  title: 'a container in a new mount namespace only, in a given cgroup',
  setup(context) {
    const cgroupsPath = `/conformance-${process.pid}`;
    const o = observe(
      context,
      'inherited',
      (config) => {
        config.linux.namespaces = [{ type: 'mount' }];
        config.linux.cgroupsPath = cgroupsPath;
        delete config.hostname;
        config.mounts = config.mounts.filter((m) => m.destination !== '/sys');
      },
      [...namespaceProbes(), ['cgroup', 'cat /proc/self/cgroup']],
    );
    o.cgroupsPath = cgroupsPath;
    o.cgroupLeft = ['pids', 'memory', 'devices', 'unified'].filter((c) => fs.existsSync(path.join('/sys/fs/cgroup', c, cgroupsPath)));
    return o;
  },
  cases: [
    ...INHERITED.map((type) => ({
      section: 'config-linux.md#configLinuxNamespaces',
      requirement: `a ${type} namespace not listed: the container MUST inherit the runtime's`,
      check(o) {
        const seen = probe(o.probes, `ns-${type}`).out;
        return seen === runtimeNamespace(type) ? undefined : `the container is in ${seen}, the runtime in ${runtimeNamespace(type)}`;
      },
    })),
    {
      section: 'config-linux.md#configLinuxCgroupsPath',
      requirement: 'an absolute cgroupsPath is taken relative to the cgroups mount point',
      check(o) {
        const lines = probe(o.probes, 'cgroup').out.split('\n');
        const wanted = lines.filter((line) => /^\d+:(pids|memory|devices|):/.test(line));
        const wrong = wanted.filter((line) => !line.endsWith(`:${o.cgroupsPath}`));
        if (wanted.length === 0) return `no pids, memory, devices or unified line in ${lines.join(' ')}`;
        return wrong.length === 0 ? undefined : `not in ${o.cgroupsPath}: ${wrong.join(' ')}`;
      },
    },
    {
      section: 'runtime.md#runtimeDelete',
      requirement: 'deleting a container MUST delete the resources create made: its cgroups',
      check: (o) => (o.cgroupLeft.length === 0 ? undefined : `${o.cgroupsPath} is left in ${o.cgroupLeft.join(', ')}`),
    },
  ],
};

module.exports = { groups: [filesystem, inherited] };
