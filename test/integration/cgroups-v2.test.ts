// The membership layer on a pure cgroup v2 host. Fast lane: a private mount
// namespace on this machine with cgroup2 mounted over /sys/fs/cgroup (the
// same hierarchy the host shows at its unified mount). Slow lane, only with
// OCITS_CGV2_VM=1: the same worker inside ../shared/tools/cgv2-vm, a VM
// whose kernel has no v1 at all and all controllers on.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { detectCgroupHost } from '../../src/cgroups/host';
import type { CgroupMountStep } from '../../src/cgroups/mount';
import type { ContainerCgroup } from '../../src/cgroups/paths';
import { REPO } from '../helpers/cli';
import { removeTestCgroups, testCgroupName } from '../helpers/cgroups';
import { checkoutTempDir } from '../helpers/tmp';

interface WorkerReport {
  error?: string;
  host: ReturnType<typeof detectCgroupHost>;
  cgroup: ContainerCgroup;
  pid: number;
  procCgroup: string;
  pids: number[];
  leafControllers: string;
  steps: CgroupMountStep[];
  namespacedSteps: CgroupMountStep[];
  devicePrograms: number[][];
  busyError?: string;
  leftBehind: string[];
}

let worker: string;
beforeAll(() => {
  worker = path.join(checkoutTempDir(), 'cgroup-v2-worker.js');
  buildSync({
    entryPoints: [path.join(REPO, 'test', 'helpers', 'cgroup-v2-worker.ts')],
    outfile: worker,
    bundle: true,
    platform: 'node',
    logLevel: 'error',
  });
});

function parseReport(stdout: string, stderr: string): WorkerReport {
  let report: WorkerReport;
  try {
    report = JSON.parse(stdout) as WorkerReport;
  } catch {
    throw new Error(`worker printed no report: ${stdout}${stderr}`);
  }
  if (report.error !== undefined) throw new Error(`worker failed: ${report.error}`);
  return report;
}

/** What every pure-v2 run must show, wherever it ran. */
function expectPureV2(report: WorkerReport, name: string, ownPath: string): void {
  const relative = path.posix.join(ownPath, name);
  expect(report.host.mode).toBe('unified');
  expect(report.host.hierarchies).toHaveLength(1);
  expect(report.host.hierarchies[0]).toMatchObject({ mountPoint: '/sys/fs/cgroup', fstype: 'cgroup2', root: '/', ownPath });
  expect(report.cgroup.dirs).toEqual([
    expect.objectContaining({ mountPoint: '/sys/fs/cgroup', dir: path.posix.join('/sys/fs/cgroup', relative), relative }),
  ]);
  // On this machine the v1 lines stay (the kernel still has v1); only 0:: is ours to check.
  expect(report.procCgroup.split('\n').filter((line) => line.startsWith('0::'))).toEqual([`0::${relative}`]);
  expect(report.pids).toEqual([report.pid]);
  expect(report.steps).toEqual([{ kind: 'fs', fstype: 'cgroup2', data: '', path: '', fallbackBind: '/sys/fs/cgroup' }]);
  expect(report.namespacedSteps).toEqual([
    { kind: 'fs', fstype: 'cgroup2', data: '', path: '', fallbackBind: report.cgroup.dirs[0].dir },
  ]);
  // Device rules became one eBPF program, which the second application replaced.
  const [first, second] = report.devicePrograms;
  expect(first).toHaveLength(1);
  expect(second).toHaveLength(1);
  expect(second[0]).not.toBe(first[0]);
  expect(report.busyError).toMatch(new RegExp(`^cannot remove cgroup \\S+: processes are still in it \\(${report.pid}\\)$`));
  expect(report.leftBehind).toEqual([]);
}

const host = detectCgroupHost();
const hostV2 = host.hierarchies.find((h) => h.fstype === 'cgroup2');

(hostV2 ? describe : describe.skip)('pure cgroup v2 in a private mount namespace', () => {
  const name = testCgroupName();
  const hostSide = path.posix.join(hostV2?.mountPoint ?? '/', hostV2?.ownPath ?? '/', name);
  const rootSubtree = path.join(hostV2?.mountPoint ?? '/', 'cgroup.subtree_control');
  let subtreeBefore = '';

  beforeAll(() => {
    subtreeBefore = fs.readFileSync(rootSubtree, 'utf8').trim();
  });

  afterAll(() => {
    expect(removeTestCgroups([hostSide])).toEqual([]);
    // The worker, seeing a pure v2 host, enables the root's controllers for
    // its children, as runc would; give this host its own setting back.
    const now = fs.readFileSync(rootSubtree, 'utf8').trim().split(/\s+/).filter(Boolean);
    const before = new Set(subtreeBefore.split(/\s+/));
    for (const controller of now.filter((c) => !before.has(c))) fs.writeFileSync(rootSubtree, `-${controller}`);
    expect(fs.readFileSync(rootSubtree, 'utf8').trim()).toBe(subtreeBefore);
  });

  it('detects unified mode and creates, joins, lists and removes the cgroup', () => {
    // cgroup2 goes over the v1 tmpfs tree, whose mounts stay listed in
    // mountinfo underneath: detection must see only what is visible.
    const script = `mount -t cgroup2 none /sys/fs/cgroup && exec "${process.execPath}" "${worker}" "${name}"`;
    const result = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { encoding: 'utf8', timeout: 20000 });
    const report = parseReport(result.stdout, result.stderr);
    expectPureV2(report, name, hostV2?.ownPath ?? '/');
    // Controllers the hierarchy offers reach the container's cgroup.
    expect(report.leafControllers.split(/\s+/).filter(Boolean).sort()).toEqual([...report.host.hierarchies[0].controllers].sort());
    expect(fs.existsSync(hostSide)).toBe(false);
  });
});

const CGV2_VM = path.join(REPO, '..', 'shared', 'tools', 'cgv2-vm');

(process.env.OCITS_CGV2_VM === '1' ? describe : describe.skip)('pure cgroup v2 in the cgv2-vm (OCITS_CGV2_VM=1)', () => {
  it('behaves the same on a kernel without v1, with controllers on', () => {
    const name = testCgroupName();
    const result = spawnSync(CGV2_VM, ['--timeout', '300', '--', process.execPath, worker, name], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 320000,
    });
    const report = parseReport(result.stdout, result.stderr);
    expectPureV2(report, name, report.host.hierarchies[0]?.ownPath ?? '/');
    // The VM's root offers cpu, memory, pids ...; the container's cgroup gets them.
    expect(report.leafControllers.split(' ')).toEqual(expect.arrayContaining(['cpu', 'memory', 'pids']));
  }, 330000);
});
