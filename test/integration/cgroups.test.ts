// The cgroup membership layer: detection and path resolution as pure
// functions over hand-made hosts, then real cgroups on this machine (needs
// root). The layout checks mirror what runc 1.1.5 produces on this host.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_DEVICE_RULES } from '../../src/cgroups/device-rules';
import { applyDeviceRules } from '../../src/cgroups/devices';
import { detectCgroupHost, parseCgroupHost, type CgroupHost, type Hierarchy } from '../../src/cgroups/host';
import { cgroupPids, createCgroup, removeCgroup } from '../../src/cgroups/membership';
import { cgroupMountSteps } from '../../src/cgroups/mount';
import { resolveContainerCgroup, type ContainerCgroup } from '../../src/cgroups/paths';
import { joinCgroup, removeTestCgroups, runJoined, testCgroupName } from '../helpers/cgroups';

// --- hosts by hand

function v1(name: string, ownPath = '/', controllers = name.split(',')): Hierarchy {
  return { mountPoint: `/sys/fs/cgroup/${name}`, fstype: 'cgroup', controllers, root: '/', ownPath };
}

const HYBRID: CgroupHost = {
  mode: 'hybrid',
  hierarchies: [
    v1('cpu'), v1('cpuacct'), v1('memory', '/process_api/abc'), v1('devices'), v1('pids'),
    v1('systemd', '/', ['name=systemd']),
    { mountPoint: '/sys/fs/cgroup/unified', fstype: 'cgroup2', controllers: [], root: '/', ownPath: '/' },
  ],
};

const LEGACY: CgroupHost = {
  mode: 'legacy',
  hierarchies: [v1('cpu,cpuacct'), v1('net_cls,net_prio'), v1('memory'), v1('devices'), v1('systemd', '/', ['name=systemd'])],
};

const UNIFIED: CgroupHost = {
  mode: 'unified',
  hierarchies: [{ mountPoint: '/sys/fs/cgroup', fstype: 'cgroup2', controllers: ['cpu', 'memory'], root: '/', ownPath: '/user.slice/session-1.scope' }],
};

// --- mountinfo and /proc/self/cgroup as the kernel writes them

const HYBRID_MOUNTINFO = `\
23 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;
const HYBRID_CGROUP = '9:name=systemd:/\n5:devices:/\n4:memory:/process_api/abc\n2:cpuacct:/\n1:cpu:/\n0::/\n';

const LEGACY_MOUNTINFO = `\
25 21 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
26 25 0:23 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd
29 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,cpu,cpuacct
30 25 0:27 / /sys/fs/cgroup/my\\040memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,memory
`;
const LEGACY_CGROUP = '4:memory:/user.slice\n3:cpu,cpuacct:/user.slice\n1:name=systemd:/user.slice/session-1.scope\n0::/user.slice/session-1.scope\n';

const UNIFIED_MOUNTINFO = `\
35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
36 24 0:31 / /run/systemd/legacy rw - cgroup systemd rw,name=systemd
`;
const UNIFIED_CGROUP = '1:name=systemd:/\n0::/system.slice/engine.service\n';

describe('parseCgroupHost', () => {
  it('reads a hybrid host: every v1 hierarchy, the unified one, and our own path in each', () => {
    const host = parseCgroupHost(HYBRID_MOUNTINFO, HYBRID_CGROUP, () => ['hugetlb']);
    expect(host.mode).toBe('hybrid');
    expect(host.hierarchies).toEqual([
      { mountPoint: '/sys/fs/cgroup/cpu', fstype: 'cgroup', controllers: ['cpu'], root: '/', ownPath: '/' },
      { mountPoint: '/sys/fs/cgroup/cpuacct', fstype: 'cgroup', controllers: ['cpuacct'], root: '/', ownPath: '/' },
      { mountPoint: '/sys/fs/cgroup/memory', fstype: 'cgroup', controllers: ['memory'], root: '/', ownPath: '/process_api/abc' },
      { mountPoint: '/sys/fs/cgroup/devices', fstype: 'cgroup', controllers: ['devices'], root: '/', ownPath: '/' },
      { mountPoint: '/sys/fs/cgroup/systemd', fstype: 'cgroup', controllers: ['name=systemd'], root: '/', ownPath: '/' },
      { mountPoint: '/sys/fs/cgroup/unified', fstype: 'cgroup2', controllers: ['hugetlb'], root: '/', ownPath: '/' },
    ]);
  });

  it('reads a legacy host: combined controllers, named hierarchies, escaped mount points', () => {
    const host = parseCgroupHost(LEGACY_MOUNTINFO, LEGACY_CGROUP);
    expect(host.mode).toBe('legacy');
    expect(host.hierarchies.map((h) => [h.mountPoint, h.controllers, h.ownPath])).toEqual([
      ['/sys/fs/cgroup/systemd', ['name=systemd'], '/user.slice/session-1.scope'],
      ['/sys/fs/cgroup/cpu,cpuacct', ['cpu', 'cpuacct'], '/user.slice'],
      ['/sys/fs/cgroup/my memory', ['memory'], '/user.slice'],
    ]);
  });

  it('reads a unified host and ignores a v1 hierarchy without controllers, as runc does', () => {
    const host = parseCgroupHost(UNIFIED_MOUNTINFO, UNIFIED_CGROUP, () => ['cpu', 'memory']);
    expect(host).toEqual({
      mode: 'unified',
      hierarchies: [{ mountPoint: '/sys/fs/cgroup', fstype: 'cgroup2', controllers: ['cpu', 'memory'], root: '/', ownPath: '/system.slice/engine.service' }],
    });
  });

  it('ignores mounts hidden under a later mount: cgroup2 over the v1 tree is a unified host', () => {
    const over = '99 23 0:38 / /sys/fs/cgroup rw,relatime - cgroup2 none rw\n';
    expect(parseCgroupHost(HYBRID_MOUNTINFO + over, HYBRID_CGROUP)).toEqual({
      mode: 'unified',
      hierarchies: [{ mountPoint: '/sys/fs/cgroup', fstype: 'cgroup2', controllers: [], root: '/', ownPath: '/' }],
    });
  });

  it('keeps the mount root when a hierarchy is mounted from a subdirectory, and prefers a mount that shows our cgroup', () => {
    const mountinfo =
      '50 40 0:32 /other /mnt/memory rw - cgroup cgroup rw,memory\n' +
      '51 40 0:32 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n';
    const host = parseCgroupHost(mountinfo, '4:memory:/docker/abc/sub\n');
    expect(host.hierarchies).toEqual([
      { mountPoint: '/sys/fs/cgroup/memory', fstype: 'cgroup', controllers: ['memory'], root: '/docker/abc', ownPath: '/docker/abc/sub' },
    ]);
  });

  it('refuses a host without cgroup filesystems', () => {
    expect(() => parseCgroupHost('1 0 0:1 / / rw - ext4 /dev/sda rw\n', '0::/\n')).toThrow(
      'no cgroup hierarchy is mounted',
    );
  });
});

// This VM: cpu and cpuacct apart, name=systemd, and cgroup2 at /sys/fs/cgroup/unified.
const THIS_HYBRID_VM = fs.existsSync('/sys/fs/cgroup/unified/cgroup.procs') && fs.existsSync('/sys/fs/cgroup/cpuacct/cgroup.procs');

describe('detectCgroupHost on this machine', () => {
  const ownLines = fs.readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n');

  it('finds a hierarchy for every line of /proc/self/cgroup, with our path in it', () => {
    const host = detectCgroupHost();
    const lines = host.mode === 'unified' ? ownLines.filter((l) => l.startsWith('0::')) : ownLines;
    for (const line of lines) {
      const [, list, ownPath] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
      const hierarchy = host.hierarchies.find((h) =>
        list === '' ? h.fstype === 'cgroup2' : h.fstype === 'cgroup' && h.controllers.join(',') === list,
      );
      expect(hierarchy?.ownPath).toBe(ownPath);
    }
  });

  (THIS_HYBRID_VM ? it : it.skip)('reads this VM as hybrid, with every hierarchy runc joins', () => {
    const host = detectCgroupHost();
    expect(host.mode).toBe('hybrid');
    expect(host.hierarchies.map((h) => `${h.fstype} ${h.mountPoint} ${h.controllers.join(',')}`).filter((s) => s.startsWith('cgroup ')).sort())
      .toEqual(
        ['blkio', 'cpu', 'cpuacct', 'cpuset', 'devices', 'freezer', 'memory', 'pids', 'systemd']
          .map((name) => `cgroup /sys/fs/cgroup/${name} ${name === 'systemd' ? 'name=systemd' : name}`),
      );
    expect(host.hierarchies.filter((h) => h.fstype === 'cgroup2').map((h) => h.mountPoint)).toEqual(['/sys/fs/cgroup/unified']);
  });
});

describe('resolveContainerCgroup', () => {
  const relatives = (cgroup: ContainerCgroup) => cgroup.dirs.map((d) => d.relative);
  const dirs = (cgroup: ContainerCgroup) => cgroup.dirs.map((d) => d.dir);

  it.each([undefined, ''])('uses the id relative to our own cgroup when cgroupsPath is %j', (cgroupsPath) => {
    const cgroup = resolveContainerCgroup(HYBRID, cgroupsPath, 't1');
    expect(cgroup.mode).toBe('hybrid');
    expect(relatives(cgroup)).toEqual(['/t1', '/t1', '/process_api/abc/t1', '/t1', '/t1', '/t1', '/t1']);
    expect(dirs(cgroup)).toEqual([
      '/sys/fs/cgroup/cpu/t1', '/sys/fs/cgroup/cpuacct/t1', '/sys/fs/cgroup/memory/process_api/abc/t1',
      '/sys/fs/cgroup/devices/t1', '/sys/fs/cgroup/pids/t1', '/sys/fs/cgroup/systemd/t1', '/sys/fs/cgroup/unified/t1',
    ]);
    expect(cgroup.dirs[2]).toEqual({
      mountPoint: '/sys/fs/cgroup/memory', fstype: 'cgroup', controllers: ['memory'],
      dir: '/sys/fs/cgroup/memory/process_api/abc/t1', relative: '/process_api/abc/t1',
    });
  });

  it('puts a relative path below our own cgroup in each hierarchy', () => {
    const cgroup = resolveContainerCgroup(HYBRID, 'pod/./c1/', 't1');
    expect(relatives(cgroup)[0]).toBe('/pod/c1');
    expect(relatives(cgroup)[2]).toBe('/process_api/abc/pod/c1');
  });

  it('puts an absolute path below each hierarchy root', () => {
    const cgroup = resolveContainerCgroup(HYBRID, '/kubepods/pod1/c1', 't1');
    expect(new Set(relatives(cgroup))).toEqual(new Set(['/kubepods/pod1/c1']));
    expect(dirs(cgroup)[2]).toBe('/sys/fs/cgroup/memory/kubepods/pod1/c1');
  });

  it('accepts ".." that stays inside, and colons in an absolute path', () => {
    expect(relatives(resolveContainerCgroup(HYBRID, 'a/../b', 't1'))[0]).toBe('/b');
    expect(relatives(resolveContainerCgroup(HYBRID, '/x:y:z', 't1'))[0]).toBe('/x:y:z');
  });

  it.each([
    ['../escape', /\/linux\/cgroupsPath "\.\.\/escape" climbs out of ocits' own cgroup with "\.\."/],
    ['a/../../escape', /climbs out of ocits' own cgroup/],
    ['/../etc', /\/linux\/cgroupsPath "\/\.\.\/etc" climbs above the root of the cgroup hierarchies/],
    ['/', /names the root cgroup itself/],
    ['.', /names ocits' own cgroup/],
    ['a/..', /names ocits' own cgroup/],
    ['a\0b', /\/linux\/cgroupsPath "a\\u0000b" contains a NUL byte/],
    ['system.slice:docker:abc', /systemd cgroup path \(slice:prefix:name\): systemd cgroup paths need --systemd-cgroup, which is not supported/],
  ])('refuses %j', (cgroupsPath, message) => {
    expect(() => resolveContainerCgroup(HYBRID, cgroupsPath, 't1')).toThrow(message);
  });

  it('resolves on legacy and unified hosts', () => {
    expect(dirs(resolveContainerCgroup(LEGACY, undefined, 't1'))).toEqual([
      '/sys/fs/cgroup/cpu,cpuacct/t1', '/sys/fs/cgroup/net_cls,net_prio/t1', '/sys/fs/cgroup/memory/t1',
      '/sys/fs/cgroup/devices/t1', '/sys/fs/cgroup/systemd/t1',
    ]);
    const unified = resolveContainerCgroup(UNIFIED, undefined, 't1');
    expect(unified).toEqual({
      mode: 'unified',
      dirs: [{
        mountPoint: '/sys/fs/cgroup', fstype: 'cgroup2', controllers: ['cpu', 'memory'],
        dir: '/sys/fs/cgroup/user.slice/session-1.scope/t1', relative: '/user.slice/session-1.scope/t1',
      }],
    });
  });

  it('maps through a mount that shows a subtree, and refuses when our cgroup is outside it', () => {
    const inner: CgroupHost = { mode: 'legacy', hierarchies: [{ ...v1('memory', '/docker/abc'), root: '/docker/abc' }] };
    expect(resolveContainerCgroup(inner, undefined, 't1').dirs[0]).toMatchObject({
      dir: '/sys/fs/cgroup/memory/t1', relative: '/docker/abc/t1',
    });
    expect(resolveContainerCgroup(inner, '/x', 't1').dirs[0]).toMatchObject({
      dir: '/sys/fs/cgroup/memory/x', relative: '/docker/abc/x',
    });
    const outside: CgroupHost = { mode: 'legacy', hierarchies: [{ ...v1('memory', '/elsewhere'), root: '/docker/abc' }] };
    expect(() => resolveContainerCgroup(outside, undefined, 't1')).toThrow(
      'cannot place a cgroup relative to ours: our cgroup /elsewhere is not visible in the hierarchy mounted at /sys/fs/cgroup/memory (it shows /docker/abc)',
    );
  });
});

describe('cgroupMountSteps', () => {
  it('mounts a fresh cgroup2 on a unified host, falling back to a bind as runc does', () => {
    const cgroup = resolveContainerCgroup(UNIFIED, undefined, 't1');
    expect(cgroupMountSteps(UNIFIED, cgroup, false)).toEqual([
      { kind: 'fs', fstype: 'cgroup2', data: '', path: '', fallbackBind: '/sys/fs/cgroup' },
    ]);
    expect(cgroupMountSteps(UNIFIED, cgroup, true)).toEqual([
      { kind: 'fs', fstype: 'cgroup2', data: '', path: '', fallbackBind: '/sys/fs/cgroup/user.slice/session-1.scope/t1' },
    ]);
  });

  it('binds each v1 hierarchy into a tmpfs on a legacy host, with symlinks for combined ones', () => {
    const cgroup = resolveContainerCgroup(LEGACY, undefined, 't1');
    expect(cgroupMountSteps(LEGACY, cgroup, false)).toEqual([
      { kind: 'tmpfs', path: '', data: 'mode=755' },
      { kind: 'bind', source: '/sys/fs/cgroup/cpu,cpuacct/t1', path: 'cpu,cpuacct' },
      { kind: 'bind', source: '/sys/fs/cgroup/net_cls,net_prio/t1', path: 'net_cls,net_prio' },
      { kind: 'bind', source: '/sys/fs/cgroup/memory/t1', path: 'memory' },
      { kind: 'bind', source: '/sys/fs/cgroup/devices/t1', path: 'devices' },
      { kind: 'bind', source: '/sys/fs/cgroup/systemd/t1', path: 'systemd' },
      { kind: 'symlink', target: 'cpu,cpuacct', path: 'cpu' },
      { kind: 'symlink', target: 'cpu,cpuacct', path: 'cpuacct' },
      { kind: 'symlink', target: 'net_cls,net_prio', path: 'net_cls' },
      { kind: 'symlink', target: 'net_cls,net_prio', path: 'net_prio' },
    ]);
  });

  it('mounts fresh v1 filesystems with the hierarchy options under a cgroup namespace', () => {
    const cgroup = resolveContainerCgroup(LEGACY, undefined, 't1');
    expect(cgroupMountSteps(LEGACY, cgroup, true).filter((s) => s.kind === 'fs')).toEqual([
      { kind: 'fs', fstype: 'cgroup', data: 'cpu,cpuacct', path: 'cpu,cpuacct' },
      { kind: 'fs', fstype: 'cgroup', data: 'net_cls,net_prio', path: 'net_cls,net_prio' },
      { kind: 'fs', fstype: 'cgroup', data: 'memory', path: 'memory' },
      { kind: 'fs', fstype: 'cgroup', data: 'devices', path: 'devices' },
      { kind: 'fs', fstype: 'cgroup', data: 'name=systemd', path: 'systemd' },
    ]);
  });

  it('shows only the v1 hierarchies on a hybrid host, as runc does', () => {
    const cgroup = resolveContainerCgroup(HYBRID, undefined, 't1');
    expect(cgroupMountSteps(HYBRID, cgroup, false)).toEqual([
      { kind: 'tmpfs', path: '', data: 'mode=755' },
      { kind: 'bind', source: '/sys/fs/cgroup/cpu/t1', path: 'cpu' },
      { kind: 'bind', source: '/sys/fs/cgroup/cpuacct/t1', path: 'cpuacct' },
      { kind: 'bind', source: '/sys/fs/cgroup/memory/process_api/abc/t1', path: 'memory' },
      { kind: 'bind', source: '/sys/fs/cgroup/devices/t1', path: 'devices' },
      { kind: 'bind', source: '/sys/fs/cgroup/pids/t1', path: 'pids' },
      { kind: 'bind', source: '/sys/fs/cgroup/systemd/t1', path: 'systemd' },
    ]);
  });

  (THIS_HYBRID_VM ? it : it.skip)('matches the mounts runc 1.1.5 makes on this VM', () => {
    // runc's container t1 showed, in this order: cpu cpuacct cpuset memory
    // devices freezer blkio pids systemd, each bound from the container's
    // directory (memory from below /process_api/<hash>), and no unified.
    const host = detectCgroupHost();
    const cgroup = resolveContainerCgroup(host, undefined, 't1');
    const memory = host.hierarchies.find((h) => h.controllers.includes('memory'))?.ownPath ?? '/';
    expect(cgroupMountSteps(host, cgroup, false)).toEqual([
      { kind: 'tmpfs', path: '', data: 'mode=755' },
      ...['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'systemd'].map((name) => ({
        kind: 'bind',
        source: path.posix.join('/sys/fs/cgroup', name, name === 'memory' ? memory : '/', 't1'),
        path: name,
      })),
    ]);
    // With a cgroup namespace runc mounted fresh filesystems: data "cpu" ... "name=systemd".
    expect(cgroupMountSteps(host, cgroup, true).slice(1).map((s) => s.kind === 'fs' && `${s.path}=${s.data}`)).toEqual([
      'cpu=cpu', 'cpuacct=cpuacct', 'cpuset=cpuset', 'memory=memory', 'devices=devices', 'freezer=freezer',
      'blkio=blkio', 'pids=pids', 'systemd=name=systemd',
    ]);
  });
});

describe('device rules on the v1 devices controller', () => {
  it('refuses rules on a host without any devices controller', () => {
    const bare: CgroupHost = { mode: 'legacy', hierarchies: [v1('memory')] };
    const cgroup = resolveContainerCgroup(bare, undefined, 't1');
    expect(() => applyDeviceRules(bare, cgroup, [{ allow: false, access: 'rwm' }])).toThrow(
      '/linux/resources/devices: this host has no devices cgroup, so device rules cannot be enforced',
    );
    expect(() => applyDeviceRules(bare, cgroup, [])).not.toThrow();
    expect(() => applyDeviceRules(UNIFIED, cgroup, [])).not.toThrow();
  });
});

// --- real cgroups on this machine

describe('membership on this machine', () => {
  const host = detectCgroupHost();
  const children: ChildProcess[] = [];
  const madeDirs: string[] = [];

  /** Resolves a test cgroup and registers its directories for cleanup. */
  function testCgroup(cgroupsPath?: string, name = testCgroupName()): ContainerCgroup {
    const cgroup = resolveContainerCgroup(host, cgroupsPath, name);
    madeDirs.push(...cgroup.dirs.map((d) => d.dir));
    return cgroup;
  }

  function sleeper(): ChildProcess & { pid: number } {
    const child = spawn('sleep', ['300'], { stdio: 'ignore' });
    children.push(child);
    return child as ChildProcess & { pid: number };
  }

  function killAndWait(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    return exited;
  }

  afterAll(async () => {
    await Promise.all(children.map(killAndWait));
    expect(removeTestCgroups(madeDirs)).toEqual([]);
  });

  it('creates and joins the cgroup in every hierarchy, with runc\'s layout', async () => {
    const name = testCgroupName();
    const cgroup = testCgroup(undefined, name);
    createCgroup(cgroup);
    const child = sleeper();
    joinCgroup(cgroup, child.pid);

    // Each line of our own /proc/self/cgroup, with the container's name appended.
    const expected = fs.readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n')
      .filter((line) => host.mode !== 'unified' || line.startsWith('0::'))
      .map((line) => line.replace(/^(\d+:[^:]*:)(.*)$/, (_, head: string, own: string) => head + path.posix.join(own, name)));
    const actual = fs.readFileSync(`/proc/${child.pid}/cgroup`, 'utf8').trim().split('\n')
      .filter((line) => host.mode !== 'unified' || line.startsWith('0::'));
    expect(actual).toEqual(expected);
    expect(cgroupPids(cgroup)).toEqual([child.pid]);

    const cpuset = cgroup.dirs.find((d) => d.fstype === 'cgroup' && d.controllers.includes('cpuset'));
    if (cpuset !== undefined) expect(fs.readFileSync(path.join(cpuset.dir, 'cpuset.cpus'), 'utf8').trim()).not.toBe('');

    const before = Date.now();
    expect(() => removeCgroup(cgroup)).toThrow(new RegExp(`^cannot remove cgroup /sys/fs/cgroup/\\S+: processes are still in it \\(${child.pid}\\)`));
    expect(Date.now() - before).toBeLessThan(3000);

    await killAndWait(child);
    removeCgroup(cgroup);
    expect(cgroup.dirs.filter((d) => fs.existsSync(d.dir))).toEqual([]);
    expect(() => removeCgroup(cgroup)).not.toThrow(); // already gone is fine
    expect(cgroupPids(cgroup)).toEqual([]);
  });

  it('takes an absolute cgroupsPath from each hierarchy root, and removes only the leaf', async () => {
    const top = testCgroupName();
    const parent = testCgroup(`/${top}`);
    const cgroup = testCgroup(`/${top}/inner`);
    createCgroup(cgroup);
    const child = sleeper();
    joinCgroup(cgroup, child.pid);
    for (const entry of cgroup.dirs) expect(entry.relative).toBe(`/${top}/inner`);
    const lines = fs.readFileSync(`/proc/${child.pid}/cgroup`, 'utf8').trim().split('\n')
      .filter((line) => host.mode !== 'unified' || line.startsWith('0::'));
    expect(lines.filter((line) => !line.endsWith(`:/${top}/inner`))).toEqual([]);

    await killAndWait(child);
    removeCgroup(cgroup);
    expect(cgroup.dirs.filter((d) => fs.existsSync(d.dir))).toEqual([]);
    expect(parent.dirs.filter((d) => !fs.existsSync(d.dir))).toEqual([]);
  });

  it('lists and removes cgroups the container nested inside its own', async () => {
    const cgroup = testCgroup();
    createCgroup(cgroup);
    const child = sleeper();
    joinCgroup(cgroup, child.pid);
    const nested = cgroup.dirs.map((d) => ({ ...d, dir: path.join(d.dir, 'nested'), relative: `${d.relative}/nested` }));
    createCgroup({ mode: cgroup.mode, dirs: nested });
    joinCgroup({ mode: cgroup.mode, dirs: nested }, child.pid);
    expect(cgroupPids(cgroup)).toEqual([child.pid]);

    await killAndWait(child);
    removeCgroup(cgroup);
    expect(cgroup.dirs.filter((d) => fs.existsSync(d.dir))).toEqual([]);
  });

  it('reports a failed join naming the file, and undoes a failed create', () => {
    const cgroup = testCgroup();
    createCgroup(cgroup);
    const gone = 4194305; // above the largest pid_max
    expect(() => joinCgroup(cgroup, gone)).toThrow(
      new RegExp(`^cannot move pid ${gone} into cgroup /\\S+: writing "${gone}" to ${cgroup.dirs[0].dir}/cgroup.procs: no such process \\(ESRCH\\)$`),
    );
    removeCgroup(cgroup);

    // The second hierarchy's directory cannot be made: the first one is removed again.
    const [first, second] = testCgroup().dirs;
    const broken: ContainerCgroup = {
      mode: host.mode,
      dirs: [first, { ...second, dir: path.join(second.mountPoint, 'cgroup.procs', 'x') }],
    };
    expect(() => createCgroup(broken)).toThrow(
      `cannot create cgroup ${second.mountPoint}/cgroup.procs/x: not a directory (ENOTDIR)`,
    );
    expect(fs.existsSync(first.dir)).toBe(false);
  });

  const devices = host.hierarchies.find((h) => h.fstype === 'cgroup' && h.controllers.includes('devices'));

  (devices ? it : it.skip)('writes device rules, then runc\'s defaults, and the kernel enforces them', async () => {
    const cgroup = testCgroup();
    createCgroup(cgroup);
    applyDeviceRules(host, cgroup, [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' },
    ]);
    const dir = cgroup.dirs.find((d) => d.mountPoint === devices?.mountPoint)?.dir as string;
    const list = fs.readFileSync(path.join(dir, 'devices.list'), 'utf8').trim().split('\n');
    // What runc 1.1.5 leaves in devices.list for its default config here, plus our rule.
    expect(list.sort()).toEqual([
      'b *:* m', 'c *:* m', 'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm',
      'c 10:200 rwm', 'c 10:229 rwm', 'c 136:* rwm', 'c 5:0 rwm', 'c 5:2 rwm',
    ].sort());
    expect(DEFAULT_DEVICE_RULES).toHaveLength(11);

    // /dev/kmsg (c 1:11) is not allowed; /dev/null is.
    const probe = `(exec 3</dev/kmsg) 2>/dev/null && echo kmsg-open || echo kmsg-denied; (exec 3</dev/null) && echo null-open`;
    expect(await runJoined(probe, () => {})).toBe('kmsg-open\nnull-open\n');
    expect(await runJoined(probe, (pid) => joinCgroup(cgroup, pid))).toBe('kmsg-denied\nnull-open\n');
    removeCgroup(cgroup);
  });

  (devices ? it : it.skip)('checks every rule before writing any', () => {
    const cgroup = testCgroup();
    createCgroup(cgroup);
    const dir = cgroup.dirs.find((d) => d.mountPoint === devices?.mountPoint)?.dir as string;
    expect(() =>
      applyDeviceRules(host, cgroup, [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3 }]),
    ).toThrow('/linux/resources/devices/1/access: "" must be a non-empty combination of r, w and m');
    expect(fs.readFileSync(path.join(dir, 'devices.list'), 'utf8')).toBe('a *:* rwm\n');
    removeCgroup(cgroup);
  });
});
