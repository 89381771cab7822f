// Isolation beyond the basic namespaces: seccomp, sysctl, personality,
// scheduler, ioPriority, cgroup resources and recursive mount attributes of a
// confined container (config-linux.md, config.md#configLinuxProcess and
// #configLinuxMountOptions); user namespaces with several mapping ranges,
// idmapped binds, time namespaces, and joining another container's
// namespaces by path.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { makeBundle, writeExecutable } = require('../lib/bundle');
const { probeScript, parseProbes, probe, parseStatus, parseMountinfo } = require('../lib/probe');
const { observe } = require('./process');

/** The libseccomp architectures of this machine's native ABIs. */
const SECCOMP_ARCHITECTURES = { x64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], arm64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'] }[
  process.arch
] ?? [];

/** A case: probe `name` printed exactly `expected`. */
function printed(section, requirement, name, expected, deviations) {
  return {
    section,
    requirement,
    deviations,
    check(o) {
      const { out } = probe(o.probes, name);
      return out === expected ? undefined : `printed ${JSON.stringify(out)}, expected ${JSON.stringify(expected)}`;
    },
  };
}

/** A case: probe `name` failed with a message matching `pattern` (an errno's text). */
function failedWith(section, requirement, name, pattern) {
  return {
    section,
    requirement,
    check(o) {
      const result = probe(o.probes, name);
      return result.status !== 0 && pattern.test(result.out) ? undefined : `status ${result.status}: ${result.out}`;
    },
  };
}

/**
 * The cgroup files of a process as the host sees them: file name -> content,
 * for v1 hierarchies (one per controller, found through /proc/PID/cgroup) or
 * the v2 unified hierarchy when it is mounted at /sys/fs/cgroup.
 */
function readCgroupFiles(pid, names) {
  const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  const unified = UNIFIED;
  const dirs = [];
  for (const line of lines) {
    const [, controllers, cgroup] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (unified && controllers === '') dirs.push(path.join('/sys/fs/cgroup', cgroup));
    if (!unified && controllers) for (const name of [controllers, ...controllers.split(',')]) dirs.push(path.join('/sys/fs/cgroup', name, cgroup));
  }
  const files = new Map();
  for (const name of names) {
    const dir = dirs.find((d) => fs.existsSync(path.join(d, name)));
    if (dir) files.set(name, fs.readFileSync(path.join(dir, name), 'utf8').trim());
  }
  return { unified, files };
}

/** create, look at the container from the host, start, wait, delete. */
function observeCreated({ runtime, id }, name, bundle, lookFromHost) {
  const containerId = id(name);
  runtime.ok(`create ${containerId}`, runtime.create(containerId, bundle));
  const created = runtime.state(containerId);
  const fromHost = lookFromHost(created);
  runtime.ok(`start ${containerId}`, runtime.run(['start', containerId]));
  runtime.waitForStatus(containerId, 'stopped');
  const output = runtime.output(containerId);
  runtime.ok(`delete ${containerId}`, runtime.run(['delete', containerId]));
  return { ...output, created, fromHost, probes: parseProbes(output.stdout), bundle };
}

/** Runs `mount ARGS...` on the host; throws with its message when it fails. */
function hostMount(args) {
  const result = spawnSync('mount', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`mount ${args.join(' ')}: ${result.stderr.trim()}`);
}

/** A file's content, or `otherwise` when it cannot be read. */
function readOr(file, otherwise) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return otherwise;
  }
}

const MIB = 1024 * 1024;
// The huge page limit needs 2 MB pages and the hugetlb controller (this
// hybrid host has the pages but no v1 hugetlb hierarchy mounted); without
// them neither runtime can apply it and the case is left out.
const HUGETLB =
  fs.existsSync('/sys/kernel/mm/hugepages/hugepages-2048kB') &&
  (fs.existsSync('/sys/fs/cgroup/hugetlb') || /\bhugetlb\b/.test(readOr('/sys/fs/cgroup/cgroup.controllers', '')));
/** Whether this host's cgroups are v2 only (cgroup v1's cpu.shares then has no file). */
const UNIFIED = fs.existsSync('/sys/fs/cgroup/cgroup.controllers');
const SYSCTL = { 'net.ipv4.ip_forward': '1', 'kernel.msgmnb': '12345' };
const SCHED_BATCH = 3;
const EXDEV = 18;
const EDOM = 33;
const RECURSIVE = ['rro', 'rnosuid', 'rnodev', 'rnoexec', 'rnoatime'];

const confined = {
  title: 'seccomp, sysctl, personality, scheduler, ioPriority, resources and mount attributes',
  setup(context) {
    const name = 'confined';
    const submount = path.join(context.dir, name, 'recursive', 'sub');
    let mounted = false;
    try {
      const bundle = makeBundle(context.dir, name, (config, b) => {
        const probes = [
          ['seccomp-status', 'grep -E "^Seccomp(_filters)?:" /proc/self/status'],
          ['denied-errno', 'mkdir /tmp/conformance-dir'],
          ['denied-default-errno', 'touch /tmp/a && ln /tmp/a /tmp/b'],
          ['denied-by-arg', 'kill -0 $$'],
          ['allowed-by-arg', 'kill -CONT $$ && echo sent'],
          ['sysctl', Object.keys(SYSCTL).map((key) => `cat /proc/sys/${key.replace(/\./g, '/')}`).join('; ')],
          ['machine', 'uname -m'],
          ['stat', 'cat /proc/$$/stat'],
          ['ionice', 'ionice -p $$'],
          ['mountinfo', 'cat /proc/self/mountinfo'],
          ['copyup', 'cat /conformance/copyup/file'],
        ];
        writeExecutable(path.join(b, 'rootfs', 'probe.sh'), probeScript(probes));
        config.process.args = ['sh', '/probe.sh'];
        fs.mkdirSync(submount, { recursive: true });
        hostMount(['-t', 'tmpfs', '-o', 'size=1m', 'conformance', submount]);
        mounted = true;
        fs.mkdirSync(path.join(b, 'rootfs', 'conformance', 'copyup'), { recursive: true });
        fs.writeFileSync(path.join(b, 'rootfs', 'conformance', 'copyup', 'file'), 'from the rootfs\n');

        config.linux.seccomp = {
          defaultAction: 'SCMP_ACT_ALLOW',
          architectures: SECCOMP_ARCHITECTURES,
          syscalls: [
            { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: EXDEV },
            { names: ['link', 'linkat'], action: 'SCMP_ACT_ERRNO' },
            { names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: EDOM, args: [{ index: 1, value: 0, op: 'SCMP_CMP_EQ' }] },
          ],
        };
        config.linux.sysctl = SYSCTL;
        config.linux.personality = { domain: 'LINUX32' };
        config.process.scheduler = { policy: 'SCHED_BATCH', nice: 5 };
        config.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 6 };
        config.linux.cgroupsPath = `/conformance-${process.pid}-confined`;
        config.linux.resources.memory = { limit: 64 * MIB, reservation: 32 * MIB };
        config.linux.resources.pids = { limit: 50 };
        config.linux.resources.cpu = { shares: 512, quota: 50000, period: 100000, cpus: '0' };
        if (HUGETLB) config.linux.resources.hugepageLimits = [{ pageSize: '2MB', limit: 4 * MIB }];
        config.mounts.push(
          { destination: '/conformance/recursive', type: 'bind', source: path.join(b, 'recursive'), options: ['rbind', ...RECURSIVE] },
          { destination: '/conformance/copyup', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'mode=755'] },
        );
      });
      return observeCreated(context, name, bundle, (state) =>
        readCgroupFiles(state.pid, [
          'memory.limit_in_bytes',
          'memory.soft_limit_in_bytes',
          'memory.max',
          'memory.low',
          'pids.max',
          'cpu.shares',
          'cpu.cfs_quota_us',
          'cpu.cfs_period_us',
          'cpu.max',
          'cpuset.cpus',
          'hugetlb.2MB.limit_in_bytes',
          'hugetlb.2MB.max',
        ]),
      );
    } finally {
      if (mounted) spawnSync('umount', [submount]);
    }
  },
  cases: [
    {
      section: 'config-linux.md#configLinuxSeccomp',
      requirement: 'a seccomp filter is loaded for the container process',
      check(o) {
        const status = parseStatus(probe(o.probes, 'seccomp-status').out);
        return status.get('Seccomp') === '2' ? undefined : `/proc/self/status: ${probe(o.probes, 'seccomp-status').out}`;
      },
    },
    failedWith('config-linux.md#configLinuxSeccomp', 'SCMP_ACT_ERRNO with errnoRet: the syscall fails with that errno (EXDEV)', 'denied-errno', /cross-device/i),
    failedWith('config-linux.md#configLinuxSeccomp', 'SCMP_ACT_ERRNO without errnoRet: the syscall fails with EPERM', 'denied-default-errno', /not permitted/i),
    failedWith('config-linux.md#configLinuxSeccomp', 'a rule with args (index 1 SCMP_CMP_EQ 0) denies the matching call (kill -0)', 'denied-by-arg', /domain/i),
    printed('config-linux.md#configLinuxSeccomp', 'a rule with args leaves other calls of the syscall alone (kill -CONT)', 'allowed-by-arg', 'sent'),
    printed(
      'config-linux.md#configLinuxSysctl',
      'linux.sysctl values are set in the container (net.ipv4.ip_forward, kernel.msgmnb)',
      'sysctl',
      Object.values(SYSCTL).join('\n'),
    ),
    {
      section: 'config-linux.md#configLinuxPersonality',
      requirement: 'personality domain LINUX32: uname reports a 32-bit machine',
      deviations: { runc: 'runc 1.1.5 ignores linux.personality (added in runc 1.2)' },
      check(o) {
        const machine = probe(o.probes, 'machine').out;
        return /^(i[3-6]86|armv\w+)$/.test(machine) ? undefined : `uname -m printed ${machine} (host ${os.machine()})`;
      },
    },
    {
      section: 'config.md#configLinuxProcess',
      requirement: 'scheduler policy SCHED_BATCH and nice 5 are the process\'s',
      deviations: { runc: 'runc 1.1.5 ignores process.scheduler (added in runc 1.2)' },
      check(o) {
        // /proc/PID/stat: fields after "(comm)" start at field 3; nice is
        // field 19, policy field 41.
        const fields = probe(o.probes, 'stat').out.replace(/^.*\) /s, '').split(' ');
        const [nice, policy] = [fields[19 - 3], fields[41 - 3]];
        return nice === '5' && policy === String(SCHED_BATCH) ? undefined : `nice ${nice}, policy ${policy}`;
      },
    },
    printed('config.md#configLinuxProcess', 'ioPriority class IOPRIO_CLASS_BE, priority 6 is the process\'s', 'ionice', 'best-effort: prio 6', {
      runc: 'runc 1.1.5 ignores process.ioPriority (added in runc 1.2)',
    }),
    ...[
      ['config-linux.md#configLinuxMemory', 'memory.limit is the memory limit', ['memory.limit_in_bytes', 'memory.max'], String(64 * MIB)],
      ['config-linux.md#configLinuxMemory', 'memory.reservation is the soft limit', ['memory.soft_limit_in_bytes', 'memory.low'], String(32 * MIB)],
      ['config-linux.md#configLinuxPIDS', 'pids.limit is the maximum number of tasks', ['pids.max'], '50'],
      ...(UNIFIED ? [] : [['config-linux.md#configLinuxCPU', 'cpu.shares is the cgroup v1 share', ['cpu.shares'], '512']]),
      ['config-linux.md#configLinuxCPU', 'cpu.quota and cpu.period are the CFS bandwidth', ['cpu.cfs_quota_us', 'cpu.max'], '50000'],
      ['config-linux.md#configLinuxCPU', 'cpu.cpus is the cpuset', ['cpuset.cpus'], '0'],
      ...(HUGETLB ? [['config-linux.md#configLinuxHugePageLimits', 'hugepageLimits set the 2MB huge page limit', ['hugetlb.2MB.limit_in_bytes', 'hugetlb.2MB.max'], String(4 * MIB)]] : []),
    ].map(([section, requirement, files, expected]) => ({
      section,
      requirement: `${requirement} of the container's cgroup`,
      check(o) {
        const file = files.find((f) => o.fromHost.files.has(f));
        if (!file) return `none of ${files.join(', ')} in the container's cgroups`;
        // cgroup v2's cpu.max holds "QUOTA PERIOD".
        const seen = file === 'cpu.max' ? o.fromHost.files.get(file).split(' ')[0] : o.fromHost.files.get(file);
        if (file === 'cpu.cfs_quota_us' && o.fromHost.files.get('cpu.cfs_period_us') !== '100000') return `cpu.cfs_period_us is ${o.fromHost.files.get('cpu.cfs_period_us')}`;
        return seen === expected ? undefined : `${file} is ${seen}, expected ${expected}`;
      },
    })),
    {
      section: 'config.md#configLinuxMountOptions',
      requirement: `recursive attributes ${RECURSIVE.join(',')} apply to the submounts of an rbind`,
      check(o) {
        const mounts = parseMountinfo(probe(o.probes, 'mountinfo').out);
        const sub = mounts.filter((m) => m.mountPoint === '/conformance/recursive/sub').pop();
        if (!sub) return 'the submount /conformance/recursive/sub is missing';
        const missing = ['ro', 'nosuid', 'nodev', 'noexec', 'noatime'].filter((option) => !sub.options.includes(option));
        return missing.length === 0 ? undefined : `the submount is ${sub.options.join(',')}: missing ${missing.join(',')}`;
      },
    },
    printed('config.md#configLinuxMountOptions', 'tmpcopyup: the tmpfs starts with the contents of the directory it covers', 'copyup', 'from the rootfs'),
  ],
};

// Two host ranges, so that a second range is needed to map uid 1000.
const UID_MAPPINGS = [
  { containerID: 0, hostID: 400000, size: 1000 },
  { containerID: 1000, hostID: 500000, size: 1 },
];
const GID_MAPPINGS = [
  { containerID: 0, hostID: 410000, size: 1000 },
  { containerID: 1000, hostID: 510000, size: 1 },
];
const mapLine = (m) => `${m.containerID} ${m.hostID} ${m.size}`;

/**
 * Lets container root (an unprivileged host uid) reach the bundles under the
 * suite's work directory, and makes the mount points it could not create in
 * the rootfs (owned by host root).
 */
function prepareForUserNamespace(context, bundle, mountPoints) {
  fs.chmodSync(path.dirname(context.dir), 0o711);
  fs.chmodSync(context.dir, 0o755);
  for (const mountPoint of mountPoints) fs.mkdirSync(path.join(bundle, 'rootfs', mountPoint), { recursive: true });
}

const userNamespace = {
  title: 'a container in a new user namespace with two mapping ranges',
  setup(context) {
    const o = observe(
      context,
      'userns',
      (config, bundle) => {
        prepareForUserNamespace(context, bundle, ['conformance/shared']);
        const shared = path.join(bundle, 'shared');
        fs.mkdirSync(shared, { mode: 0o777 });
        fs.chmodSync(shared, 0o777);
        config.linux.namespaces.push({ type: 'user' });
        config.linux.uidMappings = UID_MAPPINGS;
        config.linux.gidMappings = GID_MAPPINGS;
        config.process.capabilities.bounding.push('CAP_CHOWN');
        config.process.capabilities.effective.push('CAP_CHOWN');
        config.process.capabilities.permitted.push('CAP_CHOWN');
        config.mounts.push({ destination: '/conformance/shared', type: 'bind', source: shared, options: ['rbind', 'rw'] });
      },
      [
        ['uid-map', 'cat /proc/self/uid_map'],
        ['gid-map', 'cat /proc/self/gid_map'],
        ['ns-user', 'readlink /proc/self/ns/user'],
        ['id', 'id -u; id -g'],
        ['create', 'touch /conformance/shared/root-file /conformance/shared/user-file && chown 1000:1000 /conformance/shared/user-file && echo done'],
      ],
    );
    const owner = (file) => {
      const stat = fs.statSync(path.join(o.bundle, 'shared', file));
      return `${stat.uid}:${stat.gid}`;
    };
    o.rootFile = owner('root-file');
    o.userFile = owner('user-file');
    const busybox = fs.statSync(path.join(o.bundle, 'rootfs', 'bin', 'busybox'));
    o.rootfsOwner = `${busybox.uid}:${busybox.gid}`;
    return o;
  },
  cases: [
    {
      section: 'config-linux.md#configLinuxNamespaces',
      requirement: 'a user namespace without path: the runtime MUST create a new one',
      check(o) {
        const seen = probe(o.probes, 'ns-user').out;
        const runtimes = fs.readlinkSync('/proc/self/ns/user');
        return seen !== '' && seen !== runtimes ? undefined : `the container is in ${seen || 'no namespace'}, the runtime in ${runtimes}`;
      },
    },
    {
      section: 'config-linux.md#configLinuxUserNamespaceMappings',
      requirement: 'uidMappings with two ranges are the user namespace\'s uid_map',
      check(o) {
        const seen = probe(o.probes, 'uid-map').out.trim().split('\n').map((line) => line.trim().split(/\s+/).join(' '));
        const expected = UID_MAPPINGS.map(mapLine);
        return JSON.stringify(seen) === JSON.stringify(expected) ? undefined : `uid_map ${JSON.stringify(seen)}, expected ${JSON.stringify(expected)}`;
      },
    },
    {
      section: 'config-linux.md#configLinuxUserNamespaceMappings',
      requirement: 'gidMappings with two ranges are the user namespace\'s gid_map',
      check(o) {
        const seen = probe(o.probes, 'gid-map').out.trim().split('\n').map((line) => line.trim().split(/\s+/).join(' '));
        const expected = GID_MAPPINGS.map(mapLine);
        return JSON.stringify(seen) === JSON.stringify(expected) ? undefined : `gid_map ${JSON.stringify(seen)}, expected ${JSON.stringify(expected)}`;
      },
    },
    printed('config-linux.md#configLinuxUserNamespaceMappings', 'the process runs as uid 0 and gid 0 of the user namespace', 'id', '0\n0'),
    {
      section: 'config-linux.md#configLinuxUserNamespaceMappings',
      requirement: 'a file created by container root is owned by the mapped host ids (first range)',
      check: (o) => (o.rootFile === '400000:410000' ? undefined : `owned by ${o.rootFile} on the host (${probe(o.probes, 'create').out})`),
    },
    {
      section: 'config-linux.md#configLinuxUserNamespaceMappings',
      requirement: 'a file given to container uid 1000 is owned by the mapped host ids (second range)',
      check: (o) => (o.userFile === '500000:510000' ? undefined : `owned by ${o.userFile} on the host (${probe(o.probes, 'create').out})`),
    },
    {
      section: 'config-linux.md#configLinuxUserNamespaceMappings',
      requirement: 'the runtime SHOULD NOT modify the ownership of referenced filesystems (the rootfs)',
      check: (o) => (o.rootfsOwner === '0:0' ? undefined : `rootfs/bin/busybox is now owned by ${o.rootfsOwner}`),
    },
  ],
};

const IDMAP_HOST = 600000;
const IDMAP = [{ containerID: 0, hostID: IDMAP_HOST, size: 65536 }];
const RUNC_IDMAP = 'runc 1.1.5 does not know idmap and mount uidMappings (idmapped mounts came with runc 1.2): a plain bind';

/**
 * A group: a bind of a host directory holding files of host uid 0 and 1000,
 * idmapped by the mount's uidMappings/gidMappings 0 -> 600000 (65536 ids),
 * in a container with (`userNamespace`) or without a user namespace mapping
 * the same range. The mount's mapping takes on-disk id N to host id
 * 600000+N, which a container mapping 0 -> 600000 sees as N again.
 */
function idmappedMount(userNamespace) {
  const deviations = () => ({ runc: RUNC_IDMAP });
  const seen = userNamespace ? ['0:0', '1000:1000'] : [`${IDMAP_HOST}:${IDMAP_HOST}`, `${IDMAP_HOST + 1000}:${IDMAP_HOST + 1000}`];
  const where = userNamespace ? 'in a user namespace with the same mapping' : 'without a user namespace';
  return {
    title: `an idmapped bind mount ${where}`,
    setup(context) {
      const name = userNamespace ? 'idmap-userns' : 'idmap';
      const o = observe(
        context,
        name,
        (config, bundle) => {
          const source = path.join(bundle, 'idmapped');
          fs.mkdirSync(source);
          fs.writeFileSync(path.join(source, 'root-file'), '');
          fs.writeFileSync(path.join(source, 'user-file'), '');
          fs.chownSync(path.join(source, 'user-file'), 1000, 1000);
          if (userNamespace) {
            prepareForUserNamespace(context, bundle, ['conformance/idmapped']);
            config.linux.namespaces.push({ type: 'user' });
            config.linux.uidMappings = IDMAP;
            config.linux.gidMappings = IDMAP;
          }
          config.mounts.push({ destination: '/conformance/idmapped', type: 'bind', source, options: ['bind', 'idmap'], uidMappings: IDMAP, gidMappings: IDMAP });
        },
        [
          ['owners', 'stat -c "%n %u:%g" /conformance/idmapped/root-file /conformance/idmapped/user-file'],
          ['create', 'touch /conformance/idmapped/new-file && echo done'],
        ],
      );
      try {
        const stat = fs.statSync(path.join(o.bundle, 'idmapped', 'new-file'));
        o.newFile = `${stat.uid}:${stat.gid}`;
      } catch (error) {
        o.newFile = error.code;
      }
      return o;
    },
    cases: [
      printed(
        'config.md#configLinuxMountOptions',
        `idmap with the mount's uidMappings/gidMappings ${where}: files of host 0 and 1000 show as ${seen.join(' and ')}`,
        'owners',
        `/conformance/idmapped/root-file ${seen[0]}\n/conformance/idmapped/user-file ${seen[1]}`,
        deviations(),
      ),
      ...(userNamespace
        ? [
            {
              section: 'config.md#configLinuxMountOptions',
              requirement: 'idmap in a user namespace: a file created by container root through the mount is owned by host 0',
              deviations: deviations(),
              check: (o) => (o.newFile === '0:0' ? undefined : `new-file: ${o.newFile} (${probe(o.probes, 'create').out})`),
            },
          ]
        : []),
    ],
  };
}

const BOOTTIME_OFFSET = 400 * 86400;
const MONOTONIC_OFFSET = 300 * 86400;
const RUNC_TIME = 'runc 1.1.5 has no time namespace (added in runc 1.2): it refuses the namespace type';

const timeNamespace = {
  title: 'a container in a new time namespace with offsets',
  setup(context) {
    return observe(
      context,
      'timens',
      (config) => {
        config.linux.namespaces.push({ type: 'time' });
        config.linux.timeOffsets = { boottime: { secs: BOOTTIME_OFFSET, nanosecs: 0 }, monotonic: { secs: MONOTONIC_OFFSET, nanosecs: 0 } };
      },
      [
        ['ns-time', 'readlink /proc/self/ns/time'],
        ['offsets', 'cat /proc/self/timens_offsets'],
        ['uptime', 'cut -d. -f1 /proc/uptime'],
      ],
    );
  },
  cases: [
    {
      section: 'config-linux.md#configLinuxNamespaces',
      requirement: 'a time namespace without path: the runtime MUST create a new one',
      deviations: { runc: RUNC_TIME },
      check(o) {
        const seen = probe(o.probes, 'ns-time').out;
        const runtimes = fs.readlinkSync('/proc/self/ns/time');
        return seen !== '' && seen !== runtimes ? undefined : `the container is in ${seen || 'no namespace'}, the runtime in ${runtimes}`;
      },
    },
    {
      section: 'config-linux.md#configLinuxTimeOffset',
      requirement: 'timeOffsets boottime and monotonic are the time namespace\'s offsets',
      deviations: { runc: RUNC_TIME },
      check(o) {
        const offsets = new Map(probe(o.probes, 'offsets').out.split('\n').map((line) => line.trim().split(/\s+/)).map(([clock, secs]) => [clock, secs]));
        const boottime = offsets.get('boottime') ?? offsets.get('7');
        const monotonic = offsets.get('monotonic') ?? offsets.get('1');
        return boottime === String(BOOTTIME_OFFSET) && monotonic === String(MONOTONIC_OFFSET) ? undefined : `timens_offsets: ${probe(o.probes, 'offsets').out}`;
      },
    },
    {
      section: 'config-linux.md#configLinuxTimeOffset',
      requirement: 'the boottime offset shows in /proc/uptime',
      deviations: { runc: RUNC_TIME },
      check(o) {
        const uptime = Number(probe(o.probes, 'uptime').out);
        const host = Math.floor(os.uptime());
        return uptime >= host + BOOTTIME_OFFSET - 60 ? undefined : `uptime ${uptime}, host ${host}`;
      },
    },
  ],
};

const JOINED = { network: 'net', ipc: 'ipc', uts: 'uts', pid: 'pid', cgroup: 'cgroup' };

const joined = {
  title: 'a container joining the namespaces of another by path',
  setup(context) {
    const { runtime, dir, id } = context;
    const holder = id('holder');
    const holderBundle = makeBundle(dir, 'holder', (config) => {
      config.process.args = ['sleep', '600'];
    });
    runtime.ok(`create ${holder}`, runtime.create(holder, holderBundle));
    const { pid } = runtime.state(holder);
    const expected = Object.fromEntries(Object.entries(JOINED).map(([type, file]) => [type, fs.readlinkSync(`/proc/${pid}/ns/${file}`)]));
    const o = observe(
      context,
      'joiner',
      (config) => {
        config.linux.namespaces = [{ type: 'mount' }, ...Object.entries(JOINED).map(([type, file]) => ({ type, path: `/proc/${pid}/ns/${file}` }))];
        // The sysfs of a joined network namespace the runtime did not create is
        // not the point here.
        config.mounts = config.mounts.filter((m) => m.destination !== '/sys');
        delete config.hostname;
      },
      Object.entries(JOINED).map(([type, file]) => [`ns-${type}`, `readlink /proc/self/ns/${file}`]),
    );
    o.expected = expected;
    // A path of the wrong type: the ipc namespace given as the network one.
    const wrongBundle = makeBundle(dir, 'wrong-type', (config) => {
      config.linux.namespaces = [{ type: 'mount' }, { type: 'network', path: `/proc/${pid}/ns/ipc` }];
      config.mounts = config.mounts.filter((m) => m.destination !== '/sys');
      delete config.hostname;
    });
    const wrongId = id('wrong-type');
    o.wrongType = runtime.create(wrongId, wrongBundle);
    o.wrongTypeState = runtime.tryState(wrongId);
    return o;
  },
  cases: [
    ...Object.keys(JOINED).map((type) => ({
      section: 'config-linux.md#configLinuxNamespaces',
      requirement: `a ${type} namespace with path: the runtime MUST place the process in that namespace`,
      check(o) {
        const seen = probe(o.probes, `ns-${type}`).out;
        return seen === o.expected[type] ? undefined : `the container is in ${seen}, the path is ${o.expected[type]}`;
      },
    })),
    {
      section: 'config-linux.md#configLinuxNamespaces',
      requirement: 'a path that is not a namespace of its type: the runtime MUST generate an error',
      check(o) {
        if (o.wrongType.status === 0) return 'create succeeded with an ipc namespace as the network namespace';
        return o.wrongTypeState === undefined || o.wrongTypeState.status === 'stopped' ? undefined : `a container was left: ${JSON.stringify(o.wrongTypeState)}`;
      },
    },
  ],
};

module.exports = { groups: [confined, userNamespace, idmappedMount(false), idmappedMount(true), timeNamespace, joined] };
