// The image store is an OCI layout whose blobs appear only once verified and
// whose index.json keeps every writer's entries.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { digestOf } from '../../src/image/digest';
import { ImageStore, defaultStoreDir } from '../../src/image/store';
import { tempDir } from '../helpers/tmp';

function descriptorOf(store: ImageStore, text: string) {
  const data = Buffer.from(text);
  return { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: store.putBlob(data), size: data.length };
}

describe('ImageStore', () => {
  test('the store directory: --store, then OCITS_STORE, then /var/lib/ocits/images for root', () => {
    const saved = process.env.OCITS_STORE;
    try {
      process.env.OCITS_STORE = '/tmp/from-env';
      expect(defaultStoreDir('/tmp/from-flag')).toBe('/tmp/from-flag');
      expect(defaultStoreDir()).toBe('/tmp/from-env');
      delete process.env.OCITS_STORE;
      if (process.geteuid?.() === 0) expect(defaultStoreDir()).toBe('/var/lib/ocits/images');
    } finally {
      if (saved === undefined) delete process.env.OCITS_STORE;
      else process.env.OCITS_STORE = saved;
    }
  });

  test('reading a store that was never made finds no reference and makes nothing', () => {
    const root = path.join(tempDir(), 'store');
    expect(new ImageStore(root).references()).toEqual([]);
    expect(fs.existsSync(root)).toBe(false);
  });

  test('writing makes an OCI layout; references are index.json entries named by ref.name', () => {
    const root = tempDir();
    const store = new ImageStore(root);
    const manifest = descriptorOf(store, '{"a":1}');
    store.setReference('docker.io/library/busybox:latest', manifest);
    expect(JSON.parse(fs.readFileSync(path.join(root, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(fs.readFileSync(path.join(root, 'index.json'), 'utf8'));
    expect(index.schemaVersion).toBe(2);
    expect(index.manifests).toEqual([
      { ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'docker.io/library/busybox:latest' } },
    ]);
    expect(fs.readFileSync(path.join(root, 'blobs', 'sha256', manifest.digest.slice(7)), 'utf8')).toBe('{"a":1}');
  });

  test('setReference replaces the entry of the same name and keeps the others', () => {
    const store = new ImageStore(tempDir());
    const one = descriptorOf(store, 'one');
    const two = descriptorOf(store, 'two');
    store.setReference('r/a:1', one);
    store.setReference('r/b:1', one);
    store.setReference('r/a:1', two);
    expect(store.references().map((r) => [r.name, r.descriptor.digest])).toEqual([
      ['r/b:1', one.digest],
      ['r/a:1', two.digest],
    ]);
    expect(store.removeReferences(['r/a:1', 'r/none:1'])).toEqual(['r/a:1']);
    expect(store.references().map((r) => r.name)).toEqual(['r/b:1']);
  });

  test('a reference to a blob the store lacks is refused', () => {
    const store = new ImageStore(tempDir());
    expect(() => store.setReference('r/a:1', { mediaType: 'x', digest: digestOf('absent'), size: 6 })).toThrow(/is not in the store/);
  });

  test('putBlob refuses content that does not match the expected digest', () => {
    const store = new ImageStore(tempDir());
    const expected = digestOf('right');
    expect(() => store.putBlob(Buffer.from('wrong'), expected)).toThrow(`blob ${expected}: content has digest ${digestOf('wrong')}`);
    expect(store.hasBlob(expected)).toBe(false);
    expect(store.listBlobs()).toEqual([]);
  });

  test('digests that are not hex of the right length never become paths', () => {
    const store = new ImageStore(tempDir());
    expect(() => store.blobPath('sha256:../../etc/passwd')).toThrow(/invalid digest/);
    expect(() => store.blobPath(`sha256:${'A'.repeat(64)}`)).toThrow(/invalid digest/);
    expect(() => store.blobPath(`md5:${'a'.repeat(32)}`)).toThrow(/invalid digest/);
  });

  test('a partial blob lives outside blobs/ until committed, and is resumed from where it stopped', async () => {
    const store = new ImageStore(tempDir());
    const content = Buffer.from('hello, layer');
    const digest = digestOf(content);
    const first = (await store.beginIngest(digest))!;
    expect(first.offset).toBe(0);
    fs.writeSync(first.fd, content.subarray(0, 5));
    store.abortIngest(first, false);
    expect(store.hasBlob(digest)).toBe(false);
    const second = (await store.beginIngest(digest))!;
    expect(second.offset).toBe(5);
    fs.writeSync(second.fd, content.subarray(5), 0, undefined, 5);
    store.commitIngest(second);
    expect(store.readBlob(digest)).toEqual(content);
    expect(await store.beginIngest(digest)).toBeUndefined();
  });

  test('a second writer of the same blob waits, then finds it complete', async () => {
    const store = new ImageStore(tempDir());
    const content = Buffer.from('shared layer');
    const digest = digestOf(content);
    const holder = (await store.beginIngest(digest))!;
    let waiterDone = false;
    const waiter = store.beginIngest(digest).then((ingest) => {
      waiterDone = true;
      return ingest;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(waiterDone).toBe(false);
    // Stale-partial cleanup leaves a partial that someone is writing alone.
    expect(store.removeStaleIngests()).toBe(0);
    fs.writeSync(holder.fd, content);
    store.commitIngest(holder);
    expect(await waiter).toBeUndefined();
  });

  test('removeStaleIngests removes partials no one writes', async () => {
    const store = new ImageStore(tempDir());
    const ingest = (await store.beginIngest(digestOf('abandoned')))!;
    fs.writeSync(ingest.fd, Buffer.from('aban'));
    store.abortIngest(ingest, false);
    expect(store.removeStaleIngests()).toBe(4);
    expect(fs.existsSync(ingest.file)).toBe(false);
  });
});
