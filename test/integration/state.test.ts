// `state` derives the status from the live process: pid plus start time,
// so an exited container, a zombie or a reused pid all read as stopped.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readProcessStat } from '../../src/lifecycle/process-status';
import { EXEC_FIFO } from '../../src/lifecycle/state';
import { StateStore, type ContainerRecord } from '../../src/lifecycle/store';
import { ocits } from '../helpers/cli';
import { tempDir } from '../helpers/tmp';

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

function sleeper(): ChildProcess {
  const child = spawn('sleep', ['300'], { stdio: 'ignore' });
  children.push(child);
  return child;
}

/** The pid and start time a create would record for this process. */
function identity(pid: number): { pid: number; pidStartTime: number } {
  return { pid, pidStartTime: readProcessStat(pid)!.startTime };
}

function storeWith(fields: Partial<ContainerRecord>): { root: string; store: StateStore } {
  const root = tempDir();
  const store = new StateStore(root);
  store.claim('c1').release();
  store.write({
    ociVersion: '1.3.0', id: 'c1', bundle: '/bundle', rootfs: '/bundle/rootfs',
    created: '2026-01-01T00:00:00Z', owner: 'root', annotations: { a: 'b' }, ...fields,
  });
  return { root, store };
}

function state(root: string): Record<string, unknown> {
  const result = ocits(['--root', root, 'state', 'c1']);
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return JSON.parse(result.stdout);
}

describe('ocits state', () => {
  it('reports running for a live process, in runc\'s layout', () => {
    const child = sleeper();
    const { root } = storeWith(identity(child.pid!));
    expect(state(root)).toStrictEqual({
      ociVersion: '1.3.0', id: 'c1', pid: child.pid, status: 'running', bundle: '/bundle',
      rootfs: '/bundle/rootfs', created: '2026-01-01T00:00:00Z', owner: 'root', annotations: { a: 'b' },
    });
  });

  it('reports created while exec.fifo waits for start', () => {
    const child = sleeper();
    const { root, store } = storeWith(identity(child.pid!));
    fs.writeFileSync(path.join(store.containerDir('c1'), EXEC_FIFO), '');
    expect(state(root).status).toBe('created');
  });

  it('reports stopped with pid 0 once the process has exited', async () => {
    const child = sleeper();
    const { root } = storeWith(identity(child.pid!));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(state(root)).toMatchObject({ status: 'stopped', pid: 0 });
  });

  it('reports stopped for a zombie', async () => {
    // A child that exits while its parent (the shell) does not reap it.
    const shell = spawn('sh', ['-c', 'sleep 0.05 & exec sleep 300'], { stdio: 'ignore' });
    children.push(shell);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const zombie = fs.readFileSync(`/proc/${shell.pid}/task/${shell.pid}/children`, 'utf8').trim().split(' ').map(Number)[0];
    expect(readProcessStat(zombie)?.state).toBe('Z');
    const { root } = storeWith(identity(zombie));
    expect(state(root).status).toBe('stopped');
  });

  it('reports stopped when the pid now belongs to another process', () => {
    const child = sleeper();
    const live = identity(child.pid!);
    const { root } = storeWith({ ...live, pidStartTime: live.pidStartTime - 1 });
    expect(state(root)).toMatchObject({ status: 'stopped', pid: 0 });
  });

  it('reports creating while create has not finished', () => {
    const { root } = storeWith({ status: 'creating' });
    expect(state(root).status).toBe('creating');
  });

  it('fails with "does not exist" for an unknown id', () => {
    const result = ocits(['--root', tempDir(), 'state', 'nosuch']);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe('ocits: container nosuch does not exist\n');
  });
});

describe('readProcessStat', () => {
  it('parses a command name holding spaces and parentheses', () => {
    const dir = tempDir();
    const odd = path.join(dir, 'a) (b');
    fs.symlinkSync('/bin/sleep', odd);
    const child = spawn(odd, ['300'], { stdio: 'ignore' });
    children.push(child);
    const stat = readProcessStat(child.pid!);
    expect(stat?.state).toMatch(/^[RSD]$/);
    expect(stat?.startTime).toBeGreaterThan(0);
  });
});
