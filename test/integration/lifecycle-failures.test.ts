// Real containers that fail, or are driven wrongly: every failure is one line
// on stderr with exit status 1, and a failed create leaves nothing behind (no
// state directory, no cgroup, no process, no mount). Also the state errors
// engines match by substring, concurrent commands on one id, and `kill`'s
// signals. Wording follows runc's where engines depend on it
// ("does not exist", "not running", "already exists").
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { detectCgroupHost } from '../../src/cgroups/host';
import { resolveContainerCgroup } from '../../src/cgroups/paths';
import { busyboxBundle, isAlive, Runtime } from '../helpers/busybox';
import { OCITS, type CliResult } from '../helpers/cli';
import { procFields, processesWhere, readOrEmpty } from '../helpers/host-processes';
import { tempDir } from '../helpers/tmp';

const runtime = new Runtime();
const root = runtime.root;

/** Ids made outside runtime.run (concurrent spawns), force-deleted at the end too. */
const spawnedIds = new Set<string>();

/**
 * Force-deletes every container a failed test left. It is called from an
 * afterAll inside the file's outer describe: jest runs that before the
 * top-level afterAll of helpers/tmp, which removes the --root directory, and
 * without the state there delete could find nothing to kill or remove.
 */
function cleanUp(): void {
  runtime.cleanUp();
  for (const id of spawnedIds) runtime.run(['delete', '--force', id], { stdio: 'ignore' });
}

let counter = 0;
/** A container id no other test (or test run) uses. */
function newId(name: string): string {
  return `lf-${process.pid}-${counter++}-${name}`;
}

/**
 * Every ocits command gets this variable set to the id it works on. A
 * container's init process carries it until execve (it is cloned from ocits),
 * and so do hooks, so a leaked process is found even outside any cgroup.
 */
const MARK = 'OCITS_LIFECYCLE_FAILURES_TEST';

/**
 * stdout and stderr go to files, not pipes: a created container inherits
 * them and would hold a pipe open for as long as it lives.
 */
function outputFiles(): { out: string; err: string; fds: [number, number]; read(status: number | null): CliResult } {
  const dir = tempDir('ocits-output-');
  const out = path.join(dir, 'stdout');
  const err = path.join(dir, 'stderr');
  const fds: [number, number] = [fs.openSync(out, 'w'), fs.openSync(err, 'w')];
  return {
    out,
    err,
    fds,
    read: (status) => {
      for (const fd of fds) fs.closeSync(fd);
      return { status, stdout: fs.readFileSync(out, 'utf8'), stderr: fs.readFileSync(err, 'utf8') };
    },
  };
}

/** `ocits --root ROOT ...args`; the last argument is taken as the container id. */
function cli(args: string[]): CliResult {
  const files = outputFiles();
  const env = { ...process.env, [MARK]: args[args.length - 1] };
  const result = runtime.run(args, { stdio: ['ignore', files.fds[0], files.fds[1]], env });
  return files.read(result.status);
}

/** The same, as a child process that runs alongside others. */
function cliAsync(args: string[]): Promise<CliResult> {
  const id = args[args.length - 1];
  if (args[0] === 'create') spawnedIds.add(id);
  const files = outputFiles();
  const child = spawn(OCITS, ['--root', root, ...args], {
    stdio: ['ignore', files.fds[0], files.fds[1]],
    env: { ...process.env, [MARK]: id },
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(files.read(code)));
  });
}

/** Runs and expects success. */
function ok(args: string[]): string {
  const result = cli(args);
  if (result.status !== 0 || result.stderr !== '') {
    throw new Error(`ocits ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  }
  return result.stdout;
}

function state(id: string): Record<string, any> {
  return JSON.parse(ok(['state', id]));
}

/** Exit status 1 and exactly one line on stderr, which contains (or matches) this. */
function expectError(result: CliResult, expected: string | RegExp): void {
  expect(result.stderr).toMatch(/^ocits: [^\n]+\n$/);
  if (typeof expected === 'string') expect(result.stderr).toContain(expected);
  else expect(result.stderr).toMatch(expected);
  expect(result.status).toBe(1);
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until done(probe()) or 10 s have passed; returns the last value. */
async function waitFor<T>(probe: () => T, done: (value: T) => boolean, limitMs = 10_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = probe();
    if (done(value) || Date.now() > deadline) return value;
    await pause(20);
  }
}

async function waitForStatus(id: string, status: string): Promise<void> {
  expect(await waitFor(() => state(id).status, (s) => s === status)).toBe(status);
}

// Bundles this file made: a mount a failed create left on the host would be
// under one of them (or under the state root). Other test files run beside
// this one, and the engines they drive mount things of their own elsewhere.
const bundles: string[] = [];

function trackedBundle(change?: (config: Record<string, any>) => void): string {
  const made = busyboxBundle(change);
  bundles.push(made);
  return made;
}

/** The host's mounts at or below this file's bundles and state root. */
function mountinfo(): string[] {
  const ours = (mountPoint: string): boolean =>
    [root, ...bundles].some((dir) => mountPoint === dir || mountPoint.startsWith(`${dir}/`));
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((line) => line !== '' && ours(line.split(' ')[4]));
}

/** Where a cgroup for this id would be: where create puts it, and directly in every hierarchy. */
function cgroupDirs(id: string): string[] {
  const dirs = new Set(resolveContainerCgroup(detectCgroupHost(), undefined, id).dirs.map((d) => d.dir));
  for (const hierarchy of fs.readdirSync('/sys/fs/cgroup')) dirs.add(path.join('/sys/fs/cgroup', hierarchy, id));
  return [...dirs];
}

/** The container's cgroup in the pids hierarchy (or the first one). */
function procsFile(id: string): string {
  const dirs = resolveContainerCgroup(detectCgroupHost(), undefined, id).dirs;
  const dir = dirs.find((d) => d.controllers.includes('pids')) ?? dirs[0];
  return path.join(dir.dir, 'cgroup.procs');
}

function cgroupProcs(id: string): number[] {
  try {
    return fs.readFileSync(procsFile(id), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Host processes in a cgroup named after the id, or carrying the id's MARK. */
function processesOf(id: string): number[] {
  const inCgroup = (pid: number): boolean =>
    readOrEmpty(`/proc/${pid}/cgroup`)
      .split('\n')
      .some((line) => {
        const cgroup = line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
        return cgroup.endsWith(`/${id}`) || cgroup.includes(`/${id}/`);
      });
  return processesWhere((pid) => inCgroup(pid) || procFields(pid, 'environ').includes(`${MARK}=${id}`));
}

/** Everything of this container's that is still there. */
function leftovers(id: string, mountsBefore: string[]): string[] {
  const found: string[] = [];
  if (fs.existsSync(path.join(root, id))) found.push(`state directory ${path.join(root, id)}`);
  for (const dir of cgroupDirs(id)) if (fs.existsSync(dir)) found.push(`cgroup ${dir}`);
  for (const pid of processesOf(id)) found.push(`process ${pid}: ${readOrEmpty(`/proc/${pid}/cmdline`).replace(/\0/g, ' ')}`);
  const before = new Set(mountsBefore);
  for (const line of mountinfo()) if (!before.has(line)) found.push(`mount ${line}`);
  return found;
}

/** A process that has just been killed may take a moment to be reaped, so this polls. */
async function expectNothingLeft(id: string, mountsBefore: string[]): Promise<void> {
  expect(await waitFor(() => leftovers(id, mountsBefore), (found) => found.length === 0)).toStrictEqual([]);
}

/** An executable shell script on the host. */
function script(body: string): string {
  const file = path.join(tempDir('ocits-script-'), 'hook.sh');
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

/** A poststop hook that leaves a marker file on the host. */
function poststopMarker(): { hook: { path: string }; file: string } {
  const file = path.join(tempDir('ocits-poststop-'), 'ran');
  return { hook: { path: script(`cat > ${file}`) }, file };
}

/** A host directory bind-mounted read-write at /out in the container. */
function withOut(config: Record<string, any>, dir: string): void {
  config.mounts.push({ destination: '/out', type: 'bind', source: dir, options: ['rbind', 'rw'] });
}

function sleeper(change: (config: Record<string, any>) => void = () => {}): string {
  return trackedBundle((config) => {
    config.process.args = ['sleep', '1000'];
    change(config);
  });
}

/** Creates a container that sleeps and returns its id. */
function created(name: string, change?: (config: Record<string, any>) => void): string {
  const id = newId(name);
  ok(['create', '--bundle', sleeper(change), id]);
  return id;
}

function running(name: string, change?: (config: Record<string, any>) => void): string {
  const id = created(name, change);
  ok(['start', id]);
  return id;
}

/**
 * A create that must fail with this message (or the one computed from the
 * bundle's final config.json) and leave nothing behind; returns the poststop
 * marker file, which the bundle's poststop hook writes.
 */
async function failedCreate(
  name: string,
  change: (config: Record<string, any>) => void,
  expected: string | RegExp | ((config: Record<string, any>) => string | RegExp),
): Promise<string> {
  const id = newId(name);
  const poststop = poststopMarker();
  const bundle = trackedBundle((config) => {
    config.process.args = ['sleep', '1000'];
    config.hooks = { poststop: [poststop.hook] };
    change(config);
  });
  const mounts = mountinfo();
  if (typeof expected === 'function') {
    const config = readOrEmpty(path.join(bundle, 'config.json'));
    expected = expected(JSON.parse(config));
  }
  expectError(cli(['create', '--bundle', bundle, id]), expected);
  await expectNothingLeft(id, mounts);
  return poststop.file;
}

describe('lifecycle failures', () => {
  afterAll(cleanUp);

  describe('a failed create leaves nothing behind', () => {
    it('when root.path does not exist', async () => {
      await failedCreate('rootpath', (config) => (config.root.path = 'nosuch'), /\/root\/path: \S*\/nosuch does not exist$/m);
    });

    it('when process.args[0] is not in the rootfs, with runc\'s message', async () => {
      const marker = await failedCreate(
        'noexec',
        (config) => (config.process.args = ['nosuch']),
        'exec: "nosuch": executable file not found in $PATH',
      );
      // The init process had been started: the lifecycle continues with poststop.
      expect(fs.existsSync(marker)).toBe(true);
    });

    it('when a createRuntime hook fails, naming the hook and quoting its stderr', async () => {
      const hook = script('echo "createRuntime says no" >&2; exit 3');
      const marker = await failedCreate(
        'createruntime',
        (config) => (config.hooks.createRuntime = [{ path: hook }]),
        `createRuntime hook #0 (${hook}) failed: exit status 3: createRuntime says no\n`,
      );
      expect(fs.existsSync(marker)).toBe(true);
    });

    it('when a prestart hook fails', async () => {
      const hook = script('echo "prestart says no" >&2; exit 3');
      const marker = await failedCreate(
        'prestart',
        (config) => (config.hooks.prestart = [{ path: process.execPath, args: ['node', '-e', 'process.exit(0)'] }, { path: hook }]),
        `prestart hook #1 (${hook}) failed: exit status 3: prestart says no\n`,
      );
      expect(fs.existsSync(marker)).toBe(true);
    });

    it('when a createContainer hook fails, and the poststop hook still runs', async () => {
      // createContainer hooks run in the container's mount namespace before
      // pivot_root, where host paths still resolve.
      const marker = await failedCreate(
        'createcontainer-false',
        (config) => (config.hooks.createContainer = [{ path: '/bin/false' }]),
        /^ocits: container init failed: createContainer hook #0 \(\/bin\/false\) failed: exit status 1\n$/,
      );
      expect(fs.existsSync(marker)).toBe(true);
      const state = JSON.parse(fs.readFileSync(marker, 'utf8'));
      expect(state).toMatchObject({ status: 'stopped' });
      expect(state.id).toMatch(/createcontainer-false$/);
    });

    it('when a createContainer hook fails writing lines to stderr, still with one line', async () => {
      const hook = script('echo "first line" >&2; echo "no container for you" >&2; exit 3');
      const marker = await failedCreate(
        'createcontainer-stderr',
        (config) => (config.hooks.createContainer = [{ path: hook }]),
        `createContainer hook #0 (${hook}) failed: exit status 3: first line; no container for you\n`,
      );
      expect(fs.existsSync(marker)).toBe(true);
    });

    it('when a createContainer hook cannot be executed or is killed, in the words used for runtime hooks', async () => {
      const missing = path.join(tempDir(), 'no-such-hook');
      await failedCreate(
        'createcontainer-missing',
        (config) => (config.hooks.createContainer = [{ path: missing }]),
        `createContainer hook #0 (${missing}) failed: cannot execute it: no such file or directory\n`,
      );
      const hook = script('kill -TERM $$');
      await failedCreate(
        'createcontainer-killed',
        (config) => (config.hooks.createContainer = [{ path: hook }]),
        `createContainer hook #0 (${hook}) failed: killed by SIGTERM\n`,
      );
    });

    it('when a createContainer hook fails after writing many lines, quoting the last three as for runtime hooks', async () => {
      const hook = script('for i in 1 2 3 4; do echo "line $i" >&2; done; echo >&2; exit 3');
      await failedCreate(
        'createcontainer-lines',
        (config) => (config.hooks.createContainer = [{ path: hook }]),
        `createContainer hook #0 (${hook}) failed: exit status 3: line 2; line 3; line 4\n`,
      );
      // More than the init keeps (2 KiB): the end is quoted all the same.
      const chatty = script('for i in $(seq 1 200); do echo "line $i of a hook that has a lot to say"; done; exit 3');
      await failedCreate(
        'createcontainer-chatty',
        (config) => (config.hooks.createContainer = [{ path: chatty }]),
        `createContainer hook #0 (${chatty}) failed: exit status 3: line 198 of a hook that has a lot to say; ` +
          'line 199 of a hook that has a lot to say; line 200 of a hook that has a lot to say\n',
      );
    });

    it('when a bind mount\'s source does not exist, naming the mount', async () => {
      const missing = path.join(tempDir(), 'missing');
      await failedCreate(
        'bindsource',
        (config) => config.mounts.push({ destination: '/mnt', type: 'bind', source: missing, options: ['bind'] }),
        (config) => `ocits: /mounts/${config.mounts.length - 1}/source: ${missing} does not exist\n`,
      );
    });

    it('when a mount of an unknown filesystem type fails in the init process, naming the mount', async () => {
      const marker = await failedCreate(
        'nosuchfs',
        (config) => config.mounts.push({ destination: '/mnt', type: 'nosuchfs', source: 'none' }),
        (config) => `ocits: container init failed: mount /mounts/${config.mounts.length - 1} (/mnt): no such device\n`,
      );
      expect(fs.existsSync(marker)).toBe(true);
    });

    it('when the config asks for a field ocits does not support', async () => {
      await failedCreate(
        'intelrdt',
        (config) => (config.linux.intelRdt = { closID: 'ocits' }),
        /^ocits: \/linux\/intelRdt: not supported by ocits yet\n$/,
      );
    });

    it('when config.json is not JSON', async () => {
      const id = newId('badjson');
      const bundle = trackedBundle();
      fs.writeFileSync(path.join(bundle, 'config.json'), '{\n  "ociVersion": "1.0.2",\n');
      const mounts = mountinfo();
      expectError(cli(['create', '--bundle', bundle, id]), /config\.json: invalid JSON/);
      await expectNothingLeft(id, mounts);
    });

    it('when config.json breaks the schema, naming the field', async () => {
      await failedCreate(
        'schema',
        (config) => (config.linux.namespaces[0].type = 'bogus'),
        /^ocits: invalid config\.json: \/linux\/namespaces\/0\/type: [^\n]*"bogus"\n$/,
      );
    });

    it('when config.json has several problems, still on one line', async () => {
      await failedCreate(
        'schema-many',
        (config) => {
          config.process.args = 'sh';
          config.linux.namespaces[0].type = 'bogus';
          delete config.ociVersion;
        },
        /^ocits: invalid config\.json: \/\S*: [^\n]*\(and \d+ more; see ocits validate\)\n$/,
      );
    });

    it.each([
      ['../x', '../x', 'invalid container id "../x"'],
      ['empty', '', 'container id cannot be empty'],
      ['a/b', 'a/b', 'invalid container id "a/b"'],
      ['.hidden', '.hidden', 'invalid container id ".hidden"'],
      ['1025 characters long', 'x'.repeat(1025), 'longer than 1024 characters'],
    ])('when the container id is %s, before touching anything', (_label, id, message) => {
      const poststop = poststopMarker();
      const bundle = sleeper((config) => (config.hooks = { poststop: [poststop.hook] }));
      const outside = path.join(root, '..', 'x');
      const existedOutside = fs.existsSync(outside);
      const entries = fs.readdirSync(root);
      const mounts = mountinfo();
      expectError(cli(['create', '--bundle', bundle, id]), message);
      expect(fs.readdirSync(root)).toStrictEqual(entries);
      expect(fs.existsSync(outside)).toBe(existedOutside);
      expect(fs.existsSync(poststop.file)).toBe(false);
      expect(mountinfo()).toStrictEqual(mounts);
    });

    it('when the id already exists, leaving the existing container untouched', async () => {
      const id = created('exists');
      const before = state(id);
      expect(before.status).toBe('created');
      const procs = cgroupProcs(id);
      expect(procs).toStrictEqual([before.pid]);

      // A different bundle: nothing of it may be used, its poststop hook included.
      const poststop = poststopMarker();
      const other = sleeper((config) => (config.hooks = { poststop: [poststop.hook] }));
      expectError(cli(['create', '--bundle', other, id]), /^ocits: container \S+ already exists\n$/);
      expect(state(id)).toStrictEqual(before);
      expect(cgroupProcs(id)).toStrictEqual(procs);
      expect(fs.existsSync(poststop.file)).toBe(false);

      ok(['start', id]);
      expect(state(id)).toMatchObject({ status: 'running', pid: before.pid });
      expectError(cli(['create', '--bundle', other, id]), 'already exists');
      expect(state(id)).toMatchObject({ status: 'running', pid: before.pid, bundle: before.bundle });
      expect(isAlive(before.pid)).toBe(true);
      expect(fs.existsSync(poststop.file)).toBe(false);

      const mounts = mountinfo();
      ok(['delete', '--force', id]);
      await expectNothingLeft(id, mounts);
    });
  });

  describe('commands in the wrong state', () => {
    it('start of a running container and of a stopped one fails clearly', async () => {
      const id = running('start-twice');
      expectError(cli(['start', id]), /^ocits: cannot start an already running container\n$/);
      expect(state(id).status).toBe('running');
      ok(['kill', id, 'KILL']);
      await waitForStatus(id, 'stopped');
      expectError(cli(['start', id]), /^ocits: cannot start a container that has stopped\n$/);
      ok(['delete', id]);
    });

    it('kill of a stopped container says "container not running"', async () => {
      const id = running('kill-stopped');
      ok(['kill', id, 'KILL']);
      await waitForStatus(id, 'stopped');
      expectError(cli(['kill', id]), 'container not running');
      expectError(cli(['kill', id, 'KILL']), 'container not running');
      ok(['delete', id]);
    });

    it('delete of an unknown id says "does not exist"', () => {
      const id = newId('unknown');
      expectError(cli(['delete', id]), `container ${id} does not exist`);
      // As runc ("ignore not exist"): engines' cleanup deletes by force whatever may be gone.
      expect(cli(['delete', '--force', id])).toMatchObject({ status: 0, stderr: '' });
      expectError(cli(['state', id]), 'does not exist');
      expectError(cli(['start', id]), 'does not exist');
      expectError(cli(['kill', id]), 'does not exist');
      expect(fs.existsSync(path.join(root, id))).toBe(false);
    });

    it('delete without --force refuses a running container and leaves it running', () => {
      const id = running('delete-running');
      const { pid } = state(id);
      expectError(cli(['delete', id]), /^ocits: cannot delete container \S+ that is not stopped: running\n$/);
      expect(state(id)).toMatchObject({ status: 'running', pid });
      expect(isAlive(pid)).toBe(true);
      expect(cgroupProcs(id)).toStrictEqual([pid]);
      ok(['delete', '--force', id]);
    });

    it('delete of a created container works without --force, as in runc', async () => {
      const id = created('delete-created');
      const { pid } = state(id);
      const mounts = mountinfo();
      ok(['delete', id]);
      expect(isAlive(pid)).toBe(false);
      await expectNothingLeft(id, mounts);
    });

    it('delete --force of a running container kills it and leaves nothing', async () => {
      const id = running('delete-force');
      const { pid } = state(id);
      const mounts = mountinfo();
      ok(['delete', '--force', id]);
      expect(isAlive(pid)).toBe(false);
      await expectNothingLeft(id, mounts);
      expectError(cli(['state', id]), 'does not exist');
    });
  });

  describe('hooks that fail after create', () => {
    it('a failing startContainer hook fails start; the container is stopped and delete cleans up', async () => {
      const poststop = poststopMarker();
      // startContainer hooks run in the container, after pivot_root: this is busybox's sh.
      const id = created('startcontainer', (config) => {
        config.hooks = {
          startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'echo "start hook refuses" >&2; exit 5'] }],
          poststop: [poststop.hook],
        };
      });
      const mounts = mountinfo();
      expectError(cli(['start', id]), /^ocits: startContainer hook #0 \(\/bin\/sh\) failed: exit status 5: start hook refuses\n$/);
      await waitForStatus(id, 'stopped');
      expectError(cli(['start', id]), 'cannot start a container that has stopped');
      ok(['delete', id]);
      expect(fs.existsSync(poststop.file)).toBe(true);
      await expectNothingLeft(id, mounts);
    });

    it('a failing poststart hook fails start and stops the container', async () => {
      const hook = script('echo "poststart says no" >&2; exit 4');
      const id = created('poststart', (config) => (config.hooks = { poststart: [{ path: hook }] }));
      const { pid } = state(id);
      const mounts = mountinfo();
      expectError(cli(['start', id]), `poststart hook #0 (${hook}) failed: exit status 4: poststart says no\n`);
      await waitForStatus(id, 'stopped');
      expect(await waitFor(() => isAlive(pid), (alive) => !alive)).toBe(false);
      ok(['delete', id]);
      await expectNothingLeft(id, mounts);
    });
  });

  describe('concurrent commands on one id', () => {
    it('of 6 parallel creates of one id exactly one succeeds; the others say "already exists"', async () => {
      const id = newId('parallel-create');
      const bundle = sleeper();
      const mounts = mountinfo();
      const results = await Promise.all(Array.from({ length: 6 }, () => cliAsync(['create', '--bundle', bundle, id])));
      const winners = results.filter((r) => r.status === 0);
      expect(winners).toHaveLength(1);
      expect(winners[0].stderr).toBe('');
      for (const loser of results.filter((r) => r.status !== 0)) expectError(loser, /^ocits: container \S+ already exists\n$/);

      const { status, pid } = state(id);
      expect(status).toBe('created');
      expect(cgroupProcs(id)).toStrictEqual([pid]);
      expect(processesOf(id)).toStrictEqual([pid]);
      ok(['start', id]);
      expect(processesOf(id)).toStrictEqual([pid]);
      ok(['delete', '--force', id]);
      await expectNothingLeft(id, mounts);
    });

    it('parallel kill and delete --force leave no corrupt state and nothing behind', async () => {
      const id = running('parallel-delete');
      const mounts = mountinfo();
      const commands = [
        ['kill', id, 'KILL'],
        ['delete', '--force', id],
        ['kill', id, 'KILL'],
        ['delete', '--force', id],
        ['kill', id],
        ['delete', '--force', id],
      ];
      const results = await Promise.all(commands.map((args) => cliAsync(args)));
      for (const result of results) {
        if (result.status === 0) expect(result.stderr).toBe('');
        else expectError(result, /^ocits: (container not running|container \S+ does not exist)\n$/);
      }
      // Every delete --force succeeds, as in runc: the first removes the
      // container, the others find it gone.
      expect(results.filter((r, i) => commands[i][0] === 'delete' && r.status === 0)).toHaveLength(3);
      expectError(cli(['state', id]), /^ocits: container \S+ does not exist\n$/);
      expect(fs.readdirSync(root).filter((name) => name.includes(id))).toStrictEqual([]);
      await expectNothingLeft(id, mounts);
    });
  });

  describe('kill', () => {
    it('sends SIGTERM by default', async () => {
      const out = tempDir('ocits-out-');
      const id = running('sigterm', (config) => {
        withOut(config, out);
        // As pid 1, sh gets only the signals it has a handler for.
        config.process.args = ['sh', '-c', 'trap "echo got TERM > /out/signal; exit 7" TERM; echo ready > /out/ready; while true; do sleep 0.1; done'];
      });
      expect(await waitFor(() => readOrEmpty(path.join(out, 'ready')), (text) => text !== '')).toBe('ready\n');
      ok(['kill', id]);
      await waitForStatus(id, 'stopped');
      expect(readOrEmpty(path.join(out, 'signal'))).toBe('got TERM\n');
      ok(['delete', id]);
    });

    it('takes signal numbers and names, with or without SIG, in any case', async () => {
      const out = tempDir('ocits-out-');
      const signals = path.join(out, 'signals');
      const id = running('signal-names', (config) => {
        withOut(config, out);
        config.process.args = [
          'sh',
          '-c',
          'for s in USR1 USR2 HUP INT; do trap "echo $s >> /out/signals" $s; done; echo ready > /out/ready; while true; do sleep 0.1; done',
        ];
      });
      expect(await waitFor(() => readOrEmpty(path.join(out, 'ready')), (text) => text !== '')).toBe('ready\n');
      const sent: Array<[string, string]> = [['10', 'USR1'], ['usr2', 'USR2'], ['SigHup', 'HUP'], ['SIGINT', 'INT']];
      let expected = '';
      for (const [argument, name] of sent) {
        ok(['kill', id, argument]);
        expected += `${name}\n`;
        expect(await waitFor(() => readOrEmpty(signals), (text) => text === expected)).toBe(expected);
      }
      expect(state(id).status).toBe('running');
      ok(['delete', '--force', id]);
    });

    it.each(['9', 'KILL', 'SIGKILL'])('kills with %s', async (signal) => {
      // Without traps, the shell as pid 1 survives everything but SIGKILL.
      const id = running(`kill-${signal}`, (config) => {
        config.process.args = ['sh', '-c', 'while true; do sleep 0.1; done'];
      });
      const { pid } = state(id);
      ok(['kill', id, signal]);
      await waitForStatus(id, 'stopped');
      expect(isAlive(pid)).toBe(false);
      ok(['delete', id]);
    });

    it('--all signals every process in the cgroup', async () => {
      // sleep as pid 1 has no handler for SIGTERM, so only the others die of it.
      const id = running('kill-all', (config) => {
        config.process.args = ['sh', '-c', 'sleep 1000 & sleep 1000 & exec sleep 1000'];
      });
      const { pid } = state(id);
      const procs = await waitFor(() => cgroupProcs(id), (pids) => pids.length === 3);
      expect(procs).toHaveLength(3);
      expect(procs).toContain(pid);
      const others = procs.filter((p) => p !== pid);
      // Wait until the shell has become sleep, so what we signal is settled.
      await waitFor(() => readOrEmpty(`/proc/${pid}/comm`), (comm) => comm === 'sleep\n');

      ok(['kill', '--all', id, 'TERM']);
      expect(await waitFor(() => others.filter(isAlive), (alive) => alive.length === 0)).toStrictEqual([]);
      expect(isAlive(pid)).toBe(true);
      expect(state(id).status).toBe('running');

      // And SIGKILL to all: nothing is left running.
      const mounts = mountinfo();
      ok(['kill', '--all', id, 'KILL']);
      await waitForStatus(id, 'stopped');
      expect(await waitFor(() => cgroupProcs(id), (pids) => pids.length === 0)).toStrictEqual([]);
      ok(['delete', id]);
      await expectNothingLeft(id, mounts);
    });

    it('refuses an unknown signal name and leaves the container running', () => {
      const id = running('unknown-signal');
      expectError(cli(['kill', id, 'FOO']), /^ocits: unknown signal "FOO"\n$/);
      expectError(cli(['kill', id, 'SIGFOO']), /^ocits: unknown signal "SIGFOO"\n$/);
      expect(state(id).status).toBe('running');
      ok(['delete', '--force', id]);
    });
  });
});
