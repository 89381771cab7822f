// Real containers and their cgroups on this host (v1 controllers, as on the
// hybrid machine CI runs on): linux.resources read back from the cgroup
// files after create and after update, pause/resume, ps, events, pids.max
// and OOM kills. The pure v2 lanes are in cgroup-containers-v2.test.ts.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { detectCgroupHost } from '../../src/cgroups/host';
import { Runtime, busyboxBundle, isAlive } from '../helpers/busybox';
import { OCITS, ocits } from '../helpers/cli';
import { OOM_AFTER_GO } from '../helpers/oom';
import { removeTestCgroups, testCgroupName } from '../helpers/cgroups';

const host = detectCgroupHost();
const v1 = (controller: string) => host.hierarchies.find((h) => h.fstype === 'cgroup' && h.controllers.includes(controller));
const hasV1 = ['memory', 'cpu', 'cpuset', 'pids', 'blkio', 'freezer'].every((c) => v1(c) !== undefined);

let counter = 0;
const nextId = (): string => `c${process.pid}-cg${counter++}`;

/** The container's directory in a v1 controller's hierarchy, from /proc/PID/cgroup. */
function cgroupDir(pid: number, controller: string): string {
  const hierarchy = v1(controller)!;
  const line = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.split(':')[1]?.split(',').includes(controller));
  const inner = line!.split(':').slice(2).join(':');
  return path.join(hierarchy.mountPoint, hierarchy.root === '/' ? inner : inner.slice(hierarchy.root.length));
}

const read = (pid: number, controller: string, file: string): string =>
  fs.readFileSync(path.join(cgroupDir(pid, controller), file), 'utf8').trim();

/** A block device with a request queue, for the throttle files; undefined if the host has none. */
function blockDevice(): string | undefined {
  const names = fs.existsSync('/sys/block') ? fs.readdirSync('/sys/block') : [];
  const name = names.find((n) => !/^(loop|ram|zram)/.test(n));
  return name === undefined ? undefined : fs.readFileSync(`/sys/block/${name}/dev`, 'utf8').trim();
}

/** Waits (polling, no time limit of its own: jest's timeout applies) until check passes. */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 20));
}

(hasV1 ? describe : describe.skip)('cgroup resources and commands on a host with v1 controllers', () => {
  const runtime = new Runtime();
  afterAll(() => runtime.cleanUp());

  const sleeper = (resources: Record<string, unknown>, args = ['sleep', '1000']) =>
    busyboxBundle((config) => {
      config.process.args = args;
      config.linux.resources = { ...config.linux.resources, ...resources };
    });

  it('applies memory, cpu, pids and blkio limits before the process starts, and update changes them', async () => {
    const device = blockDevice();
    const [major, minor] = (device ?? '0:0').split(':').map(Number);
    const bundle = sleeper({
      memory: { limit: 64 << 20, swap: 96 << 20, reservation: 32 << 20, swappiness: 20, useHierarchy: true, disableOOMKiller: true, checkBeforeUpdate: true },
      cpu: { shares: 512, quota: 30000, period: 100000, burst: 1000, cpus: '0', mems: '0', idle: 0 },
      pids: { limit: 40 },
      ...(device !== undefined ? { blockIO: { throttleReadBpsDevice: [{ major, minor, rate: 1 << 20 }], throttleWriteIOPSDevice: [{ major, minor, rate: 100 }] } } : {}),
    });
    const id = nextId();
    runtime.ok(['create', '--bundle', bundle, id]);
    const { pid } = runtime.state(id);
    expect(read(pid, 'memory', 'memory.limit_in_bytes')).toBe(String(64 << 20));
    expect(read(pid, 'memory', 'memory.memsw.limit_in_bytes')).toBe(String(96 << 20));
    expect(read(pid, 'memory', 'memory.soft_limit_in_bytes')).toBe(String(32 << 20));
    expect(read(pid, 'memory', 'memory.swappiness')).toBe('20');
    expect(read(pid, 'memory', 'memory.use_hierarchy')).toBe('1');
    expect(read(pid, 'memory', 'memory.oom_control')).toMatch(/^oom_kill_disable 1$/m);
    expect(read(pid, 'cpu', 'cpu.shares')).toBe('512');
    expect(read(pid, 'cpu', 'cpu.cfs_quota_us')).toBe('30000');
    expect(read(pid, 'cpu', 'cpu.cfs_period_us')).toBe('100000');
    expect(read(pid, 'cpu', 'cpu.cfs_burst_us')).toBe('1000');
    expect(read(pid, 'cpuset', 'cpuset.cpus')).toBe('0');
    expect(read(pid, 'pids', 'pids.max')).toBe('40');
    if (device !== undefined) {
      expect(read(pid, 'blkio', 'blkio.throttle.read_bps_device')).toBe(`${device} ${1 << 20}`);
      expect(read(pid, 'blkio', 'blkio.throttle.write_iops_device')).toBe(`${device} 100`);
    }

    runtime.ok(['start', id]);
    runtime.ok(['update', '--memory', '128m', '--memory-swap', '-1', '--memory-reservation', '16m', '--cpu-shares', '256',
      '--cpu-quota', '-1', '--cpu-period', '50000', '--pids-limit', '12', id]);
    expect(read(pid, 'memory', 'memory.limit_in_bytes')).toBe(String(128 << 20));
    expect(read(pid, 'memory', 'memory.soft_limit_in_bytes')).toBe(String(16 << 20));
    expect(read(pid, 'cpu', 'cpu.shares')).toBe('256');
    expect(read(pid, 'cpu', 'cpu.cfs_quota_us')).toBe('-1');
    expect(read(pid, 'cpu', 'cpu.cfs_period_us')).toBe('50000');
    expect(read(pid, 'pids', 'pids.max')).toBe('12');

    // --resources - reads a LinuxResources document from stdin; --resources=FILE from a file.
    runtime.ok(['update', '--resources', '-', id], { input: JSON.stringify({ pids: { limit: -1 }, cpu: { cpus: '0-1' } }) });
    expect(read(pid, 'pids', 'pids.max')).toBe('max');
    expect(read(pid, 'cpuset', 'cpuset.cpus')).toBe('0-1');
    const file = path.join(bundle, 'resources.json');
    fs.writeFileSync(file, JSON.stringify({ memory: { limit: 100 << 20 } }));
    runtime.ok(['update', `--resources=${file}`, id]);
    expect(read(pid, 'memory', 'memory.limit_in_bytes')).toBe(String(100 << 20));

    expect(runtime.run(['update', '--memory', 'lots', id]).stderr).toBe("ocits: invalid value for memory: invalid size: 'lots'\n");
    expect(runtime.run(['update', '--memory', '10', id]).stderr).toMatch(
      /^ocits: \/linux\/resources\/memory\/limit: unable to set memory limit to 10 \(current usage: \d+, peak usage: \d+\)\n$/,
    );
    // The kernel clamps cpu.shares silently; reading it back catches that.
    expect(runtime.run(['update', '--cpu-share', '1', id]).stderr).toBe(
      'ocits: /linux/resources/cpu/shares: the kernel set cpu.shares to 2 instead of 1 (out of its range)\n',
    );
    expect(runtime.run(['update', '--resources', path.join(bundle, 'missing.json'), id]).stderr).toBe(`ocits: --resources ${path.join(bundle, 'missing.json')}: no such file\n`);

    runtime.ok(['kill', id, 'KILL']);
    await until(() => !isAlive(pid));
    const stopped = runtime.run(['update', '--memory', '1g', id]);
    expect([stopped.status, stopped.stderr]).toEqual([1, 'ocits: container not running\n']);
    runtime.ok(['delete', id]);
  });

  it('writes the blkio weight where this host keeps it: blkio.weight, or blkio.bfq.weight with only BFQ, as runc does', () => {
    const id = nextId();
    runtime.ok(['create', '--bundle', sleeper({ blockIO: { weight: 300 } }), id]);
    const { pid } = runtime.state(id);
    const weightFile = fs.existsSync(path.join(cgroupDir(pid, 'blkio'), 'blkio.weight')) ? 'blkio.weight' : 'blkio.bfq.weight';
    expect(read(pid, 'blkio', weightFile)).toBe('300');
    runtime.ok(['update', '--blkio-weight', '500', id]);
    expect(read(pid, 'blkio', weightFile)).toBe('500');
    runtime.ok(['delete', '--force', id]);
  });

  describe('a cgroupsPath naming a cgroup that exists already', () => {
    const names: string[] = [];
    const strays: number[] = [];
    afterAll(() => {
      for (const pid of strays) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
      removeTestCgroups(names.flatMap((name) => v1Hierarchies().map((h) => path.join(h.mountPoint, name))));
    });
    const v1Hierarchies = () => host.hierarchies.filter((h) => h.fstype === 'cgroup' && h.root === '/');
    const inCgroup = (cgroupsPath: string) =>
      busyboxBundle((config) => {
        config.process.args = ['sleep', '1000'];
        config.linux.cgroupsPath = cgroupsPath;
      });

    it('that is frozen is refused, in runc\'s words, before anything is made', () => {
      const name = testCgroupName();
      names.push(name);
      const freezer = path.join(v1('freezer')!.mountPoint, name);
      fs.mkdirSync(freezer);
      fs.writeFileSync(path.join(freezer, 'freezer.state'), 'FROZEN');
      const id = nextId();
      const result = runtime.run(['create', '--bundle', inCgroup(`/${name}`), id]);
      expect(result).toMatchObject({ status: 1, stderr: "ocits: container's cgroup unexpectedly frozen\n" });
      expect(fs.existsSync(path.join(runtime.root, id))).toBe(false);
      fs.writeFileSync(path.join(freezer, 'freezer.state'), 'THAWED');
    });

    it('that holds processes gets runc\'s warning, and the container is made', () => {
      const name = testCgroupName();
      names.push(name);
      const stray = spawn('sleep', ['1000'], { stdio: 'ignore', detached: true });
      strays.push(stray.pid!);
      // In the pids hierarchy, where ocits counts a cgroup's processes.
      const pids = path.join(v1('pids')!.mountPoint, name);
      fs.mkdirSync(pids);
      fs.writeFileSync(path.join(pids, 'cgroup.procs'), String(stray.pid));
      const id = nextId();
      const result = runtime.run(['create', '--bundle', inCgroup(`/${name}`), id]);
      expect(result).toMatchObject({ status: 0, stderr: "ocits: warning: container's cgroup is not empty: 1 process(es) found\n" });
      process.kill(stray.pid!, 'SIGKILL');
      runtime.ok(['delete', '--force', id]);
    });
  });

  it('refuses a resource this host cannot apply, naming it, and leaves nothing behind', () => {
    // No v1 controller on this host runs both net_cls and what a container needs; the
    // classID needs a net_cls hierarchy, which the CI hosts do not mount.
    const missing = ['net_cls', 'hugetlb', 'rdma'].find((c) => v1(c) === undefined);
    if (missing === undefined) return;
    const resources: Record<string, Record<string, unknown>> = {
      net_cls: { network: { classID: 0x100001 } },
      hugetlb: { hugepageLimits: [{ pageSize: '2MB', limit: 0 }] },
      rdma: { rdma: { mlx5_0: { hcaHandles: 1 } } },
    };
    const pointer = { net_cls: 'network/classID', hugetlb: 'hugepageLimits/0', rdma: 'rdma/mlx5_0' }[missing];
    const id = nextId();
    const result = runtime.run(['create', '--bundle', sleeper(resources[missing]), id]);
    expect(result.stderr).toBe(`ocits: /linux/resources/${pointer}: this host has no v1 ${missing} cgroup mounted\n`);
    expect(result.status).toBe(1);
    expect(fs.existsSync(path.join(runtime.root, id))).toBe(false);
    for (const hierarchy of host.hierarchies) expect(fs.existsSync(path.join(hierarchy.mountPoint, hierarchy.ownPath, id))).toBe(false);
  });

  it('pause freezes the processes, state and list say paused, and resume lets them continue', async () => {
    const bundle = sleeper({}, ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i > /count; done']);
    const config = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
    fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify({ ...config, root: { ...config.root, readonly: false } }));
    const id = nextId();
    runtime.ok(['run', '--detach', '--bundle', bundle, id]);
    const count = (): string => fs.readFileSync(path.join(bundle, 'rootfs', 'count'), 'utf8');
    await until(() => fs.existsSync(path.join(bundle, 'rootfs', 'count')));
    runtime.ok(['pause', id]);
    const { pid } = runtime.state(id);
    expect(runtime.state(id).status).toBe('paused');
    expect(runtime.ok(['list'])).toMatch(new RegExp(`^${id} +${pid} +paused `, 'm'));
    expect(read(pid, 'freezer', 'freezer.state')).toBe('FROZEN');
    const frozenAt = count();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(count()).toBe(frozenAt); // no progress while frozen
    expect(runtime.run(['pause', id]).stderr).toBe('ocits: container not running\n');
    expect(runtime.run(['delete', id]).stderr).toBe(`ocits: cannot delete container ${id} that is not stopped: paused\n`);

    runtime.ok(['resume', id]);
    expect(runtime.state(id).status).toBe('running');
    await until(() => count() !== frozenAt && count() !== '');
    expect(runtime.run(['resume', id]).stderr).toBe('ocits: container not paused\n');

    // A paused container can be force-deleted: its frozen processes are thawed to die.
    runtime.ok(['pause', id]);
    runtime.ok(['delete', '--force', id]);
    expect(isAlive(pid)).toBe(false);
    expect(runtime.run(['pause', 'no-such-container']).stderr).toBe('ocits: container no-such-container does not exist\n');
  });

  it('ps lists exactly the processes in the container, as JSON pids or host ps lines', async () => {
    const id = nextId();
    runtime.ok(['run', '--detach', '--bundle', sleeper({}, ['sh', '-c', 'sleep 1000 & sleep 1000 & wait']), id]);
    const { pid } = runtime.state(id);
    const children = (): number[] => fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    await until(() => children().length === 2);
    const expected = [pid, ...children()].sort((a, b) => a - b);
    expect(JSON.parse(runtime.ok(['ps', '--format', 'json', id]))).toEqual(expected);

    const table = runtime.ok(['ps', id]).trimEnd().split('\n');
    expect(table[0]).toMatch(/^UID +PID +PPID /);
    expect(table.slice(1).map((line) => Number(line.trim().split(/\s+/)[1])).sort((a, b) => a - b)).toEqual(expected);
    const custom = runtime.ok(['ps', id, '-o', 'pid,comm']).trimEnd().split('\n');
    expect(custom[0]).toMatch(/^ *PID COMMAND$/);
    expect(custom.slice(1).map((line) => line.trim().split(/\s+/)[1]).sort()).toEqual(['sh', 'sleep', 'sleep']);
    expect(runtime.ok(['ps', id, '--', '-o', 'pid,comm'])).toBe(runtime.ok(['ps', id, '-o', 'pid,comm']));
    expect(runtime.run(['ps', id, '-o', 'comm']).stderr).toBe("ocits: couldn't find PID field in ps output\n");
    expect(runtime.run(['ps', '--format', 'yaml', id]).stderr).toBe('ocits: invalid format option\n');

    runtime.ok(['kill', '--all', id, 'KILL']);
    await until(() => !isAlive(pid));
    expect(runtime.ok(['ps', '--format', 'json', id])).toBe('null\n');
    runtime.ok(['delete', id]);
  });

  it('enforces pids.max: fork fails inside the container', () => {
    const id = nextId();
    const result = runtime.run(['run', '--bundle', sleeper({ pids: { limit: 1 } }, ['sh', '-c', '/bin/true && echo forked']), id]);
    expect(result.stdout).not.toContain('forked');
    expect(result.stderr).toMatch(/can't fork/);
    expect(result.status).not.toBe(0);
  });

  it('events --stats prints runc-shaped stats; events reports an OOM kill', async () => {
    const id = nextId();
    const bundle = sleeper({ memory: { limit: 16 << 20, swap: 16 << 20 } }, OOM_AFTER_GO);
    runtime.ok(['create', '--bundle', bundle, id]);
    const stats = JSON.parse(runtime.ok(['events', '--stats', id]));
    expect(stats).toMatchObject({ type: 'stats', id });
    expect(Object.keys(stats.data)).toEqual(['cpu', 'cpuset', 'memory', 'pids', 'blkio', 'hugetlb', 'intel_rdt', 'network_interfaces']);
    expect(stats.data.memory.usage.limit).toBe(16 << 20);
    expect(stats.data.pids.current).toBe(1);
    expect(stats.data.cpu.usage).toEqual(expect.objectContaining({ kernel: expect.any(Number), user: expect.any(Number) }));

    const events = spawn(OCITS, ['--root', runtime.root, 'events', '--interval', '50ms', id]);
    let output = '';
    events.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => events.on('exit', resolve));
    // The first stats line shows the watcher has read the OOM counter; only then may the container allocate.
    await until(() => output.includes('"type":"stats"'));
    runtime.ok(['start', id]);
    fs.writeFileSync(path.join(bundle, 'rootfs', 'go'), '');
    expect(await exited).toBe(0); // the stream ends once the container has died
    const lines = output.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.filter((event) => event.type === 'oom')).toEqual([{ type: 'oom', id }]);
    expect(runtime.state(id).status).toBe('stopped');
    expect(ocits(['--root', runtime.root, 'events', '--stats', id]).stderr).toBe(`ocits: container with id ${id} is not running\n`);
    runtime.ok(['delete', id]);
  });
});
