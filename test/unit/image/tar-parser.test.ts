// The tar parser reads what GNU tar writes (pax and GNU formats, long names,
// xattrs, base-256 numbers) in chunks of any size, and refuses damage.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TarParser, type TarHeader } from '../../../src/image/tar-parser';
import { tempDir } from '../../helpers/tmp';

interface Parsed {
  header: TarHeader;
  content: string;
}

function parse(archive: Buffer, chunkSize: number): Parsed[] {
  const entries: Parsed[] = [];
  const parser = new TarParser({
    entry: (header) => entries.push({ header, content: '' }),
    data: (chunk) => (entries[entries.length - 1].content += chunk.toString()),
    end: () => undefined,
  });
  for (let offset = 0; offset < archive.length; offset += chunkSize) parser.write(archive.subarray(offset, offset + chunkSize));
  parser.finish();
  return entries;
}

function gnuTar(args: string[], cwd: string): Buffer {
  const result = spawnSync('tar', [...args, '-cf', '-', '.'], { cwd, maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(result.stderr.toString());
  return result.stdout;
}

describe('TarParser', () => {
  const longName = `${'d'.repeat(60)}/${'n'.repeat(120)}.txt`;
  let source: string;
  beforeAll(() => {
    source = tempDir();
    fs.mkdirSync(path.join(source, path.dirname(longName)), { recursive: true });
    fs.writeFileSync(path.join(source, longName), 'long\n');
    fs.writeFileSync(path.join(source, 'big'), Buffer.alloc(70_000, 'x'));
    fs.symlinkSync(longName, path.join(source, 'link'));
    fs.linkSync(path.join(source, 'big'), path.join(source, 'hard'));
    fs.utimesSync(path.join(source, 'big'), 981173106, 981173106);
  });

  test.each([
    ['pax', ['--format=pax', '--pax-option=SCHILY.xattr.user.test:=hello']],
    ['gnu', ['--format=gnu']],
  ])('reads GNU tar %s archives in chunks of any size', (_format, args) => {
    const archive = gnuTar([...args, '--sort=name', '--numeric-owner', '--owner=3000000', '--group=7'], source);
    for (const chunkSize of [1, 511, 512, 4096, archive.length]) {
      const entries = parse(archive, chunkSize);
      const byName = new Map(entries.map((e) => [e.header.name.replace(/^\.\//, ''), e]));
      expect(byName.get(longName)?.content).toBe('long\n');
      expect(byName.get('link')?.header).toMatchObject({ type: 'symlink', linkname: longName });
      expect(byName.get('big')?.content).toBe('x'.repeat(70_000));
      expect(byName.get('big')?.header).toMatchObject({ type: 'file', uid: 3_000_000, gid: 7, mtime: 981173106, size: 70_000 });
      expect(byName.get('hard')?.header).toMatchObject({ type: 'hardlink', linkname: './big' });
      if (_format === 'pax') expect(byName.get('big')?.header.xattrs.get('user.test')?.toString()).toBe('hello');
    }
  });

  test('a damaged header is refused', () => {
    const archive = Buffer.from(gnuTar(['--format=pax'], source));
    archive[10] ^= 0xff; // inside the first header's name field
    expect(() => parse(archive, 4096)).toThrow(/invalid tar header checksum/);
  });

  test('a stream that ends inside an entry is refused', () => {
    const archive = gnuTar(['--format=gnu', '--sort=name'], source);
    expect(() => parse(archive.subarray(0, 2048 + 100), 4096)).toThrow(/tar stream ends inside entry/);
  });

  test('an unsupported entry type is named', () => {
    const header = Buffer.alloc(512);
    header.write('sparse-file', 0);
    header.write('0000644\0', 100);
    header.write('00000000000\0', 124);
    header.write('S', 156);
    header.fill(0x20, 148, 156);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    expect(() => parse(Buffer.concat([header, Buffer.alloc(1024)]), 512)).toThrow(`entry "sparse-file": unsupported tar entry type 'S'`);
  });
});
