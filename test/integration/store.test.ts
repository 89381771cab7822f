import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { buildSync } from 'esbuild';
import { checkContainerId } from '../../src/lifecycle/container-id';
import { StateStore, type ContainerRecord } from '../../src/lifecycle/store';
import { ocits, REPO } from '../helpers/cli';
import { checkoutTempDir, tempDir } from '../helpers/tmp';

function record(id: string): ContainerRecord {
  return {
    ociVersion: '1.3.0', id, bundle: '/b', rootfs: '/b/rootfs', created: '2026-01-01T00:00:00Z', owner: 'root',
  };
}

describe('container ids', () => {
  it.each(['a', 'abc-DEF_1.2', '0', 'x'.repeat(1024)])('accepts %s', (id) => {
    expect(() => checkContainerId(id)).not.toThrow();
  });

  it.each(['', '.hidden', '-dash', 'a/b', '..', 'a b', 'é', 'a\nb', 'x'.repeat(1025), '../../etc'])(
    'refuses %j',
    (id) => {
      expect(() => checkContainerId(id)).toThrow(/container id/);
    },
  );

  it('refuses a bad id before touching any file', () => {
    const root = path.join(tempDir(), 'root');
    const store = new StateStore(root);
    expect(() => store.claim('../escape')).toThrow(/invalid container id/);
    expect(() => store.lock('a/b')).toThrow(/invalid container id/);
    expect(fs.existsSync(root)).toBe(false);
    const result = ocits(['--root', root, 'state', '../escape']);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^ocits: invalid container id "\.\.\/escape"/);
    expect(fs.existsSync(root)).toBe(false);
  });
});

describe('StateStore', () => {
  it('claims an id once: the second claim fails with "already exists"', () => {
    const store = new StateStore(tempDir());
    const lock = store.claim('c1');
    expect(() => store.claim('c1')).toThrow('container c1 already exists');
    lock.release();
  });

  it('says clearly when the root cannot be a directory', () => {
    const root = path.join(tempDir(), 'a-file');
    fs.writeFileSync(root, '');
    expect(() => new StateStore(root).claim('c1')).toThrow(`cannot make the state directory ${root}: file already exists (EEXIST)`);
  });

  it('writes state.json atomically and reads it back', () => {
    const store = new StateStore(tempDir());
    store.claim('c1').release();
    store.write(record('c1'));
    expect(store.read('c1')).toEqual(record('c1'));
    // Only state.json remains: the temporary file was renamed over it.
    expect(fs.readdirSync(store.containerDir('c1'))).toEqual(['state.json']);
  });

  it('reports unknown ids with "does not exist"', () => {
    const store = new StateStore(tempDir());
    expect(() => store.read('nope')).toThrow('container nope does not exist');
    expect(() => store.lock('nope')).toThrow('container nope does not exist');
  });

  it('reports a corrupt state file clearly', () => {
    const store = new StateStore(tempDir());
    store.claim('c1').release();
    fs.writeFileSync(path.join(store.containerDir('c1'), 'state.json'), '{"id":');
    expect(() => store.read('c1')).toThrow(/state of container c1 is corrupt/);
  });

  it('lists ids sorted, and none for a missing root', () => {
    const store = new StateStore(tempDir());
    for (const id of ['b', 'a', 'c']) store.claim(id).release();
    expect(store.ids()).toEqual(['a', 'b', 'c']);
    expect(new StateStore('/nonexistent/root').ids()).toEqual([]);
  });

  it('removes a container and its lock follows: a later lock says it does not exist', () => {
    const store = new StateStore(tempDir());
    store.claim('c1').release();
    store.withLock('c1', () => store.remove('c1'));
    expect(() => store.lock('c1')).toThrow('does not exist');
  });
});

describe('links under the state directory are never followed', () => {
  /** A directory outside the root that looks like a container's: it must survive. */
  function victim(): string {
    const dir = tempDir('ocits-victim-');
    fs.writeFileSync(path.join(dir, 'state.json'), JSON.stringify(record('c1')));
    fs.writeFileSync(path.join(dir, 'precious'), 'keep me\n');
    return dir;
  }

  it.each(['delete --force', 'delete', 'state', 'kill', 'start'])(
    '`%s` refuses an entry that is a link to another directory, which keeps its files',
    (command) => {
      const root = tempDir();
      const target = victim();
      fs.symlinkSync(target, path.join(root, 'c1'));
      const result = ocits(['--root', root, ...command.split(' '), 'c1']);
      expect(result.stderr).toBe(`ocits: "${path.join(root, 'c1')}" is a symbolic link: ocits follows no link under its state directory\n`);
      expect(result.status).toBe(1);
      expect(fs.readdirSync(target).sort()).toEqual(['precious', 'state.json']);
    },
  );

  it('refuses a state.json that is a link', () => {
    const root = tempDir();
    const target = victim();
    fs.mkdirSync(path.join(root, 'c1'));
    fs.symlinkSync(path.join(target, 'state.json'), path.join(root, 'c1', 'state.json'));
    const result = ocits(['--root', root, 'delete', '--force', 'c1']);
    expect(result.stderr).toBe(`ocits: "${path.join(root, 'c1', 'state.json')}" is a symbolic link: ocits follows no link under its state directory\n`);
    expect(result.status).toBe(1);
    expect(fs.readdirSync(target).sort()).toEqual(['precious', 'state.json']);
  });

  it('removes only the files ocits makes, and says what it left', () => {
    const root = tempDir();
    const store = new StateStore(root);
    store.claim('c1').release();
    store.write(record('c1'));
    const dir = path.join(root, 'c1');
    fs.writeFileSync(path.join(dir, 'exec.fifo'), '');
    fs.writeFileSync(path.join(dir, 'foreign'), 'not ours\n');
    expect(() => store.remove('c1')).toThrow(`state directory "${dir}" holds files ocits did not make ("foreign"); left in place`);
    expect(fs.readdirSync(dir)).toEqual(['foreign']);
  });
});

describe('StateStore under concurrency', () => {
  const exec = promisify(execFile);
  let workers: string;

  /** Bundles test/helpers/<name>.ts so a plain `node` process can run it. */
  function bundleWorker(name: string): string {
    const outfile = path.join(workers, `${name}.js`);
    buildSync({
      entryPoints: [path.join(REPO, 'test', 'helpers', `${name}.ts`)],
      outfile,
      bundle: true,
      platform: 'node',
      logLevel: 'error',
    });
    return outfile;
  }

  let worker: string;
  let claimWorker: string;
  beforeAll(() => {
    workers = checkoutTempDir();
    worker = bundleWorker('store-worker');
    claimWorker = bundleWorker('claim-worker');
  });

  it('serialises writers: no increment is lost', async () => {
    const root = tempDir();
    const store = new StateStore(root);
    store.claim('c1').release();
    store.write(record('c1'));
    const processes = 6;
    const rounds = 40;
    await Promise.all(
      Array.from({ length: processes }, () => exec(process.execPath, [worker, root, 'c1', String(rounds)])),
    );
    expect(store.read('c1').annotations).toEqual({ count: String(processes * rounds) });
  });

  it('lets readers see only whole files while writers run', async () => {
    const root = tempDir();
    const store = new StateStore(root);
    store.claim('c1').release();
    store.write(record('c1'));
    const writers = Promise.all(Array.from({ length: 3 }, () => exec(process.execPath, [worker, root, 'c1', '60'])));
    let done = false;
    void writers.finally(() => (done = true));
    let reads = 0;
    while (!done) {
      expect(store.read('c1').id).toBe('c1'); // a torn file would not parse
      reads++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await writers;
    expect(reads).toBeGreaterThan(0);
  });

  it('lets exactly one of many racing claims win', async () => {
    const root = tempDir();
    const results = await Promise.all(
      Array.from({ length: 8 }, () => exec(process.execPath, [claimWorker, root, 'same']).then((r) => r.stdout)),
    );
    expect(results.filter((r) => r === 'won')).toHaveLength(1);
    expect(results.filter((r) => r === 'container same already exists')).toHaveLength(7);
  });
});
