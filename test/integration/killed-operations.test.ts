// A create or delete killed at any of its steps leaves a container that
// `delete --force` finishes: no state directory, no cgroup and no process
// remain, and the id can be created again. Each step is hit exactly: the
// command runs under strace, which sends it SIGKILL as it enters one system
// call on one path (strace -P ... -e inject=SYSCALL:signal=SIGKILL:when=N).
// Only the main thread is traced (no -f), where Node makes its synchronous
// calls, so an init that outlives the kill does not keep strace waiting.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { detectCgroupHost } from '../../src/cgroups/host';
import { Runtime, busyboxBundle, isAlive } from '../helpers/busybox';
import { OCITS } from '../helpers/cli';
import { removeTestCgroups, testCgroupName } from '../helpers/cgroups';

const runtime = new Runtime();
const cgroupNames: string[] = [];
const host = detectCgroupHost();
const hierarchies = host.hierarchies.filter((h) => h.root === '/');

const victims: Victim[] = [];

afterAll(() => {
  // Made through strace too, which the runtime does not see.
  for (const v of victims) runtime.run(['delete', '--force', v.id]);
  runtime.cleanUp();
  removeTestCgroups(cgroupNames.flatMap(cgroupDirs));
});

/** Where a container whose cgroupsPath is /NAME has its cgroup, in every hierarchy. */
function cgroupDirs(name: string): string[] {
  return hierarchies.map((h) => path.join(h.mountPoint, name));
}

/** The directory of the hierarchy holding the pids controller (v1) or the unified one. */
function pidsDir(name: string): string {
  const hierarchy = hierarchies.find((h) => h.fstype === 'cgroup' && h.controllers.includes('pids')) ?? hierarchies.find((h) => h.fstype === 'cgroup2')!;
  return path.join(hierarchy.mountPoint, name);
}

interface Victim {
  id: string;
  bundle: string;
  cgroup: string;
  stateDir: string;
}

let counter = 0;
function victim(): Victim {
  const cgroup = testCgroupName();
  cgroupNames.push(cgroup);
  const bundle = busyboxBundle((config) => {
    config.process.args = ['sleep', '1000'];
    config.linux.cgroupsPath = `/${cgroup}`;
  });
  const id = `k${process.pid}-${++counter}`;
  const made = { id, bundle, cgroup, stateDir: path.join(runtime.root, id) };
  victims.push(made);
  return made;
}

function strace(straceArgs: string[], args: string[]) {
  return spawnSync('strace', ['-qq', ...straceArgs, OCITS, '--root', runtime.root, ...args], { stdio: 'ignore' });
}

/**
 * Runs ocits, killed on entering the first of `syscalls` whose line in
 * strace's output holds `text` (with `skip`, the one after that many more).
 * A rehearsal (`rehearse`, the same operation on a twin) finds its ordinal.
 */
function killedAt(args: string[], syscalls: string, text: string, rehearse: () => void, skip = 0): void {
  const log = path.join(runtime.root, `strace-${++counter}.log`);
  const rehearsal = strace(['-o', log, '-e', `trace=${syscalls}`], args);
  expect(rehearsal.status).toBe(0);
  const lines = fs.readFileSync(log, 'utf8').split('\n').filter((line) => line !== '');
  fs.rmSync(log);
  const ordinals = lines.flatMap((line, i) => (line.includes(text) ? [i + 1] : []));
  expect(ordinals.length).toBeGreaterThan(skip);
  const when = ordinals[skip];
  rehearse();
  const result = strace(['-o', '/dev/null', '-e', `trace=${syscalls}`, '-e', `inject=${syscalls}:signal=SIGKILL:when=${when}`], args);
  // strace exits as its tracee did: killed by SIGKILL.
  expect(result.status === 137 || result.signal === 'SIGKILL').toBe(true);
}

/** The init the record names, if it is still alive. */
function recordedInit(v: Victim): number | undefined {
  try {
    const pid = JSON.parse(fs.readFileSync(path.join(v.stateDir, 'state.json'), 'utf8')).pid;
    return typeof pid === 'number' && isAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

function expectFinishedByForcedDelete(v: Victim): void {
  const init = recordedInit(v);
  const deleted = runtime.run(['delete', '--force', v.id]);
  expect(deleted.stderr).toBe('');
  expect(deleted.status).toBe(0);
  expect(fs.existsSync(v.stateDir)).toBe(false);
  expect(cgroupDirs(v.cgroup).filter((dir) => fs.existsSync(dir))).toEqual([]);
  if (init !== undefined) expect(isAlive(init)).toBe(false);
  // The id is free again.
  runtime.ok(['create', '--bundle', v.bundle, v.id]);
  runtime.ok(['delete', '--force', v.id]);
}

const RENAME = 'rename,renameat,renameat2';

describe('a create killed', () => {
  const killCreate = (v: Victim, syscalls: string, text: string, skip = 0) =>
    killedAt(['create', '--bundle', v.bundle, v.id], syscalls, text, () => runtime.ok(['delete', '--force', v.id]), skip);

  it('right after it made the state directory', () => {
    const v = victim();
    killCreate(v, 'openat', `"${v.stateDir}"`);
    expect(fs.readdirSync(v.stateDir)).toEqual([]);
    expectFinishedByForcedDelete(v);
  });

  it('while it makes the cgroup: recorded, partly made', () => {
    const v = victim();
    killCreate(v, 'mkdir', `"${pidsDir(v.cgroup)}"`);
    expectFinishedByForcedDelete(v);
  });

  it('after the cgroup, before the init', () => {
    const v = victim();
    killCreate(v, 'mknod,mknodat', 'exec.fifo');
    expect(cgroupDirs(v.cgroup).some((dir) => fs.existsSync(dir))).toBe(true);
    expectFinishedByForcedDelete(v);
  });

  it('with its init made but not yet on record', () => {
    const v = victim();
    // The second state write records the init.
    killCreate(v, RENAME, 'state.json', 1);
    expectFinishedByForcedDelete(v);
  });

  it('with its init ready and on record, which outlives the create', () => {
    const v = victim();
    // The third write says the container is created.
    killCreate(v, RENAME, 'state.json', 2);
    expect(recordedInit(v)).toBeDefined();
    expectFinishedByForcedDelete(v);
  });
});

describe('a delete killed', () => {
  function created(): Victim {
    const v = victim();
    runtime.ok(['create', '--bundle', v.bundle, v.id]);
    return v;
  }
  const killDelete = (v: Victim, syscalls: string, text: string) =>
    killedAt(['delete', '--force', v.id], syscalls, text, () => runtime.ok(['create', '--bundle', v.bundle, v.id]));

  it('while it removes the cgroup', () => {
    const v = created();
    killDelete(v, 'rmdir', `"${pidsDir(v.cgroup)}"`);
    expectFinishedByForcedDelete(v);
  });

  it('while it removes the state, state.json last', () => {
    const v = created();
    killDelete(v, 'unlink,unlinkat', `"${path.join(v.stateDir, 'state.json')}"`);
    expect(fs.readdirSync(v.stateDir)).toEqual(['state.json']);
    expectFinishedByForcedDelete(v);
  });

  it('before it removes the state directory', () => {
    const v = created();
    killDelete(v, 'rmdir', `"${v.stateDir}"`);
    expect(fs.readdirSync(v.stateDir)).toEqual([]);
    expectFinishedByForcedDelete(v);
  });
});

describe('as runc, for engines\' cleanup', () => {
  it('delete --force of an unknown id succeeds; delete says it does not exist', () => {
    expect(runtime.run(['delete', '--force', 'no-such-container'])).toMatchObject({ status: 0, stderr: '' });
    expect(runtime.run(['delete', 'no-such-container'])).toMatchObject({ status: 1, stderr: 'ocits: container no-such-container does not exist\n' });
  });

  it('delete without --force also removes a directory with no state, and still says it does not exist', () => {
    const dir = path.join(runtime.root, 'half-made');
    fs.mkdirSync(dir, { recursive: true });
    expect(runtime.run(['delete', 'half-made'])).toMatchObject({ status: 1, stderr: 'ocits: container half-made does not exist\n' });
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('kill --all of a stopped container succeeds, plain kill says it is not running', () => {
    const v = victim();
    runtime.ok(['run', '--detach', '--bundle', v.bundle, v.id]);
    runtime.ok(['kill', v.id, 'KILL']);
    for (let tries = 0; tries < 500 && runtime.state(v.id).status !== 'stopped'; tries++) spawnSync('sleep', ['0.01']);
    expect(runtime.state(v.id).status).toBe('stopped');
    expect(runtime.run(['kill', '--all', v.id, '0'])).toMatchObject({ status: 0, stderr: '' });
    expect(runtime.run(['kill', v.id, '0'])).toMatchObject({ status: 1, stderr: 'ocits: container not running\n' });
    runtime.ok(['delete', v.id]);
  });
});
