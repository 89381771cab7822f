// linux.resources.devices in real containers, on this host (v1 devices
// controller) and on a pure cgroup v2 view of it (a private mount namespace
// with cgroup2 over /sys/fs/cgroup, where the rules become an eBPF program).
// Both must give what runc 1.1.5 gives for the same bundle, on either.
// With OCITS_CGV2_VM=1 they also run in ../shared/tools/cgv2-vm (slow).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OCITS, REPO } from '../helpers/cli';
import { Runtime, busyboxBundle } from '../helpers/busybox';
import { checkoutTempDir } from '../helpers/tmp';

const runtime = new Runtime();
afterAll(() => runtime.cleanUp());

let counter = 0;
const nextId = (): string => `c${process.pid}-${++counter}`;

/** Opens each /dev/NAME for reading and for writing; one line per try. */
function probe(names: string[]): string[] {
  const script = `for d in ${names.join(' ')}; do for m in "<" ">"; do r=$( (eval "exec 3$m/dev/$d") 2>&1 ) && echo "$d $m open" || echo "$d $m $r"; done; done`;
  return ['sh', '-c', script];
}

const opened = (name: string): string[] => [`${name} < open`, `${name} > open`];
const refused = (name: string, why: string): string[] => [
  `${name} < sh: eval: line 0: can't open /dev/${name}: ${why}`,
  `${name} > sh: eval: line 0: can't create /dev/${name}: ${why}`,
];
const NO_TTY = refused('tty', 'No such device or address'); // no controlling terminal, as with runc

// A serial port opens without any capability, here and in the VM. /dev/kmsg
// for writing does too (reading needs CAP_SYSLOG, so only the write proves
// the device rules).
const SERIAL = { path: '/dev/ttyS0', type: 'c', major: 4, minor: 64, fileMode: 0o666 };
const KMSG = { path: '/dev/kmsg', type: 'c', major: 1, minor: 11, fileMode: 0o666 };
const CGV2_VM = path.join(REPO, '..', 'shared', 'tools', 'cgv2-vm');

type Lane = (bundle: string) => { status: number | null; stdout: string; stderr: string };

const LANES: Array<[string, Lane]> = [
  ['on this host', (bundle) => runtime.run(['run', '--bundle', bundle, nextId()])],
  [
    'on a pure cgroup v2 view',
    (bundle) => {
      const id = nextId();
      const script = `mount -t cgroup2 none /sys/fs/cgroup && exec "${OCITS}" --root "${runtime.root}" run --bundle "${bundle}" ${id}`;
      return spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { encoding: 'utf8' });
    },
  ],
];
if (process.env.OCITS_CGV2_VM === '1') {
  LANES.push([
    'in the pure cgroup v2 VM',
    (bundle) => {
      // The VM sees the checkout, not this host's /tmp; its /run (the state root) vanishes with it.
      const shared = path.join(checkoutTempDir(), 'bundle');
      fs.cpSync(bundle, shared, { recursive: true, verbatimSymlinks: true });
      const command = [OCITS, '--root', '/run/ocits', 'run', '--bundle', shared, nextId()];
      const result = spawnSync(CGV2_VM, ['--timeout', '300', '--', ...command], { cwd: REPO, encoding: 'utf8', timeout: 320000 });
      // The VM's own notes (e.g. that it falls back to emulation) are not the container's.
      return { ...result, stderr: result.stderr.replace(/^cgv2-vm: warning: .*\n/gm, '') };
    },
  ]);
}
const SLOW = process.env.OCITS_CGV2_VM === '1' ? 330000 : undefined;

describe.each(LANES)('device rules %s', (_lane, run) => {
  function expectLines(bundle: string, lines: string[]): void {
    const result = run(bundle);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual(lines);
  }

  it('allow what the config\'s rules and runc\'s defaults allow, and nothing else', () => {
    const bundle = busyboxBundle((config) => {
      config.process.args = probe(['null', 'zero', 'urandom', 'full', 'tty', 'ttyS0', 'kmsg']);
      config.linux.devices = [SERIAL, KMSG];
      config.linux.resources = {
        devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 4, minor: 64, access: 'r' }],
      };
    });
    expectLines(bundle, [
      ...opened('null'), ...opened('zero'), ...opened('urandom'), ...opened('full'), ...NO_TTY,
      'ttyS0 < open', "ttyS0 > sh: eval: line 0: can't create /dev/ttyS0: Operation not permitted",
      ...refused('kmsg', 'Operation not permitted'),
    ]);
  }, SLOW);

  it('leave the default config\'s devices usable', () => {
    const bundle = busyboxBundle((config) => {
      config.process.args = probe(['null', 'zero', 'random', 'urandom', 'full', 'tty', 'ptmx']);
    });
    expectLines(bundle, [
      ...opened('null'), ...opened('zero'), ...opened('random'), ...opened('urandom'), ...opened('full'), ...NO_TTY,
      ...opened('ptmx'),
    ]);
  }, SLOW);

  it('close the device list even when the config has no rules, as runc does', () => {
    const bundle = busyboxBundle((config) => {
      config.process.args = probe(['null', 'kmsg']);
      config.linux.devices = [KMSG];
      delete config.linux.resources;
    });
    expectLines(bundle, [...opened('null'), ...refused('kmsg', 'Operation not permitted')]);
  }, SLOW);
});
