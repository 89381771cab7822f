// Hand-made images for bundle tests: layers written entry by entry (so a
// test can make the hostile ones no archiver would), put into a store as an
// OCI image; and a snapshot of an unpacked tree to compare two of them.
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ImageStore } from '../../src/image/store';

export interface TarEntrySpec {
  name: string;
  type?: 'file' | 'dir' | 'symlink' | 'hardlink';
  content?: string;
  linkname?: string;
  mode?: number;
}

const TYPEFLAG = { file: '0', hardlink: '1', symlink: '2', dir: '5' } as const;

/** A ustar archive of these entries (names under 100 bytes). */
export function makeTar(entries: readonly TarEntrySpec[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const type = entry.type ?? 'file';
    const data = Buffer.from(type === 'file' ? (entry.content ?? '') : '');
    const header = Buffer.alloc(512);
    header.write(entry.name, 0, 100, 'utf8');
    header.write(`${(entry.mode ?? (type === 'dir' ? 0o755 : 0o644)).toString(8).padStart(7, '0')}\0`, 100);
    header.write('0000000\0', 108);
    header.write('0000000\0', 116);
    header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
    header.write(`${Math.floor(Date.now() / 1000).toString(8).padStart(11, '0')}\0`, 136);
    header.write(TYPEFLAG[type], 156);
    header.write(entry.linkname ?? '', 157, 100, 'utf8');
    header.write('ustar\x0000', 257, 'latin1');
    header.fill(0x20, 148, 156);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

const sha256 = (data: Buffer) => `sha256:${crypto.createHash('sha256').update(data).digest('hex')}`;

/** Stores an image of uncompressed layers under name; returns the layer digests. */
export function storeImage(store: ImageStore, name: string, layers: readonly Buffer[], config: Record<string, unknown> = {}): string[] {
  const digests = layers.map((layer) => store.putBlob(layer));
  const configData = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', config, rootfs: { type: 'layers', diff_ids: layers.map(sha256) } }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: store.putBlob(configData), size: configData.length },
      layers: layers.map((layer, i) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: digests[i], size: layer.length })),
    }),
  );
  store.setReference(name, { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: store.putBlob(manifest), size: manifest.length });
  return digests;
}

export interface TreeEntry {
  type: string;
  mode: string;
  uid: number;
  gid: number;
  size?: number;
  target?: string;
  sha256?: string;
  xattrs?: Record<string, string>;
}

/** Every path under root with what the equivalence tests compare: type, mode, owner, size, link target, content hash, xattrs. */
export function snapshotTree(root: string): Map<string, TreeEntry> {
  const entries = new Map<string, TreeEntry>();
  const walk = (rel: string): void => {
    const full = rel === '' ? root : path.join(root, rel);
    const status = fs.lstatSync(full);
    const type = status.isFile() ? 'file' : status.isDirectory() ? 'dir' : status.isSymbolicLink() ? 'symlink' : status.isFIFO() ? 'fifo' : status.isCharacterDevice() ? `char ${status.rdev}` : status.isBlockDevice() ? `block ${status.rdev}` : 'other';
    const entry: TreeEntry = { type, mode: (status.mode & 0o7777).toString(8), uid: status.uid, gid: status.gid };
    if (status.isFile()) {
      entry.size = status.size;
      entry.sha256 = crypto.createHash('sha256').update(fs.readFileSync(full)).digest('hex');
    }
    if (status.isSymbolicLink()) entry.target = fs.readlinkSync(full);
    entries.set(`/${rel}`, entry);
    if (status.isDirectory()) for (const child of fs.readdirSync(full).sort()) walk(rel === '' ? child : `${rel}/${child}`);
  };
  walk('');
  // One getfattr for the whole tree: Node has no xattr calls.
  const dump = spawnSync('getfattr', ['-R', '-P', '-h', '-d', '-m', '-', '-e', 'base64', '--absolute-names', root], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  let current: TreeEntry | undefined;
  for (const line of dump.stdout.split('\n')) {
    const file = /^# file: (.*)$/.exec(line);
    if (file !== null) {
      const rel = unescapeGetfattr(file[1]).slice(root.length) || '/';
      current = entries.get(rel);
      continue;
    }
    const attribute = /^([^=]+)=(.*)$/.exec(line);
    if (attribute !== null && current !== undefined) current.xattrs = { ...current.xattrs, [attribute[1]]: attribute[2] };
  }
  return entries;
}

function unescapeGetfattr(text: string): string {
  return Buffer.from(text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))), 'latin1').toString('utf8');
}
