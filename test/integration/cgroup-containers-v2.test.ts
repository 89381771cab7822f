// Containers on pure cgroup v2, through bin/ocits (helpers/cgroup-v2-lane.sh).
// Fast lane: a private mount namespace on this machine with cgroup2 over
// /sys/fs/cgroup, where only hugetlb is available: resources, update,
// pause/resume through cgroup.freeze, ps, kill --all through cgroup.kill.
// Slow lane, only with OCITS_CGV2_VM=1: the same in ../shared/tools/cgv2-vm
// with memory, cpu, pids and io limits.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { detectCgroupHost } from '../../src/cgroups/host';
import { Runtime, busyboxBundle } from '../helpers/busybox';
import { removeTestCgroups } from '../helpers/cgroups';
import { OCITS, REPO } from '../helpers/cli';
import { OOM_AFTER_GO } from '../helpers/oom';
import { checkoutTempDir } from '../helpers/tmp';

const LANE = path.join(REPO, 'test', 'helpers', 'cgroup-v2-lane.sh');
const CGV2_VM = path.join(REPO, '..', 'shared', 'tools', 'cgv2-vm');

/** The lane script's "name: value" lines. */
function parseLane(stdout: string): Record<string, string> {
  const report: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const colon = line.indexOf(': ');
    if (colon > 0) report[line.slice(0, colon)] = line.slice(colon + 2);
    else if (line.endsWith(':')) report[line.slice(0, -1)] = '';
  }
  return report;
}

/** Device rules need the v2 eBPF device controller; these bundles carry only what the lane tests. */
function v2Bundle(resources: Record<string, unknown>, makeIn?: string, args = ['sh', '-c', 'sleep 1000 & sleep 1000 & wait']): string {
  const bundle = busyboxBundle((config) => {
    config.process.args = args;
    config.linux.resources = resources;
  });
  if (makeIn === undefined) return bundle;
  // The VM sees only the shared checkout, not this machine's /tmp.
  const moved = path.join(makeIn, path.basename(bundle));
  fs.cpSync(bundle, moved, { recursive: true, verbatimSymlinks: true });
  return moved;
}

/** What both lanes must show after the lane-specific part. */
function expectCommonLane(report: Record<string, string>, id: string): void {
  expect(report.run).toBe('0');
  expect(report['paused.status']).toBe('paused');
  expect(report['paused.freeze']).toBe('1');
  expect(report['paused.frozen']).toBe('1');
  expect(report['resumed.status']).toBe('running');
  expect(report['resumed.frozen']).toBe('0');
  const pids = JSON.parse(report['ps.json']) as number[];
  expect(pids).toHaveLength(3); // sh and its two sleeps
  expect(pids.join(' ')).toBe(report.procs.trim());
  expect(report['killed.status']).toBe('stopped');
  expect(report.deleted).toBe('0');
  expect(report.left).toBe('');
  expect(report['refused.left']).toBe('');
  expect(report.cgroup).toMatch(new RegExp(`/${id}$`));
}

const host = detectCgroupHost();
const hostV2 = host.hierarchies.find((h) => h.fstype === 'cgroup2');
const hasHugetlb = hostV2?.controllers.includes('hugetlb') === true && fs.existsSync('/sys/kernel/mm/hugepages/hugepages-2048kB');

(hasHugetlb && host.mode !== 'unified' ? describe : describe.skip)('containers on cgroup v2 in a private mount namespace', () => {
  const runtime = new Runtime();
  const id = `c${process.pid}-v2`;
  const rootSubtree = path.join(hostV2?.mountPoint ?? '/', 'cgroup.subtree_control');
  let subtreeBefore = '';

  beforeAll(() => {
    subtreeBefore = fs.readFileSync(rootSubtree, 'utf8').trim();
  });

  afterAll(() => {
    runtime.cleanUp();
    const hostSide = (name: string) => path.posix.join(hostV2!.mountPoint, hostV2!.ownPath, name);
    expect(removeTestCgroups([hostSide(id), hostSide(`${id}-refused`)])).toEqual([]);
    // ocits enabled the root's controllers for its children, as on any pure v2 host; undo that here.
    const before = new Set(subtreeBefore.split(/\s+/));
    for (const c of fs.readFileSync(rootSubtree, 'utf8').trim().split(/\s+/).filter((c) => c !== '' && !before.has(c))) {
      fs.writeFileSync(rootSubtree, `-${c}`);
    }
  });

  it('limits hugetlb, refuses what is missing, freezes, lists and kills through the cgroup', () => {
    const bundle = v2Bundle({ hugepageLimits: [{ pageSize: '2MB', limit: 2097152 }] });
    const refused = v2Bundle({ memory: { limit: 64 << 20 } });
    const script = `mount -t cgroup2 none /sys/fs/cgroup && exec sh "${LANE}" fast "${OCITS}" "${runtime.root}" ${id} "${bundle}" "${refused}"`;
    const result = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { encoding: 'utf8', timeout: 60000 });
    expect(result.stderr).toBe('');
    const report = parseLane(result.stdout);
    expect(report['created.hugetlb']).toBe('2097152');
    expect(report['updated.hugetlb']).toBe('4194304');
    expect(report['update.memory.error']).toBe(`ocits: /linux/resources/memory/limit: the memory controller is not available in cgroup /${id}`);
    expect(report['stats.hugetlb']).toMatch(/^"hugetlb":\{"(2MB|1GB)"$/);
    expect(report.refused).toBe(`ocits: /linux/resources/memory/limit: the memory controller is not available in cgroup /${id}-refused`);
    expectCommonLane(report, id);
  });
});

(process.env.OCITS_CGV2_VM === '1' ? describe : describe.skip)('containers on pure cgroup v2 in the cgv2-vm (OCITS_CGV2_VM=1)', () => {
  it('sets memory, cpu, pids and io limits, updates them, pauses, resumes and deletes', () => {
    const shared = checkoutTempDir();
    const id = `c${process.pid}-vm`;
    const bundle = v2Bundle(
      {
        memory: { limit: 64 << 20, reservation: 16 << 20 },
        cpu: { shares: 512, quota: 30000, period: 100000 },
        pids: { limit: 40 },
        blockIO: { weight: 500 },
      },
      shared,
    );
    const refused = v2Bundle({ unified: { 'memory.high': 'plenty' } }, shared);
    const oom = v2Bundle({ memory: { limit: 16 << 20 } }, shared, OOM_AFTER_GO);
    const result = spawnSync(
      CGV2_VM,
      ['--timeout', '500', '--', 'sh', LANE, 'vm', OCITS, '/run/ocits-vm-test', id, bundle, refused, oom],
      { cwd: REPO, encoding: 'utf8', timeout: 520000 },
    );
    const report = parseLane(result.stdout);
    expect(report).toMatchObject({
      'created.memory.max': String(64 << 20),
      'created.memory.low': String(16 << 20),
      'created.cpu.weight': '20', // 1 + (512 - 2) * 9999 / 262142
      'created.cpu.max': '30000 100000',
      'created.pids.max': '40',
      'created.io.weight': 'default 4950', // 1 + (500 - 10) * 9999 / 990
      'updated.memory.max': String(128 << 20),
      'updated.cpu.max': '50000 100000', // the period is kept
      'updated.pids.max': '12',
      'updated.cpu.weight': '79',
    });
    expect(report['stats.pids']).toBe('"pids":{"current":3,"limit":12}');
    expect(report.refused).toMatch(
      new RegExp(`^ocits: /linux/resources/unified/memory.high: writing "plenty" to /sys/fs/cgroup/.*${id}-refused/memory.high: invalid argument \\(EINVAL\\)$`),
    );
    // memory.events' oom_kill counter rose: one "oom" event.
    expect(report.oom).toBe(`{"type":"oom","id":"${id}-oom"}`);
    expect(report['oom.deleted']).toBe('0');
    expectCommonLane(report, id);
  }, 540000);
});
