// A step's overlayfs upper directory read as layer entries, sorted by name,
// without following any symlink: its whiteouts (0:0 character devices)
// become .wh.NAME entries and its opaque directories a .wh..wh..opq entry;
// files linked to each other become hard links; xattrs are kept,
// overlayfs's own trusted.overlay.* excepted.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { OcitsError, errnoText } from '../errors';
import type { TarEntryType } from '../image/tar-parser';
import type { EntryContent, LayerEntry, LayerWriter } from './layer-writer';

const OVERLAY_XATTR_PREFIX = 'trusted.overlay.';
const OPAQUE_XATTR = 'trusted.overlay.opaque';

/** Extended attributes of every file under dir that has any, by absolute path. */
export function readXattrs(dir: string): Map<string, Map<string, Buffer>> {
  const result = spawnSync('getfattr', ['--recursive', '--physical', '--absolute-names', '--dump', '--match=-', '--encoding=base64', dir], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (result.error !== undefined) throw new OcitsError(`getfattr (package attr) is needed to read extended attributes: ${errnoText(result.error)}`);
  const byFile = new Map<string, Map<string, Buffer>>();
  let current: Map<string, Buffer> | undefined;
  for (const line of result.stdout.split('\n')) {
    if (line.startsWith('# file: ')) {
      current = new Map();
      byFile.set(unescapeDumpPath(line.slice('# file: '.length)), current);
      continue;
    }
    const equals = line.indexOf('=');
    if (current === undefined || equals <= 0) continue;
    const value = line.slice(equals + 1);
    current.set(line.slice(0, equals), value.startsWith('0s') ? Buffer.from(value.slice(2), 'base64') : Buffer.from(value.replace(/^"|"$/g, '')));
  }
  return byFile;
}

/** getfattr's escaping of names: \ooo for unusual bytes. */
function unescapeDumpPath(text: string): string {
  const bytes: number[] = [];
  const raw = Buffer.from(text, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0x5c && i + 3 < raw.length && /^[0-7]{3}$/.test(raw.subarray(i + 1, i + 4).toString('ascii'))) {
      bytes.push(parseInt(raw.subarray(i + 1, i + 4).toString('ascii'), 8));
      i += 3;
    } else {
      bytes.push(raw[i]);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Hard links: the first name of each inode in this layer. */
type LinkTable = Map<string, string>;

/**
 * Writes the entries of an overlayfs upper directory (not the directory
 * itself), sorted: its whiteouts as .wh. files, an opaque directory's
 * marker right after the directory.
 */
export async function writeUpperDirectory(upper: string, writer: LayerWriter, xattrs: Map<string, Map<string, Buffer>>, links: LinkTable = new Map(), relative = ''): Promise<void> {
  const dir = relative === '' ? upper : `${upper}/${relative}`;
  for (const name of fs.readdirSync(dir).sort(compareNames)) {
    const full = `${dir}/${name}`;
    const entryName = relative === '' ? name : `${relative}/${name}`;
    const status = fs.lstatSync(full);
    if (status.isCharacterDevice() && status.rdev === 0) {
      await writer.add({ name: whiteoutName(entryName), type: 'file', mode: 0, uid: 0, gid: 0, mtime: status.mtimeMs / 1000 });
      continue;
    }
    await writeEntry(full, entryName, status, writer, xattrs, links);
    if (status.isDirectory()) {
      if (xattrs.get(full)?.get(OPAQUE_XATTR)?.toString() === 'y') {
        await writer.add({ name: `${entryName}/.wh..wh..opq`, type: 'file', mode: 0, uid: 0, gid: 0, mtime: status.mtimeMs / 1000 });
      }
      await writeUpperDirectory(upper, writer, xattrs, links, entryName);
    }
  }
}

/** One file system object as a layer entry under the given name. */
async function writeEntry(full: string, name: string, status: fs.Stats, writer: LayerWriter, allXattrs: Map<string, Map<string, Buffer>>, links: LinkTable): Promise<void> {
  const type = entryType(status);
  if (type === undefined) return;
  const xattrs = new Map([...(allXattrs.get(full) ?? new Map<string, Buffer>())].filter(([key]) => !key.startsWith(OVERLAY_XATTR_PREFIX)));
  const entry: LayerEntry = {
    name,
    type,
    mode: status.mode & 0o7777,
    uid: status.uid,
    gid: status.gid,
    mtime: status.mtimeMs / 1000,
    ...(xattrs.size > 0 ? { xattrs } : {}),
  };
  let content: EntryContent | undefined;
  if (type === 'symlink') entry.linkname = fs.readlinkSync(full);
  if (type === 'char' || type === 'block') {
    entry.devmajor = Math.floor(status.rdev / 256) & 0xfff;
    entry.devminor = (status.rdev & 0xff) | ((status.rdev >> 12) & 0xfff00);
  }
  if (type === 'file') {
    const key = `${status.dev}:${status.ino}`;
    const first = status.nlink > 1 ? links.get(key) : undefined;
    if (first !== undefined) {
      entry.type = 'hardlink';
      entry.linkname = first;
    } else {
      if (status.nlink > 1) links.set(key, name);
      content = { file: full, size: status.size };
    }
  }
  await writer.add(entry, content);
}

function entryType(status: fs.Stats): TarEntryType | undefined {
  if (status.isFile()) return 'file';
  if (status.isDirectory()) return 'directory';
  if (status.isSymbolicLink()) return 'symlink';
  if (status.isFIFO()) return 'fifo';
  if (status.isCharacterDevice()) return 'char';
  if (status.isBlockDevice()) return 'block';
  // Sockets have no tar form: Docker leaves them out too.
  return undefined;
}

function whiteoutName(name: string): string {
  const slash = name.lastIndexOf('/');
  return `${name.slice(0, slash + 1)}.wh.${name.slice(slash + 1)}`;
}

/** Byte order of names, as Go sorts them, so a layer's bytes never depend on the locale. */
export function compareNames(a: string, b: string): number {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return Buffer.compare(x, y);
}
