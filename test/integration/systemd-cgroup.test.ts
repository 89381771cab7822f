// The systemd cgroup driver (--systemd-cgroup). On a host without systemd
// as init (this one) it must fail cleanly, leaving nothing; its config
// refusals come first, on any host. With OCITS_CGV2_VM=1, the whole driver
// runs in ../shared/tools/cgv2-vm --systemd (systemd as PID 1, pure cgroup
// v2) through helpers/systemd-lane.sh.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Runtime, busyboxBundle, busyboxRootfs } from '../helpers/busybox';
import { REPO, ocits } from '../helpers/cli';
import { checkoutTempDir } from '../helpers/tmp';
import { chownTree, rootlessUser } from '../helpers/userns';

const LANE = path.join(REPO, 'test', 'helpers', 'systemd-lane.sh');
const ENGINES_LANE = path.join(REPO, 'test', 'helpers', 'systemd-engines-lane.sh');
const USER_LANE = path.join(REPO, 'test', 'helpers', 'systemd-user-lane.sh');
const ENGINES = path.join(REPO, '..', 'shared', 'tools', 'engines');
const CGV2_VM = path.join(REPO, '..', 'shared', 'tools', 'cgv2-vm');
const SYSTEMD_RUNNING = fs.existsSync('/run/systemd/system');

function sleeperBundle(change: (config: Record<string, any>) => void = () => {}, moveInto?: string): string {
  const bundle = busyboxBundle((config) => {
    config.process.args = ['sh', '-c', 'sleep 1000 & sleep 1000 & wait'];
    change(config);
  });
  if (moveInto === undefined) return bundle;
  // The VM sees only the shared checkout, not this machine's /tmp.
  const moved = path.join(moveInto, path.basename(bundle));
  fs.cpSync(bundle, moved, { recursive: true, verbatimSymlinks: true });
  return moved;
}

/** `ocits spec --rootless`'s bundle, owned by the user, in dir (the VM sees only the checkout). */
function userBundle(user: { uid: number; gid: number }, dir: string): string {
  const bundle = path.join(dir, 'user-bundle');
  fs.cpSync(busyboxRootfs(), bundle, { recursive: true, verbatimSymlinks: true });
  chownTree(bundle, user.uid, user.gid);
  const spec = ocits(['spec', '--rootless', '--bundle', bundle], { uid: user.uid, gid: user.gid, env: { PATH: process.env.PATH } });
  if (spec.status !== 0) throw new Error(spec.stderr);
  const file = path.join(bundle, 'config.json');
  const config = JSON.parse(fs.readFileSync(file, 'utf8'));
  config.process.terminal = false;
  config.process.args = ['sh', '-c', 'sleep 1000 & sleep 1000 & wait'];
  config.linux.resources = { memory: { limit: 64 << 20 }, pids: { limit: 30 } };
  fs.writeFileSync(file, JSON.stringify(config));
  return bundle;
}

/** Every directory a scope of this name would have in any mounted hierarchy. */
function scopeDirs(unit: string): string[] {
  const roots = fs.readdirSync('/sys/fs/cgroup').map((name) => path.join('/sys/fs/cgroup', name));
  return ['/sys/fs/cgroup', ...roots].map((root) => path.join(root, 'system.slice', unit)).filter((dir) => fs.existsSync(dir));
}

describe('--systemd-cgroup refusals', () => {
  const runtime = new Runtime();
  afterAll(() => runtime.cleanUp());

  it('refuses a cgroupsPath not in slice:prefix:name form, naming the field', () => {
    const bundle = sleeperBundle((config) => {
      config.linux.cgroupsPath = '/mygroup/c1';
    });
    const result = runtime.run(['--systemd-cgroup', 'create', '--bundle', bundle, `s${process.pid}-path`]);
    expect(result.stderr).toBe(
      `ocits: /linux/cgroupsPath: expected "slice:prefix:name" for systemd cgroups (--systemd-cgroup), such as "system.slice:ocits:s${process.pid}-path", got "/mygroup/c1"\n`,
    );
    expect(result.status).toBe(1);
    expect(fs.readdirSync(runtime.root)).toEqual([]);
  });

  it('refuses a bad org.systemd.property annotation by name', () => {
    const bundle = sleeperBundle((config) => {
      config.annotations = { 'org.systemd.property.Timeout_Stop': 'uint64 5' };
    });
    const result = runtime.run(['create', '--systemd-cgroup', '--bundle', bundle, `s${process.pid}-annotation`]);
    expect(result.stderr).toBe(
      'ocits: /annotations/org.systemd.property.Timeout_Stop: "Timeout_Stop" is not a systemd property name: it has a character other than a latin letter\n',
    );
    expect(result.status).toBe(1);
  });
});

(SYSTEMD_RUNNING ? describe.skip : describe)('--systemd-cgroup on a host without systemd', () => {
  const runtime = new Runtime();
  afterAll(() => runtime.cleanUp());

  it.each([
    [['--systemd-cgroup', 'run', '--detach']],
    [['run', '--systemd-cgroup', '--detach']],
  ])('ocits %p fails in one line, with nothing created', (args) => {
    const id = `s${process.pid}-${args[0].replace(/\W/g, '')}`;
    const bundle = sleeperBundle();
    const result = runtime.run([...args, '--bundle', bundle, id]);
    expect(result.stderr).toBe(
      "ocits: --systemd-cgroup: systemd is not running on this host (no /run/systemd/system), so it cannot manage the container's cgroup\n",
    );
    expect(result.status).toBe(1);
    expect(fs.readdirSync(runtime.root)).toEqual([]);
    expect(scopeDirs(`ocits-${id}.scope`)).toEqual([]);
  });
});

(process.env.OCITS_CGV2_VM === '1' ? describe : describe.skip)('--systemd-cgroup in the cgv2-vm with systemd (OCITS_CGV2_VM=1)', () => {
  // One VM run for both lanes: each boot costs about a minute under TCG.
  it('makes a scope with the limits, updates, pauses, lists, kills and deletes it; nested slices; refusals; a non-root caller through its own systemd; podman and containerd', () => {
    const shared = checkoutTempDir();
    const id = `s${process.pid}`;
    const bundle = sleeperBundle((config) => {
      config.linux.resources = {
        memory: { limit: 64 << 20, reservation: 16 << 20 },
        cpu: { shares: 512, quota: 30000, period: 100000 },
        pids: { limit: 40 },
        blockIO: { weight: 500 },
        unified: { 'memory.high': '50331648' },
      };
      config.annotations = { 'org.systemd.property.TimeoutStopSec': 'uint64 123' };
      config.linux.devices = [{ path: '/dev/ocits-sda', type: 'b', major: 8, minor: 0, fileMode: 0o660, uid: 0, gid: 0 }];
    }, shared);
    const nested = sleeperBundle((config) => {
      config.linux.cgroupsPath = `ocitst-a-b.slice:ocitst:${id}-nested`;
    }, shared);
    const bad = sleeperBundle((config) => {
      config.annotations = { 'org.systemd.property.NoSuchProperty': "'x'" };
    }, shared);
    const sibling = sleeperBundle((config) => {
      config.linux.cgroupsPath = `ocitst-a-c.slice:ocitst:${id}-sibling`;
    }, shared);
    const pre = sleeperBundle((config) => {
      config.linux.cgroupsPath = `ocitsp-x.slice:ocitst:${id}-pre`;
    }, shared);
    const user = rootlessUser();
    fs.chmodSync(shared, 0o755); // the user reaches its bundle through it
    const ownBundle = userBundle(user, shared);
    const ocitsBin = path.join(REPO, 'bin', 'ocits');
    const quote = (word: string): string => `'${word.replace(/'/g, "'\\''")}'`;
    const lanes =
      ['sh', LANE, ocitsBin, '/run/ocits-vm-test', id, bundle, nested, bad, sibling, pre].map(quote).join(' ') +
      '; ' +
      ['bash', ENGINES_LANE, ocitsBin, ENGINES].map(quote).join(' ') +
      '; ' +
      ['sh', USER_LANE, ocitsBin, String(user.uid), String(user.gid), ownBundle, `${id}-user`].map(quote).join(' ');
    const result = spawnSync(CGV2_VM, ['--systemd', '--timeout', '800', '--', lanes], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 820000,
    });
    const report: Record<string, string> = {};
    for (const line of result.stdout.split('\n')) {
      const colon = line.indexOf(': ');
      if (colon > 0) report[line.slice(0, colon)] = line.slice(colon + 2);
      else if (line.endsWith(':')) report[line.slice(0, -1)] = '';
    }
    expect(report).toMatchObject({
      'features.systemd': '"systemd": true',
      run: '0',
      'unit.state': 'active',
      'unit.status.pid': '1',
      'unit.props':
        'CPUQuotaPerSecUSec=300ms CPUWeight=20 Delegate=yes DevicePolicy=strict IOWeight=4950 MemoryHigh=50331648 MemoryLow=16777216 MemoryMax=67108864 ' +
        'Slice=system.slice TasksMax=40 TimeoutStopUSec=2min 3s ',
      'proc.cgroup': `0::/system.slice/ocits-${id}.scope`,
      'created.memory.max': String(64 << 20),
      'created.memory.low': String(16 << 20),
      'created.memory.high': String(48 << 20),
      'created.cpu.weight': '20',
      'created.cpu.max': '30000 100000',
      'created.pids.max': '40',
      'created.io.weight': 'default 4950',
      'device.denied': 'head: /dev/ocits-sda: Operation not permitted',
      update: '0',
      'updated.props': 'CPUWeight=79 MemoryMax=134217728 TasksMax=12 ',
      'updated.memory.max': String(128 << 20),
      'updated.pids.max': '12',
      'updated.cpu.weight': '79',
      'paused.status': 'paused',
      'resumed.status': 'running',
      'stats.pids': '"pids":{"current":3,"limit":12}',
      'killed.status': 'stopped',
      deleted: '0',
      'units.left': '',
      'cgroup.left': '',
      'nested.create': '0',
      'nested.cgroup': `/ocitst.slice/ocitst-a.slice/ocitst-a-b.slice/ocitst-${id}-nested.scope`,
      'nested.slice': 'ocitst-a-b.slice',
      'nested.status': 'running',
      'nested.deleted': '0',
      'nested.units.left': '',
      // The slices systemd started for the scope go with it (runc leaves them).
      'nested.slices.left': '',
      'nested.system.slice': 'active',
      // One that was up before create stays, though empty.
      'pre.before': 'active',
      'pre.run': '0',
      'pre.deleted': '0',
      'pre.slices.left': 'ocitsp.slice ',
      'pre.after': 'active',
      // One that holds another container's scope stays, and that container runs on.
      'shared.nested.create': '0',
      'shared.sibling.create': '0',
      'shared.nested.deleted': '0',
      'shared.slices.left': 'ocitst-a-c.slice ocitst-a.slice ocitst.slice ',
      'shared.sibling.status': 'created',
      'shared.sibling.unit': 'active',
      'shared.sibling.deleted': '0',
      // Only the slice the sibling's create started goes with it: the outer
      // two were started by the first container's create (README, systemd).
      'shared.slices.after': 'ocitst-a.slice ocitst.slice ',
      'bad.left': '',
    });
    const pids = JSON.parse(report['ps.json']) as number[];
    expect(pids).toHaveLength(3); // sh and its two sleeps
    expect(pids.join(' ')).toBe(report.procs.trim());
    expect(report['bad.create']).toMatch(/^ocits: systemd: StartTransientUnit ocits-s\d+-bad\.scope: .*NoSuchProperty/);
    // podman with cgroup_manager = "systemd": its scope libpod-ID.scope, and update reaches both.
    expect(report).toMatchObject({
      'podman.run': 'hi',
      'podman.run.d': 'running',
      'podman.exec': 'inner',
      'podman.unit.memory': String(64 << 20),
      'podman.update': '0',
      'podman.updated.unit': String(32 << 20),
      'podman.updated.file': String(32 << 20),
      'podman.rm': 'x',
      'podman.units.left': '',
    });
    // containerd's runc shim with SystemdCgroup (what SystemdCgroup = true sets for the CRI plugin).
    expect(report).toMatchObject({
      'ctr.run': 'hi',
      'ctr.task': 'RUNNING',
      'ctr.unit': 'ActiveState=active MemoryMax=67108864 ',
      'ctr.exec': 'inner',
      'ctr.delete': 'ok',
      'ctr.units.left': '',
    });
    // A non-root caller: its own systemd instance, over the user bus.
    expect(report).toMatchObject({
      'user.manager': 'active',
      'user.run': '0',
      'user.cgroup': `/user.slice/user-${user.uid}.slice/user@${user.uid}.service/user.slice/ocits-${id}-user.scope`,
      'user.unit': 'ActiveState=active MemoryMax=67108864 TasksMax=30 ',
      'user.exec': 'exit 0 ',
      'user.exec.cgroup': `/user.slice/user-${user.uid}.slice/user@${user.uid}.service/user.slice/ocits-${id}-user.scope`,
      'user.files': '67108864 30 ',
      'user.updated': '20 20',
      'user.paused': 'paused',
      'user.deleted': '0',
      'user.units.left': '',
    });
    expect(result.status).toBe(0);
  }, 840000);
});
