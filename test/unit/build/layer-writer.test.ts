import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { LayerWriter } from '../../../src/build/layer-writer';
import { digestOf } from '../../../src/image/digest';
import { TarParser, type TarHeader } from '../../../src/image/tar-parser';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocits-layer-writer-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function readBack(file: string): { entries: Array<TarHeader & { content: string }>; tar: Buffer } {
  const tar = zlib.gunzipSync(fs.readFileSync(file));
  const entries: Array<TarHeader & { content: string }> = [];
  const parser = new TarParser({
    entry: (header) => entries.push({ ...header, content: '' }),
    data: (chunk) => (entries[entries.length - 1].content += chunk.toString()),
    end: () => undefined,
  });
  parser.write(tar);
  parser.finish();
  return { entries, tar };
}

describe('layer blobs', () => {
  test('entries read back as written; digests are those of the bytes; long names and xattrs go through pax', async () => {
    const source = path.join(dir, 'source');
    fs.writeFileSync(source, 'from a file\n');
    const file = path.join(dir, 'one.tar.gz');
    const writer = new LayerWriter(file, 'gzip');
    const longName = `deep/${'n'.repeat(120)}/é.txt`;
    await writer.add({ name: 'deep', type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: 100 });
    await writer.add({ name: longName, type: 'file', mode: 0o4755, uid: 3000000, gid: 7, mtime: 200, xattrs: new Map([['user.k', Buffer.from('v')]]) }, Buffer.from('inline'));
    await writer.add({ name: 'copied', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 300 }, { file: source, size: 12 });
    await writer.add({ name: 'link', type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 1, linkname: 'copied' });
    await writer.add({ name: '.wh.gone', type: 'file', mode: 0, uid: 0, gid: 0, mtime: 1 });
    const written = await writer.finish();
    const { entries, tar } = readBack(file);
    expect(written.diffId).toBe(digestOf(tar));
    expect(written.digest).toBe(digestOf(fs.readFileSync(file)));
    expect(written.size).toBe(fs.statSync(file).size);
    expect(written.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
    expect(entries.map((e) => [e.name, e.type, e.mode, e.uid, e.gid, e.mtime, e.linkname, e.content])).toEqual([
      ['deep/', 'directory', 0o755, 0, 0, 100, '', ''],
      [longName, 'file', 0o4755, 3000000, 7, 200, '', 'inline'],
      ['copied', 'file', 0o644, 0, 0, 300, '', 'from a file\n'],
      ['link', 'symlink', 0o777, 0, 0, 1, 'copied', ''],
      ['.wh.gone', 'file', 0, 0, 0, 1, '', ''],
    ]);
    expect(entries[1].xattrs.get('user.k')?.toString()).toBe('v');
  });

  test('the same entries give the same bytes; SOURCE_DATE_EPOCH clamps times', async () => {
    const write = async (name: string) => {
      const writer = new LayerWriter(path.join(dir, name), 'gzip', 50);
      await writer.add({ name: 'f', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 1000 }, Buffer.from('x'));
      return writer.finish();
    };
    const a = await write('a.tgz');
    const b = await write('b.tgz');
    expect(a).toEqual(b);
    expect(readBack(path.join(dir, 'a.tgz')).entries[0].mtime).toBe(50);
  });

  test('a file that shrinks while it is copied is an error, not a short entry', async () => {
    const source = path.join(dir, 'short');
    fs.writeFileSync(source, 'abc');
    const writer = new LayerWriter(path.join(dir, 'short.tgz'), 'gzip');
    await expect(writer.add({ name: 'short', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0 }, { file: source, size: 10 })).rejects.toThrow('short shrank while it was being copied');
    writer.abort();
  });
});
