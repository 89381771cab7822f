// Rootless: an unprivileged user (made by the test setup, see
// helpers/userns.ts) runs containers with a user namespace that maps its own
// ids, state under $XDG_RUNTIME_DIR/ocits, and no cgroup of their own, since
// it may not make one (runc's rootless rule).
import * as fs from 'fs-extra';
import * as path from 'node:path';
import { ocits, type CliResult } from '../helpers/cli';
import { busyboxRootfs, isAlive } from '../helpers/busybox';
import { tempDir } from '../helpers/tmp';
import { chownTree, rootlessUser } from '../helpers/userns';

const user = rootlessUser();
const runtimeDir = tempDir('ocits-xdg-');
fs.chownSync(runtimeDir, user.uid, user.gid);
const stateRoot = path.join(runtimeDir, 'ocits');
const made = new Set<string>();
const pids = new Set<number>();

afterAll(() => {
  // Straight to ocits, without asUser's output files: helpers/tmp may have
  // run its own afterAll already, and would not remove them.
  for (const id of made) {
    ocits(['delete', '--force', id], { uid: user.uid, gid: user.gid, env: { PATH: process.env.PATH, XDG_RUNTIME_DIR: runtimeDir }, stdio: 'ignore' });
  }
  for (const pid of pids) {
    try {
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

let counter = 0;
const nextId = (): string => `c${process.pid}-${++counter}`;

/**
 * Runs ocits as the unprivileged user, with only the environment a login
 * would give it. Output goes through files: a detached container inherits
 * them, and pipes would keep us waiting until it exits.
 */
function asUser(args: string[], input = ''): CliResult {
  const id = args[args.length - 1];
  if (args[0] === 'run' || args[0] === 'create') made.add(id);
  const outputDir = tempDir('ocits-output-');
  const stdout = fs.openSync(path.join(outputDir, 'stdout'), 'w+');
  const stderr = fs.openSync(path.join(outputDir, 'stderr'), 'w+');
  try {
    const { status } = ocits(args, {
      uid: user.uid,
      gid: user.gid,
      env: { PATH: process.env.PATH, XDG_RUNTIME_DIR: runtimeDir },
      input,
      stdio: ['pipe', stdout, stderr],
    });
    return {
      status,
      stdout: fs.readFileSync(path.join(outputDir, 'stdout'), 'utf8'),
      stderr: fs.readFileSync(path.join(outputDir, 'stderr'), 'utf8'),
    };
  } finally {
    fs.closeSync(stdout);
    fs.closeSync(stderr);
  }
}

/** A busybox bundle owned by the user, with config.json from `ocits spec --rootless` as that user. */
function rootlessBundle(): string {
  const bundle = busyboxRootfs();
  chownTree(bundle, user.uid, user.gid);
  const spec = asUser(['spec', '--rootless', '--bundle', bundle]);
  expect(spec).toMatchObject({ status: 0, stderr: '' });
  return bundle;
}

function editConfig(bundle: string, change: (config: Record<string, any>) => void): void {
  const file = path.join(bundle, 'config.json');
  const config = JSON.parse(fs.readFileSync(file, 'utf8'));
  change(config);
  fs.writeFileSync(file, JSON.stringify(config));
}

const mapLine = (text: string): number[] => text.trim().split(/\s+/).map(Number);

test("`ocits spec --rootless`'s config runs unchanged: root inside is the user's own uid and gid", () => {
  const bundle = rootlessBundle();
  const id = nextId();
  // process.terminal is true: the shell reads our input through the pty.
  const result = asUser(['run', '--bundle', bundle, id], 'cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; id -u; exit\n');
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  const lines = result.stdout.replace(/\r/g, '').split('\n');
  const maps = lines.filter((line) => /^\s*\d+\s+\d+\s+\d+\s*$/.test(line)).map(mapLine);
  expect(maps).toEqual([
    [0, user.uid, 1],
    [0, user.gid, 1],
  ]);
  // Without CAP_SETGID we may write gid_map only after denying setgroups.
  expect(lines).toContain('deny');
  expect(lines).toContain('0');
  expect(fs.readdirSync(stateRoot)).toEqual([]);
});

test('state lives under $XDG_RUNTIME_DIR/ocits, the container stays in our cgroup, files belong to the user, exec works', () => {
  const bundle = rootlessBundle();
  editConfig(bundle, (config) => {
    config.process.terminal = false;
    config.process.args = ['sleep', '1000'];
    config.root.readonly = false;
  });
  const id = nextId();
  expect(asUser(['run', '--detach', '--bundle', bundle, id])).toMatchObject({ status: 0, stderr: '' });
  const state = JSON.parse(asUser(['state', id]).stdout);
  pids.add(state.pid);
  expect(state.status).toBe('running');
  expect(fs.existsSync(path.join(stateRoot, id, 'state.json'))).toBe(true);

  // No cgroup was made for it: it shares the cgroups of the process that ran ocits (ours).
  expect(fs.readFileSync(`/proc/${state.pid}/cgroup`, 'utf8')).toBe(fs.readFileSync('/proc/self/cgroup', 'utf8'));
  for (const hierarchy of fs.readdirSync('/sys/fs/cgroup')) {
    expect(fs.existsSync(path.join('/sys/fs/cgroup', hierarchy, id))).toBe(false);
  }

  const exec = asUser(['exec', id, 'sh', '-c', 'touch /made-inside; readlink /proc/self/ns/user; cat /proc/self/uid_map']);
  expect(exec.stderr).toBe('');
  const [userNs, uidMap] = exec.stdout.trim().split('\n');
  expect(userNs).toBe(fs.readlinkSync(`/proc/${state.pid}/ns/user`));
  expect(mapLine(uidMap)).toEqual([0, user.uid, 1]);
  const made = fs.statSync(path.join(bundle, 'rootfs', 'made-inside'));
  expect([made.uid, made.gid]).toEqual([user.uid, user.gid]);
  expect(asUser(['exec', '--additional-gids', '0', id, 'true'])).toMatchObject({
    status: 1,
    stderr: "ocits: additional gids: the container's user namespace denies setgroups (rootless), so they cannot be set\n",
  });

  expect(asUser(['delete', '--force', id]).status).toBe(0);
  expect(fs.existsSync(path.join(stateRoot, id))).toBe(false);
});

test('refused: ids the user does not own, and supplementary groups it may not set', () => {
  const foreign = rootlessBundle();
  editConfig(foreign, (config) => {
    config.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 1000 }];
  });
  const id = nextId();
  const result = asUser(['run', '--bundle', foreign, id]);
  expect(result.status).toBe(1);
  expect(result.stderr).toMatch(
    /^ocits: \/linux\/uidMappings: cannot write \/proc\/\d+\/uid_map: .*operation not permitted.* \(an unprivileged user may map only its own id, with size 1\)\n$/i,
  );
  expect(fs.existsSync(path.join(stateRoot, id))).toBe(false);

  const groups = rootlessBundle();
  editConfig(groups, (config) => {
    config.process.user.additionalGids = [0];
  });
  const refused = asUser(['run', '--bundle', groups, nextId()]);
  expect(refused).toMatchObject({
    status: 1,
    stderr: 'ocits: /process/user/additionalGids: an unprivileged user cannot set supplementary groups in its user namespace (setgroups is denied)\n',
  });
});
