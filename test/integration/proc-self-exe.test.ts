// The CVE-2019-5736 class: a container's program is a script whose
// interpreter is `#!/proc/self/exe`. The kernel resolves that in the process
// that calls execve, so if that process is a clone of the runtime, the
// container ends up running the runtime's own binary: here the ocits
// program, dist/ocits, which is Bun's runtime with the CLI compiled in. That
// process can keep an O_PATH descriptor of its executable and, once nothing
// executes the binary any more, reopen it for writing through
// /proc/self/fd/N and overwrite the host's ocits.
//
// The attack runs for real, through `start` and through `exec`, against a
// throwaway build: a copy of the launcher, the program and the addon laid out
// as in the checkout (the launcher finds the program from its own path); the
// checkout's build is never the target. Each case checks both that the
// attack ran (the program started inside the container as a JavaScript
// runtime and tried to write) and that the copy is unchanged.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'fs-extra';
import * as path from 'node:path';
import { Runtime, busyboxBundle, busyboxRootfs } from '../helpers/busybox';
import { REPO, ocits } from '../helpers/cli';
import { chownTree, rootlessUser } from '../helpers/userns';
import { tempDir } from '../helpers/tmp';
import { sleepSync } from '../../src/sleep';

const PROGRAM = path.join(REPO, 'dist', 'ocits');
const RELEASE = path.join(REPO, 'build', 'Release');

const runtimes: Runtime[] = [];
afterAll(() => {
  for (const runtime of runtimes) runtime.cleanUp();
});

const digest = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const pristine = digest(PROGRAM);

/**
 * A fresh build for one case: TOP/build/Release/{ocits-launcher,ocits.node}
 * and TOP/dist/ocits, the program owned by `owner` (root by default).
 */
function throwawayBuild(owner = 0): { launcher: string; program: string } {
  const top = tempDir('ocits-build-');
  const release = path.join(top, 'build', 'Release');
  const program = path.join(top, 'dist', 'ocits');
  fs.mkdirSync(release, { recursive: true });
  fs.mkdirSync(path.dirname(program));
  for (const file of ['ocits-launcher', 'ocits.node']) fs.copyFileSync(path.join(RELEASE, file), path.join(release, file));
  fs.copyFileSync(PROGRAM, program);
  fs.chmodSync(program, 0o755);
  fs.chownSync(program, owner, owner);
  for (const dir of [top, path.join(top, 'build'), release, path.dirname(program)]) fs.chmodSync(dir, 0o755);
  return { launcher: path.join(release, 'ocits-launcher'), program };
}

/** A runtime whose commands run the throwaway build's launcher. */
function runtimeOf(launcher: string): Runtime {
  const runtime = new Runtime(launcher);
  runtimes.push(runtime);
  return runtime;
}

// The program is Bun's runtime too: with BUN_BE_BUN in the container's
// environment, which an image may set, `#!/proc/self/exe` makes it run the
// script as JavaScript. An attacker needs only the descriptor; running code
// makes the attack take the same steps every time.
const BE_A_RUNTIME = 'BUN_BE_BUN=1';

// Run by the kernel as `<program> /evil`: the program, inside the container,
// runs it as JavaScript and treats the first line as a hashbang comment. It opens its own executable
// (O_PATH, 0o10000000) and hands the descriptor as fd 3 to a shell that
// outlives it; the shell keeps trying to open the executable for writing,
// which succeeds as soon as nothing executes it, unless it is sealed.
const EVIL = `#!/proc/self/exe
const fs = require('fs');
const { spawn } = require('child_process');
fs.writeFileSync('/ran', 'the program ran in the container\\n');
const exe = fs.openSync('/proc/self/exe', 0o10000000);
spawn('/bin/sh', ['/overwrite.sh'], { stdio: ['ignore', 'ignore', 'ignore', exe], detached: true }).unref();
`;
// The shell tries until the test has seen ocits exit, and for 2 s more.
const OVERWRITE = `after=0
while [ $after -lt 20 ]; do
  if echo pwned 2>/error >/proc/self/fd/3; then echo overwritten > /result; exit 0; fi
  if [ -e /ocits-exited ]; then after=$((after + 1)); fi
  sleep 0.1
done
cat /error > /result
`;

/** Adds the program's shared libraries, so that it can start inside, and the attack's two scripts. */
function arm(rootfs: string): void {
  const libraries = execFileSync('ldd', [PROGRAM], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /(\/\S+) \(0x/.exec(line)?.[1])
    .filter((library): library is string => library !== undefined);
  for (const library of libraries) {
    fs.mkdirSync(path.join(rootfs, path.dirname(library)), { recursive: true });
    fs.copyFileSync(library, path.join(rootfs, library));
  }
  fs.writeFileSync(path.join(rootfs, 'evil'), EVIL, { mode: 0o755 });
  fs.writeFileSync(path.join(rootfs, 'overwrite.sh'), OVERWRITE);
}

function attackBundle(change: (config: Record<string, any>) => void): string {
  const bundle = busyboxBundle((config) => {
    config.root.readonly = false;
    config.process.env.push(BE_A_RUNTIME);
    change(config);
  });
  arm(path.join(bundle, 'rootfs'));
  return bundle;
}

/** The shell's verdict: "overwritten", or why it could not open the program for writing. */
function awaitResult(rootfs: string): string {
  const file = path.join(rootfs, 'result');
  for (let tries = 0; tries < 600 && !fs.existsSync(file); tries++) sleepSync(50);
  sleepSync(50); // the shell's write may still be under way
  return fs.readFileSync(file, 'utf8');
}

function expectAttackFailed(rootfs: string, program: string, reason: RegExp): void {
  fs.writeFileSync(path.join(rootfs, 'ocits-exited'), '');
  const result = awaitResult(rootfs);
  expect(fs.readFileSync(path.join(rootfs, 'ran'), 'utf8')).toBe('the program ran in the container\n');
  expect(result).not.toContain('overwritten');
  expect(result).toMatch(/can't create \/proc\/self\/fd\/3/);
  expect(result).toMatch(reason);
  expect(digest(program)).toBe(pristine);
}

// Root's program runs from a read-only overlay; a copy in a memfd is sealed
// against writes; a file of root's is closed to an unprivileged user.
const READ_ONLY = /Read-only file system/;
const SEALED = /Operation not permitted/;
const NOT_OURS = /Permission denied/;

let counter = 0;
const nextId = (): string => `exe${process.pid}-${++counter}`;

it('a container started with #!/proc/self/exe cannot overwrite the runtime\'s binary', () => {
  // No pid namespace: the shell must outlive the container's first process.
  const { launcher, program } = throwawayBuild();
  const runtime = runtimeOf(launcher);
  const bundle = attackBundle((config) => {
    config.process.args = ['/evil'];
    config.linux.namespaces = config.linux.namespaces.filter((ns: { type: string }) => ns.type !== 'pid');
  });
  const id = nextId();
  runtime.ok(['create', '--bundle', bundle, id]);
  runtime.ok(['start', id]);
  expectAttackFailed(path.join(bundle, 'rootfs'), program, READ_ONLY);
});

it('a process exec\'d with #!/proc/self/exe cannot overwrite the runtime\'s binary', () => {
  const { launcher, program } = throwawayBuild();
  const runtime = runtimeOf(launcher);
  const bundle = attackBundle((config) => {
    config.process.args = ['sleep', '60'];
  });
  const id = nextId();
  runtime.ok(['run', '--detach', '--bundle', bundle, id]);
  runtime.ok(['exec', id, '/evil']);
  expectAttackFailed(path.join(bundle, 'rootfs'), program, READ_ONLY);
});

describe('rootless: ocits run by an unprivileged user', () => {
  const user = rootlessUser();
  const runtimeDir = tempDir('ocits-xdg-');
  fs.chownSync(runtimeDir, user.uid, user.gid);
  const ids: string[] = [];
  // bin/ocits, or a throwaway build's launcher.
  const asUser = (args: string[], binary?: string) =>
    ocits(
      args,
      { uid: user.uid, gid: user.gid, env: { PATH: process.env.PATH, XDG_RUNTIME_DIR: runtimeDir }, stdio: ['ignore', 'ignore', 'pipe'] },
      binary,
    );
  afterAll(() => {
    for (const id of ids) asUser(['delete', '--force', id]);
  });

  it.each([
    ['a copy of the program the user owns, which it runs from a sealed memfd', user.uid, SEALED],
    ['a copy of the program root owns and only root may write, which it runs as it is', 0, NOT_OURS],
  ])('cannot overwrite %s', (_, owner, reason) => {
    const { launcher, program } = throwawayBuild(owner);
    const bundle = busyboxRootfs();
    chownTree(bundle, user.uid, user.gid);
    expect(asUser(['spec', '--rootless', '--bundle', bundle], launcher)).toMatchObject({ status: 0, stderr: '' });
    const file = path.join(bundle, 'config.json');
    const config = JSON.parse(fs.readFileSync(file, 'utf8'));
    config.process.terminal = false;
    config.process.args = ['/evil'];
    config.process.env.push(BE_A_RUNTIME);
    config.root.readonly = false;
    // Without a pid namespace of its own, the user may not mount a new
    // proc; the host's, bound, shows the same /proc/self.
    config.linux.namespaces = config.linux.namespaces.filter((ns: { type: string }) => ns.type !== 'pid');
    config.mounts = config.mounts.map((mount: { destination: string }) =>
      mount.destination === '/proc' ? { destination: '/proc', type: 'bind', source: '/proc', options: ['rbind'] } : mount,
    );
    fs.writeFileSync(file, JSON.stringify(config));
    const rootfs = path.join(bundle, 'rootfs');
    arm(rootfs);
    chownTree(rootfs, user.uid, user.gid);
    const id = nextId();
    ids.push(id);
    expect(asUser(['run', '--detach', '--bundle', bundle, id], launcher)).toMatchObject({ status: 0, stderr: '' });
    expectAttackFailed(rootfs, program, reason);
  });
});

it('the program started without bin/ocits makes no container process, and leaves nothing behind', () => {
  const bundle = busyboxBundle();
  const root = tempDir('ocits-root-');
  const result = spawnSync(PROGRAM, ['--root', root, 'run', '--bundle', bundle, nextId()], { encoding: 'utf8' });
  expect(result.stderr).toBe('ocits: refusing to make a container process from an unsealed binary: run ocits through bin/ocits\n');
  expect(result.status).toBe(1);
  expect(fs.readdirSync(root)).toEqual([]);
});
