// A layer blob written as image-spec layer.md asks: a tar stream (POSIX
// ustar, with pax records for long names, large ids and sizes, and
// extended attributes), compressed with gzip (zlib) or zstd (the zstd
// program), its uncompressed digest (the diff_id) and compressed digest
// computed on the way. Headers carry no user or group names and no access
// times, so the same entries always give the same bytes.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import type { Writable } from 'node:stream';
import * as zlib from 'node:zlib';
import { OcitsError, errnoText } from '../errors';
import { Digester } from '../image/digest';
import { OCI_LAYER, OCI_LAYER_GZIP, OCI_LAYER_ZSTD, type Compression } from '../image/media-types';
import type { TarEntryType } from '../image/tar-parser';

export interface LayerEntry {
  /** Relative to the layer's root, no leading slash; directories without a trailing one. */
  name: string;
  type: TarEntryType;
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch. */
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Map<string, Buffer>;
}

/** A file's content comes from a file on disk (read as it is copied) or from memory. */
export type EntryContent = { file: string; size: number } | Buffer;

export interface WrittenLayer {
  mediaType: string;
  /** The compressed blob's digest and size. */
  digest: string;
  size: number;
  /** The uncompressed tar's digest. */
  diffId: string;
}

const BLOCK = 512;
const READ_CHUNK = 1024 * 1024;
const TYPE_FLAGS: Record<TarEntryType, string> = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', directory: '5', fifo: '6' };
const MAX_OCTAL_ID = 0o7777777;
const MAX_OCTAL_SIZE = 0o77777777777;

export const MEDIA_TYPES: Record<Compression, string> = { gzip: OCI_LAYER_GZIP, zstd: OCI_LAYER_ZSTD, none: OCI_LAYER };

export class LayerWriter {
  private readonly diffId = new Digester();
  private readonly out: Writable;
  private readonly done: Promise<void>;
  private readonly zstd: ChildProcess | undefined;

  /** Writes the compressed layer to file (created, must not exist). */
  constructor(
    private readonly file: string,
    private readonly compression: Compression,
    /** SOURCE_DATE_EPOCH: no entry is newer than this. */
    private readonly clampMtime?: number,
  ) {
    if (compression === 'zstd') {
      const fd = fs.openSync(file, 'wx', 0o600);
      try {
        this.zstd = spawn('zstd', ['-q', '-c', '-3', '-T0', '--no-progress'], { stdio: ['pipe', fd, 'pipe'] });
      } finally {
        fs.closeSync(fd);
      }
      const zstd = this.zstd;
      let stderr = '';
      zstd.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      this.out = zstd.stdin!;
      this.out.on('error', () => undefined);
      this.done = new Promise((resolve, reject) => {
        zstd.on('error', (error) => reject(new OcitsError(`zstd layers need the zstd program (Debian package zstd): ${errnoText(error)}`)));
        zstd.on('close', (status) => (status === 0 ? resolve() : reject(new OcitsError(`zstd failed: ${stderr.trim() || `exit status ${status}`}`))));
      });
    } else {
      const target = fs.createWriteStream(file, { flags: 'wx', mode: 0o600 });
      const closed = new Promise<void>((resolve, reject) => {
        target.on('close', resolve);
        target.on('error', (error) => reject(new OcitsError(`cannot write the layer ${file}: ${errnoText(error)}`)));
      });
      if (compression === 'gzip') {
        const gzip = zlib.createGzip({ level: 6 });
        gzip.pipe(target);
        this.out = gzip;
      } else {
        this.out = target;
      }
      this.done = closed;
    }
    this.done.catch(() => undefined);
  }

  async add(entry: LayerEntry, content?: EntryContent): Promise<void> {
    const size = entry.type === 'file' ? (content === undefined ? 0 : Buffer.isBuffer(content) ? content.length : content.size) : 0;
    const mtime = this.clampMtime !== undefined ? Math.min(Math.floor(entry.mtime), this.clampMtime) : Math.floor(entry.mtime);
    await this.write(tarHeaders({ ...entry, mtime }, size));
    if (size === 0) return;
    if (Buffer.isBuffer(content)) await this.write(content);
    else await this.copyFile(content!.file, size, entry.name);
    if (size % BLOCK !== 0) await this.write(Buffer.alloc(BLOCK - (size % BLOCK)));
  }

  /** Ends the tar stream and the compression; the layer's digests and size. */
  async finish(): Promise<WrittenLayer> {
    await this.write(Buffer.alloc(BLOCK * 2));
    this.out.end();
    await this.done;
    // On disk before the store names it.
    const fd = fs.openSync(this.file, fs.constants.O_RDONLY);
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    const digest = await digestOfFile(this.file);
    return { mediaType: MEDIA_TYPES[this.compression], digest, size: fs.statSync(this.file).size, diffId: this.diffId.digest() };
  }

  /** Stops writing after a failure; the caller removes the file. */
  abort(): void {
    this.out.destroy();
    this.zstd?.kill('SIGKILL');
  }

  private async write(data: Buffer): Promise<void> {
    this.diffId.update(data);
    if (!this.out.write(data)) await once(this.out, 'drain');
  }

  private async copyFile(file: string, size: number, name: string): Promise<void> {
    const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try {
      let left = size;
      while (left > 0) {
        const chunk = Buffer.allocUnsafe(Math.min(READ_CHUNK, left));
        const read = fs.readSync(fd, chunk, 0, chunk.length, null);
        if (read === 0) throw new OcitsError(`${name} shrank while it was being copied`);
        await this.write(read === chunk.length ? chunk : chunk.subarray(0, read));
        left -= read;
      }
    } finally {
      fs.closeSync(fd);
    }
  }
}

async function digestOfFile(file: string): Promise<string> {
  const digester = new Digester();
  for await (const chunk of fs.createReadStream(file, { highWaterMark: READ_CHUNK })) digester.update(chunk as Buffer);
  return digester.digest();
}

/** The header blocks of one entry: a pax header first when ustar cannot hold a field. */
function tarHeaders(entry: LayerEntry, size: number): Buffer {
  const name = entry.type === 'directory' ? `${entry.name}/` : entry.name;
  const linkname = entry.linkname ?? '';
  const pax: Array<[string, string | Buffer]> = [];
  const ascii = (text: string) => /^[\x20-\x7e]*$/.test(text);
  if (Buffer.byteLength(name) > 100 || !ascii(name)) pax.push(['path', name]);
  if (Buffer.byteLength(linkname) > 100 || !ascii(linkname)) pax.push(['linkpath', linkname]);
  if (entry.uid > MAX_OCTAL_ID) pax.push(['uid', String(entry.uid)]);
  if (entry.gid > MAX_OCTAL_ID) pax.push(['gid', String(entry.gid)]);
  if (size > MAX_OCTAL_SIZE) pax.push(['size', String(size)]);
  for (const [key, value] of [...(entry.xattrs ?? new Map<string, Buffer>())].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) pax.push([`SCHILY.xattr.${key}`, value]);
  const blocks: Buffer[] = [];
  if (pax.length > 0) {
    const records = Buffer.concat(pax.map(([key, value]) => paxRecord(key, value)));
    blocks.push(ustarHeader({ name: 'PaxHeaders/' + shortName(name), type: 'x', mode: 0o644, uid: 0, gid: 0, mtime: entry.mtime, size: records.length }));
    blocks.push(records, Buffer.alloc((BLOCK - (records.length % BLOCK)) % BLOCK));
  }
  blocks.push(
    ustarHeader({
      name: shortName(name),
      type: TYPE_FLAGS[entry.type],
      mode: entry.mode & 0o7777,
      uid: Math.min(entry.uid, MAX_OCTAL_ID),
      gid: Math.min(entry.gid, MAX_OCTAL_ID),
      mtime: entry.mtime,
      size: Math.min(size, MAX_OCTAL_SIZE),
      linkname: shortName(linkname),
      devmajor: entry.devmajor ?? 0,
      devminor: entry.devminor ?? 0,
    }),
  );
  return Buffer.concat(blocks);
}

/** The ustar field's text when a pax record holds the real value: its first 100 bytes, whole characters. */
function shortName(text: string): string {
  let out = '';
  for (const ch of text) {
    if (Buffer.byteLength(out + ch) > 100) break;
    out += ch;
  }
  return out;
}

/** "LEN key=value\n", where LEN counts itself. */
function paxRecord(key: string, value: string | Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), Buffer.isBuffer(value) ? value : Buffer.from(value), Buffer.from('\n')]);
  let length = body.length + 1;
  while (String(length).length + body.length !== length) length = String(length).length + body.length;
  return Buffer.concat([Buffer.from(String(length)), body]);
}

interface UstarFields {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
}

function ustarHeader(fields: UstarFields): Buffer {
  const block = Buffer.alloc(BLOCK);
  const octal = (value: number, offset: number, length: number) => block.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length, 'ascii');
  block.write(fields.name, 0, 100, 'utf8');
  octal(fields.mode, 100, 8);
  octal(fields.uid, 108, 8);
  octal(fields.gid, 116, 8);
  octal(fields.size, 124, 12);
  octal(Math.max(0, fields.mtime), 136, 12);
  block.write(fields.type, 156, 1, 'ascii');
  block.write(fields.linkname ?? '', 157, 100, 'utf8');
  block.write('ustar\0', 257, 6, 'ascii');
  block.write('00', 263, 2, 'ascii');
  octal(fields.devmajor ?? 0, 329, 8);
  octal(fields.devminor ?? 0, 337, 8);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return block;
}
