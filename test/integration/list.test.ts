// `ocits list` prints what runc list prints, byte for byte, and one container
// with unreadable state does not stop it.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { rfc3339Nano } from '../../src/lifecycle/list';
import { readProcessStat } from '../../src/lifecycle/process-status';
import { EXEC_FIFO } from '../../src/lifecycle/state';
import { StateStore, type ContainerRecord } from '../../src/lifecycle/store';
import { ocits, type CliResult } from '../helpers/cli';
import { tempDir } from '../helpers/tmp';

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

/** The pid and start time a create would record for a fresh `sleep`. */
function liveProcess(): { pid: number; pidStartTime: number } {
  const child = spawn('sleep', ['300'], { stdio: 'ignore' });
  children.push(child);
  return { pid: child.pid!, pidStartTime: readProcessStat(child.pid!)!.startTime };
}

type Fields = Partial<ContainerRecord> & Pick<ContainerRecord, 'id'>;

function addContainer(store: StateStore, fields: Fields): void {
  store.claim(fields.id).release();
  store.write({
    ociVersion: '1.3.0', bundle: '/bundle', rootfs: '/bundle/rootfs',
    created: '2026-01-01T00:00:00Z', owner: 'root', ...fields,
  });
}

function list(root: string, ...args: string[]): CliResult {
  return ocits(['--root', root, 'list', ...args]);
}

/** Succeeds silently and returns stdout. */
function listOutput(root: string, ...args: string[]): string {
  const result = list(root, ...args);
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return result.stdout;
}

describe('ocits list', () => {
  const root = tempDir();
  const store = new StateStore(root);
  let running: number;
  let created: number;

  beforeAll(() => {
    const first = liveProcess();
    running = first.pid;
    addContainer(store, { id: 'a', bundle: '/b', rootfs: '/b/rootfs', created: '2026-01-02T03:04:05.120Z', ...first });
    addContainer(store, {
      id: 'a-much-longer-container-id-than-twelve',
      bundle: '/srv/bundles/a-rather-long-bundle-path',
      rootfs: '/srv/bundles/a-rather-long-bundle-path/rootfs',
      created: '2026-01-02T03:04:05.000Z',
      owner: 'alice',
    });
    const third = liveProcess();
    created = third.pid;
    addContainer(store, {
      id: 'c', bundle: '/c', rootfs: '/c/rootfs', created: '2026-01-02T03:04:05.123456789+02:00', owner: 'nobody',
      annotations: { z: '<1>', a: 'x&y' }, ...third,
    });
    fs.writeFileSync(path.join(store.containerDir('c'), EXEC_FIFO), '');
  });

  it('prints runc\'s table, columns as wide as their widest cell plus 3', () => {
    const pid = (n: number) => String(n).padEnd(12);
    expect(listOutput(root)).toBe(
      'ID                                       PID         STATUS      BUNDLE                                   CREATED                               OWNER\n' +
      `a                                        ${pid(running)}running     /b                                       2026-01-02T03:04:05.12Z               root\n` +
      'a-much-longer-container-id-than-twelve   0           stopped     /srv/bundles/a-rather-long-bundle-path   2026-01-02T03:04:05Z                  alice\n' +
      `c                                        ${pid(created)}created     /c                                       2026-01-02T03:04:05.123456789+02:00   nobody\n`,
    );
    expect(listOutput(root, '--format', 'table')).toBe(listOutput(root));
  });

  it('prints ids alone with -q, whatever the format', () => {
    const ids = 'a\na-much-longer-container-id-than-twelve\nc\n';
    expect(listOutput(root, '-q')).toBe(ids);
    expect(listOutput(root, '--quiet', '--format', 'json')).toBe(ids);
    expect(listOutput(root, '-q', '-f', 'xml')).toBe(ids);
  });

  it('prints runc\'s JSON: keys in its order, annotations sorted, HTML characters escaped', () => {
    const text = listOutput(root, '-f', 'json');
    expect(text.endsWith(']\n')).toBe(true);
    expect(text).toContain(
      `{"ociVersion":"1.3.0","id":"c","pid":${created},"status":"created","bundle":"/c","rootfs":"/c/rootfs",` +
      '"created":"2026-01-02T03:04:05.123456789+02:00","annotations":{"a":"x\\u0026y","z":"\\u003c1\\u003e"},"owner":"nobody"}',
    );
    expect(JSON.parse(text)).toStrictEqual([
      {
        ociVersion: '1.3.0', id: 'a', pid: running, status: 'running', bundle: '/b', rootfs: '/b/rootfs',
        created: '2026-01-02T03:04:05.12Z', owner: 'root',
      },
      {
        ociVersion: '1.3.0', id: 'a-much-longer-container-id-than-twelve', pid: 0, status: 'stopped',
        bundle: '/srv/bundles/a-rather-long-bundle-path', rootfs: '/srv/bundles/a-rather-long-bundle-path/rootfs',
        created: '2026-01-02T03:04:05Z', owner: 'alice',
      },
      {
        ociVersion: '1.3.0', id: 'c', pid: created, status: 'created', bundle: '/c', rootfs: '/c/rootfs',
        created: '2026-01-02T03:04:05.123456789+02:00', annotations: { a: 'x&y', z: '<1>' }, owner: 'nobody',
      },
    ]);
  });

  it('refuses an unknown format as runc does', () => {
    expect(list(root, '--format', 'yaml')).toStrictEqual({ status: 1, stdout: '', stderr: 'ocits: invalid format option\n' });
    expect(list(root, '--format', 'JSON').stderr).toBe('ocits: invalid format option\n');
  });
});

describe('ocits list with a root that holds no containers', () => {
  it('matches runc\'s layout when --root does not exist', () => {
    const root = path.join(tempDir(), 'not-made-yet');
    expect(listOutput(root)).toBe('ID          PID         STATUS      BUNDLE      CREATED     OWNER\n');
    expect(listOutput(root, '--format', 'json')).toBe('null\n');
    expect(listOutput(root, '-q')).toBe('');
    expect(fs.existsSync(root)).toBe(false);
  });

  it('pads short cells to 12 columns, as runc printed a stopped c1', () => {
    const root = tempDir();
    addContainer(new StateStore(root), {
      id: 'c1', bundle: '/tmp/rb/B', rootfs: '/tmp/rb/B/rootfs', created: '2026-11-22T05:38:10.668530575Z',
    });
    expect(listOutput(root)).toBe(
      'ID          PID         STATUS      BUNDLE      CREATED                          OWNER\n' +
      'c1          0           stopped     /tmp/rb/B   2026-11-22T05:38:10.668530575Z   root\n',
    );
  });
});

describe('ocits list with unreadable state', () => {
  it('leaves out a container whose state is not written yet, silently', () => {
    const root = tempDir();
    const store = new StateStore(root);
    addContainer(store, { id: 'good' });
    store.claim('half-made').release();
    expect(listOutput(root, '-q')).toBe('good\n');
  });

  it('leaves out a container with corrupt state, with a warning', () => {
    const root = tempDir();
    const store = new StateStore(root);
    addContainer(store, { id: 'bad' });
    addContainer(store, { id: 'good' });
    const file = path.join(store.containerDir('bad'), 'state.json');
    fs.writeFileSync(file, '{not json');
    expect(list(root, '-q')).toStrictEqual({
      status: 0,
      stdout: 'good\n',
      stderr: `ocits: warning: skipping container bad: state of container bad is corrupt: ${file} is not valid JSON\n`,
    });
  });

  it('fails with one line when --root cannot be read', () => {
    const root = path.join(tempDir(), 'a-file');
    fs.writeFileSync(root, '');
    const result = list(root);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^ocits: cannot list containers in .*a-file: ENOTDIR: not a directory, scandir '.*'\n$/);
  });
});

describe('rfc3339Nano', () => {
  it.each([
    ['2026-01-02T03:04:05.000Z', '2026-01-02T03:04:05Z'],
    ['2026-01-02T03:04:05.120Z', '2026-01-02T03:04:05.12Z'],
    ['2026-01-02T03:04:05.668530575Z', '2026-01-02T03:04:05.668530575Z'],
    ['2026-01-02T03:04:05.1234567891Z', '2026-01-02T03:04:05.123456789Z'],
    ['2026-01-02T03:04:05+00:00', '2026-01-02T03:04:05Z'],
    ['2026-01-02T03:04:05.5-07:00', '2026-01-02T03:04:05.5-07:00'],
    ['not a time', 'not a time'],
  ])('renders %s as Go does: %s', (stored, shown) => {
    expect(rfc3339Nano(stored)).toBe(shown);
  });
});
