// The whole launch plan of `ocits spec`'s default config, as a value: what
// the addon's init gets for the container runc's default describes.
import { CHROOT, ENSURE_DIRECTORY, ENSURE_PLAIN_DIRECTORY, MOVE_ROOT, type MountStep, PIVOT_ROOT } from '../../../src/addon-plan';
import type { CgroupMountStep } from '../../../src/cgroups/mount';
import { buildInitPlan, type PlanContext } from '../../../src/plan/init';
import { MS } from '../../../src/plan/mount-options';
import { defaultConfig } from '../../../src/spec/default-config';
import { fakeHost } from '../../helpers/plan-host';

const CLONE_NEWNS = 0x00020000;
const CLONE_NEWUTS = 0x04000000;
const CLONE_NEWIPC = 0x08000000;
const CLONE_NEWPID = 0x20000000;
const CLONE_NEWNET = 0x40000000;
const S_IFCHR = 0o020000;
const RLIMIT_NOFILE = 7;
const [CAP_KILL, CAP_NET_BIND_SERVICE, CAP_AUDIT_WRITE] = [5, 10, 29];

const cgroupSteps: CgroupMountStep[] = [{ kind: 'fs', fstype: 'cgroup2', data: '', path: '', fallbackBind: '/sys/fs/cgroup/c1' }];

function context(overrides: Partial<PlanContext> = {}): PlanContext {
  return {
    bundleDir: '/bundles/c1',
    rootfs: '/bundles/c1/rootfs',
    execFifo: '/run/ocits/c1/exec.fifo',
    consoleSocket: -1,
    noPivot: false,
    cgroupMountSteps: () => cgroupSteps,
    stateBufferSize: 512,
    privileged: true,
    host: fakeHost({ capLastCap: 40 }),
    ...overrides,
  };
}

/** A mount step with the fields most steps leave at their defaults. */
function mount(step: Partial<MountStep> & Pick<MountStep, 'source' | 'target' | 'fstype' | 'flags' | 'configIndex'>): MountStep {
  return {
    data: null,
    remount: 0,
    propagation: 0,
    attrSet: 0,
    attrClr: 0,
    idmap: null,
    ensure: ENSURE_DIRECTORY,
    copyUp: false,
    fallbackSource: null,
    fallbackRemount: 0,
    ...step,
  };
}

describe('the plan of the default config', () => {
  it('is runc\'s container, step for step', () => {
    const defaultCaps = (1n << BigInt(CAP_KILL)) | (1n << BigInt(CAP_NET_BIND_SERVICE)) | (1n << BigInt(CAP_AUDIT_WRITE));
    const sysFlags = MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RDONLY;
    const cgroupFlags = sysFlags | MS.RELATIME;
    expect(buildInitPlan(defaultConfig(), context())).toEqual({
      cloneFlags: CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS,
      namespaces: { joins: [], newUser: false, becomeRoot: false, unshareFlags: 0, timeOffsets: null, forkInit: false },
      idMaps: null,
      cgroup: { dir: -1, tasks: [] },
      unshareCgroup: false,
      hostname: 'ocits',
      domainname: null,
      rootfs: '/bundles/c1/rootfs',
      rootPropagation: MS.SLAVE | MS.REC,
      rootfsParentMount: null,
      readonlyRoot: true,
      devRemount: 0,
      rootEntry: PIVOT_ROOT,
      hiddenMounts: [],
      mounts: [
        mount({ configIndex: 0, source: 'proc', target: 'proc', fstype: 'proc', flags: 0, ensure: ENSURE_PLAIN_DIRECTORY }),
        mount({ configIndex: 1, source: 'tmpfs', target: 'dev', fstype: 'tmpfs', flags: MS.NOSUID | MS.STRICTATIME, data: 'mode=755,size=65536k' }),
        mount({
          configIndex: 2, source: 'devpts', target: 'dev/pts', fstype: 'devpts', flags: MS.NOSUID | MS.NOEXEC,
          data: 'newinstance,ptmxmode=0666,mode=0620,gid=5',
        }),
        mount({ configIndex: 3, source: 'shm', target: 'dev/shm', fstype: 'tmpfs', flags: MS.NOSUID | MS.NOEXEC | MS.NODEV, data: 'mode=1777,size=65536k' }),
        mount({ configIndex: 4, source: 'mqueue', target: 'dev/mqueue', fstype: 'mqueue', flags: MS.NOSUID | MS.NOEXEC | MS.NODEV }),
        // Refused in a user namespace without its own network namespace: the host's /sys instead.
        mount({
          configIndex: 5, source: 'sysfs', target: 'sys', fstype: 'sysfs', flags: sysFlags, ensure: ENSURE_PLAIN_DIRECTORY,
          fallbackSource: '/sys', fallbackRemount: MS.BIND | MS.REMOUNT | sysFlags,
        }),
        mount({
          configIndex: 6, source: 'cgroup2', target: 'sys/fs/cgroup', fstype: 'cgroup2', flags: cgroupFlags, data: '',
          fallbackSource: '/sys/fs/cgroup/c1', fallbackRemount: MS.BIND | MS.REMOUNT | cgroupFlags,
        }),
      ],
      devices: [
        ['dev/null', 1, 3], ['dev/zero', 1, 5], ['dev/full', 1, 7], ['dev/random', 1, 8], ['dev/urandom', 1, 9], ['dev/tty', 5, 0],
      ].map(([path, major, minor]) => ({ path, bindSource: null, mode: S_IFCHR | 0o666, major, minor, uid: 0, gid: 0 })),
      symlinks: [
        { target: '/proc/self/fd', path: 'dev/fd', replace: false },
        { target: '/proc/self/fd/0', path: 'dev/stdin', replace: false },
        { target: '/proc/self/fd/1', path: 'dev/stdout', replace: false },
        { target: '/proc/self/fd/2', path: 'dev/stderr', replace: false },
        { target: '/proc/kcore', path: 'dev/core', replace: false },
        { target: 'pts/ptmx', path: 'dev/ptmx', replace: true },
      ],
      maskedPaths: [
        'proc/acpi', 'proc/asound', 'proc/kcore', 'proc/keys', 'proc/latency_stats',
        'proc/timer_list', 'proc/timer_stats', 'proc/sched_debug', 'sys/firmware', 'proc/scsi',
      ],
      readonlyPaths: ['proc/bus', 'proc/fs', 'proc/irq', 'proc/sys', 'proc/sysrq-trigger'],
      sysctls: [],
      createContainerHooks: [],
      startContainerHooks: [],
      execFifo: '/run/ocits/c1/exec.fifo',
      passedFds: 0,
      stateBufferSize: 512,
      process: {
        args: ['sh'],
        env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
        pathEnv: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        cwd: '/',
        uid: 0,
        gid: 0,
        additionalGids: [],
        umask: 0o022,
        noNewPrivileges: true,
        rlimits: [{ resource: RLIMIT_NOFILE, soft: 1024n, hard: 1024n }],
        // The default lists no inheritable set, and the kernel raises an ambient
        // capability only when it is inheritable too.
        capabilities: { bounding: defaultCaps, effective: defaultCaps, permitted: defaultCaps, inheritable: 0n, ambient: 0n, lastCap: 40 },
        seccomp: null,
        personality: -1,
        scheduler: null,
        ioPriority: -1,
        setGroups: true,
        terminal: true,
        lsmWrites: [],
        consoleRows: 0,
        consoleColumns: 0,
        consoleSocket: -1,
      },
    });
  });

  it('binds the host\'s device nodes, maps ids and keeps the groups in a rootless user namespace', () => {
    const config = defaultConfig({ rootless: { uid: 1000, gid: 1000 } });
    const host = fakeHost({ paths: { '/sys': 'directory' }, kcore: false });
    const plan = buildInitPlan(config, context({ privileged: false, host }));
    expect(plan.idMaps).toEqual({ uidMap: '0 1000 1\n', gidMap: '0 1000 1\n', denySetgroups: true });
    expect(plan.namespaces).toEqual({
      joins: [], newUser: true, becomeRoot: true, unshareFlags: CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS,
      timeOffsets: null, forkInit: true,
    });
    expect(plan.cloneFlags).toBe(0);
    expect(plan.devices.map((device) => device.bindSource)).toEqual(['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty']);
    // The host's /sys, read-only by a remount; no /dev/core without /proc/kcore.
    expect(plan.mounts[5]).toEqual(mount({
      configIndex: 5, source: '/sys', target: 'sys', fstype: null, flags: MS.BIND | MS.REC,
      remount: MS.BIND | MS.REMOUNT | MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RDONLY,
    }));
    expect(plan.symlinks.map((link) => link.path)).toEqual(['dev/fd', 'dev/stdin', 'dev/stdout', 'dev/stderr', 'dev/ptmx']);
    expect(plan.process.setGroups).toBe(false);
  });

  it('finds the mount that holds a shared rootfs among the host\'s mount points', () => {
    const config = defaultConfig();
    config.linux!.rootfsPropagation = 'shared';
    const host = fakeHost({ mountPoints: ['/', '/bundles', '/bundles/c1/rootfs/proc', '/bund'] });
    const plan = buildInitPlan(config, context({ host }));
    expect(plan.rootPropagation).toBe(MS.SHARED);
    expect(plan.rootfsParentMount).toBe('/bundles');
  });

  it('with --no-pivot, hides the proc and sysfs mounts the chroot would leave beneath the container', () => {
    const entry = (mountPoint: string, fstype: string, root = '/') => ({ root, mountPoint, fstype, superOptions: [] });
    const host = fakeHost({
      mounts: [
        entry('/', 'ext4'), entry('/proc', 'proc'), entry('/sys', 'sysfs'), entry('/proc/sys/fs/binfmt_misc', 'binfmt_misc'),
        // Not whole filesystems, or the container's own: nothing to hide.
        entry('/srv/proc-part', 'proc', '/sys'), entry('/bundles/c1/rootfs/proc', 'proc'),
        entry('/var/lib/other/proc', 'proc'),
      ],
    });
    const plan = buildInitPlan(defaultConfig(), context({ host, noPivot: true }));
    expect(plan.rootEntry).toBe(MOVE_ROOT);
    expect(plan.hiddenMounts).toEqual(['/proc', '/sys', '/var/lib/other/proc']);
  });

  it('without a mount namespace, chroots and changes no propagation of the runtime\'s mounts', () => {
    const config = defaultConfig();
    config.linux!.namespaces = config.linux!.namespaces!.filter((ns) => ns.type !== 'mount');
    delete config.linux!.maskedPaths;
    delete config.linux!.readonlyPaths;
    const plan = buildInitPlan(config, context({ noPivot: true }));
    expect(plan).toMatchObject({ rootEntry: CHROOT, rootPropagation: 0, rootfsParentMount: null, hiddenMounts: [] });
  });

  it('without a mount namespace, refuses what needs one, by pointer', () => {
    const withoutMount = () => {
      const config = defaultConfig();
      config.linux!.namespaces = config.linux!.namespaces!.filter((ns) => ns.type !== 'mount');
      return config;
    };
    const why = "needs a mount namespace of the container's own (new or joined in /linux/namespaces)";
    expect(() => buildInitPlan(withoutMount(), context())).toThrow(`/linux/maskedPaths: masking paths ${why}`);
    const readonly = withoutMount();
    delete readonly.linux!.maskedPaths;
    expect(() => buildInitPlan(readonly, context())).toThrow(`/linux/readonlyPaths: read-only paths ${why}`);
    const user = withoutMount();
    delete user.linux!.maskedPaths;
    delete user.linux!.readonlyPaths;
    user.linux!.namespaces!.push({ type: 'user' });
    user.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    user.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    expect(() => buildInitPlan(user, context())).toThrow(`/linux/namespaces: a user namespace ${why}: it may not mount in the runtime's`);
  });

  it('refuses --no-pivot with a joined mount namespace, whose mounts it cannot see', () => {
    const config = defaultConfig();
    config.linux!.namespaces = config.linux!.namespaces!.map((ns) => (ns.type === 'mount' ? { type: 'mount', path: '/proc/42/ns/mnt' } : ns));
    expect(() => buildInitPlan(config, context({ noPivot: true }))).toThrow('--no-pivot: not supported by ocits with a joined mount namespace (/linux/namespaces)');
  });

  it('refuses a bind mount whose source the host lacks, naming the mount', () => {
    const config = defaultConfig();
    config.mounts!.push({ destination: '/data', source: 'data', options: ['bind'] });
    expect(() => buildInitPlan(config, context())).toThrow('/mounts/7/source: /bundles/c1/data does not exist');
  });
});
