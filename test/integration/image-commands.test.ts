// ocits images, inspect, tag, rmi and image prune on stores made by the test.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { digestOf } from '../../src/image/digest';
import { ImageStore } from '../../src/image/store';
import { ocits } from '../helpers/cli';
import { makeTar, storeImage } from '../helpers/image-fixtures';
import { ocitsAsync } from '../helpers/registry';
import { tempDir } from '../helpers/tmp';

const SHARED = makeTar([{ name: 'etc/', type: 'dir' }, { name: 'etc/os-release', content: 'ID=test\n' }]);
const ONLY_APP = makeTar([{ name: 'app', content: 'app\n' }]);

function twoImages(): { store: ImageStore; shared: string; onlyApp: string } {
  const store = new ImageStore(tempDir());
  const [shared] = storeImage(store, 'example.com/base:1', [SHARED], { Cmd: ['sh'] });
  const [, onlyApp] = storeImage(store, 'example.com/app:2', [SHARED, ONLY_APP], { Entrypoint: ['/app'] });
  return { store, shared, onlyApp };
}

const run = (store: ImageStore, args: string[]) => ocits([...args, '--store', store.root]);

describe('ocits images', () => {
  test('a table, JSON, or the names alone', () => {
    const { store } = twoImages();
    const table = run(store, ['images']);
    expect(table.status).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^REPOSITORY\s+TAG\s+DIGEST\s+CREATED\s+SIZE$/);
    expect(table.stdout).toMatch(/^example\.com\/base\s+1\s+sha256:[0-9a-f]{12}\s/m);
    const json = JSON.parse(run(store, ['images', '--format', 'json']).stdout);
    expect(json.map((image: { name: string }) => image.name)).toEqual(['example.com/base:1', 'example.com/app:2']);
    expect(json[1]).toMatchObject({ repository: 'example.com/app', tag: '2', mediaType: 'application/vnd.oci.image.manifest.v1+json' });
    expect(json[1].size).toBeGreaterThan(SHARED.length + ONLY_APP.length);
    expect(run(store, ['images', '-q']).stdout).toBe('example.com/base:1\nexample.com/app:2\n');
  });

  test('names other tools wrote (skopeo copy oci:DIR:deb) are shown as they are', () => {
    const { store } = twoImages();
    storeImage(store, 'deb', [SHARED]);
    const json = JSON.parse(run(store, ['images', '--format', 'json']).stdout);
    expect(json[2]).toMatchObject({ name: 'deb', repository: 'deb', tag: '<none>' });
    expect(run(store, ['inspect', 'deb']).status).toBe(0);
  });

  test('a store that does not exist lists nothing and is not made', () => {
    const root = path.join(tempDir(), 'none');
    expect(ocits(['images', '-q', '--store', root])).toMatchObject({ status: 0, stdout: '' });
    expect(fs.existsSync(root)).toBe(false);
  });

  test('OCITS_STORE names the store', () => {
    const { store } = twoImages();
    expect(ocits(['images', '-q'], { env: { ...process.env, OCITS_STORE: store.root } }).stdout).toBe('example.com/base:1\nexample.com/app:2\n');
  });

  test('a bad --format is refused', () => {
    expect(run(twoImages().store, ['images', '--format', 'xml']).stderr).toBe('ocits: invalid format "xml": table or json\n');
  });
});

describe('ocits inspect', () => {
  test('prints the manifest and the config', () => {
    const { store, onlyApp } = twoImages();
    const result = run(store, ['inspect', 'example.com/app:2']);
    expect(result.status).toBe(0);
    const document = JSON.parse(result.stdout);
    expect(document.name).toBe('example.com/app:2');
    expect(document.manifest.layers.map((l: { digest: string }) => l.digest)).toContain(onlyApp);
    expect(document.config.config).toEqual({ Entrypoint: ['/app'] });
  });

  test('an unknown image is named', () => {
    const result = run(twoImages().store, ['inspect', 'busybox']);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^ocits: image docker.io\/library\/busybox:latest is not in the store .*; pull it first\n$/);
  });
});

describe('ocits tag', () => {
  test('gives an image a second, normalized name', () => {
    const { store } = twoImages();
    expect(run(store, ['tag', 'example.com/base:1', 'mine']).status).toBe(0);
    const names = new Map(store.references().map((r) => [r.name, r.descriptor.digest]));
    expect(names.get('docker.io/library/mine:latest')).toBe(names.get('example.com/base:1'));
  });

  test('an unknown source or a malformed destination changes nothing', () => {
    const { store } = twoImages();
    const before = fs.readFileSync(path.join(store.root, 'index.json'), 'utf8');
    expect(run(store, ['tag', 'nothing', 'x']).stderr).toMatch(/^ocits: image docker.io\/library\/nothing:latest is not in the store/);
    expect(run(store, ['tag', 'example.com/base:1', 'Bad::name']).stderr).toMatch(/^ocits: invalid image reference "Bad::name"/);
    expect(fs.readFileSync(path.join(store.root, 'index.json'), 'utf8')).toBe(before);
  });
});

describe('ocits rmi', () => {
  test('removes the name and the blobs no other image uses', () => {
    const { store, shared, onlyApp } = twoImages();
    const result = run(store, ['rmi', 'example.com/app:2']);
    expect(result.stdout).toBe('untagged: example.com/app:2\n');
    expect(store.references().map((r) => r.name)).toEqual(['example.com/base:1']);
    expect(store.hasBlob(shared)).toBe(true);
    expect(store.hasBlob(onlyApp)).toBe(false);
  });

  test('one unknown name removes nothing', () => {
    const { store } = twoImages();
    const result = run(store, ['rmi', 'example.com/app:2', 'example.com/nothing']);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^ocits: image example.com\/nothing:latest is not in the store/);
    expect(store.references()).toHaveLength(2);
  });
});

describe('ocits image prune', () => {
  test('removes unreachable blobs and stale partial downloads, and keeps every image whole', async () => {
    const { store, shared, onlyApp } = twoImages();
    const stray = store.putBlob(Buffer.from('nobody uses this'));
    const partial = (await store.beginIngest(digestOf('half')))!;
    fs.writeSync(partial.fd, Buffer.from('ha'));
    store.abortIngest(partial, false);
    const result = run(store, ['image', 'prune']);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`${stray}\nfreed ${16 + 2} B\n`);
    expect([store.hasBlob(stray), store.hasBlob(shared), store.hasBlob(onlyApp)]).toEqual([false, true, true]);
    expect(fs.existsSync(partial.file)).toBe(false);
    expect(run(store, ['image', 'prune']).stdout).toBe('freed 0 B\n');
  });

  test('waits while a pull or bundle holds the store\'s blobs', async () => {
    const { store } = twoImages();
    const stray = store.putBlob(Buffer.from('a pull is about to name this'));
    const release = await store.holdBlobs();
    let finished = false;
    const prune = ocitsAsync(['image', 'prune', '--store', store.root]).then((result) => {
      finished = true;
      return result;
    });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(finished).toBe(false);
    expect(store.hasBlob(stray)).toBe(true);
    release();
    expect((await prune).stdout).toContain(stray);
  });

  test('only prune is an image subcommand', () => {
    expect(ocits(['image', 'ls']).stderr).toBe('ocits: unknown command "image ls"; the image command has: prune\n');
  });
});
