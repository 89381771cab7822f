// Applies layer tar entries to a root filesystem as image-spec layer.md
// says: whiteouts (.wh.NAME) and opaque directories (.wh..wh..opq) hide
// what lower layers made, and each entry replaces what its path holds,
// except that a directory entry keeps an existing directory.
//
// Layers are hostile. An entry's path is resolved inside the rootfs one
// component at a time with lstat and is refused if any component is a
// symlink or not a directory, so no entry writes through a symlink, whether
// a lower layer's (Debian's bin -> usr/bin) or a hostile one's; names that
// are absolute or contain "..", and hard links to such names, are refused.
// Nothing else writes in the rootfs while we extract, so the lstat walk
// cannot be raced. Files are created with O_EXCL|O_NOFOLLOW all the same.
//
// Everything is synchronous: one tight loop per layer, fed by the tar parser.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { addon } from '../addon';
import { OcitsError, errnoText } from '../errors';
import { lstatOrUndefined } from '../file-status';
import type { TarHandler, TarHeader } from './tar-parser';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';
const S_ISGID = 0o2000;

export interface RootfsWriterOptions {
  /** Unprivileged extraction: files keep the caller's ownership, device nodes become empty files, security.* xattrs are skipped. */
  rootless: boolean;
}

/** Whether a later layer removes or replaces what an entry at rel would make (layer-shadows.ts). */
export type HiddenByLaterLayer = (rel: string, isDirectory: boolean) => boolean;

/** Thrown when a hard link names an entry that was skipped as hidden: unpack again without skipping. */
export class SkippedLinkTarget extends OcitsError {
  constructor(target: string) {
    super(`hard link target "${target}" was skipped as removed by a later layer`);
  }
}

interface PendingXattr {
  file: string;
  name: string;
  value: Buffer;
}

export class RootfsWriter implements TarHandler {
  /** Relative paths known to be real directories ("" is the rootfs). */
  private readonly knownDirs = new Set<string>(['']);
  /** Paths the current layer made: its whiteouts and opaque markers leave them alone. */
  private createdInLayer = new Set<string>();
  /** Directory metadata, applied at the end of the layer, once their children are in place. */
  private directories = new Map<string, TarHeader>();
  private xattrs: PendingXattr[] = [];
  /** What the current layer skips, and the paths it skipped (a hard link may name one). */
  private hidden: HiddenByLaterLayer | undefined;
  private readonly skipped = new Set<string>();
  /** Directories with the setgid bit: files made in them take the directory's group, not ours. */
  private readonly setgidDirs = new Set<string>();
  private file: { fd: number; header: TarHeader; target: string; parent: string } | undefined;
  private entryName = '';
  // Most entries belong to root with plain modes: a file created by us
  // already has them, and skipping fchown and fchmod saves two system calls
  // per file on the hot path.
  private readonly uid = process.geteuid?.() ?? 0;
  private readonly gid = process.getegid?.() ?? 0;
  private readonly umask: number;

  constructor(
    readonly root: string,
    private readonly options: RootfsWriterOptions,
  ) {
    this.umask = process.umask(0);
    process.umask(this.umask);
  }

  /** hidden: entries of this layer not to write, since a later layer removes them. */
  beginLayer(hidden?: HiddenByLaterLayer): void {
    this.hidden = hidden;
    this.createdInLayer = new Set();
    this.directories = new Map();
    this.xattrs = [];
  }

  /** The entry being applied, for errors. */
  get currentEntry(): string {
    return this.entryName;
  }

  entry(header: TarHeader): void {
    this.entryName = header.name;
    const rel = relativePath(header.name);
    if (rel !== '' && this.hidden?.(rel, header.type === 'directory') === true) {
      this.skipped.add(rel);
      return;
    }
    const base = rel.slice(rel.lastIndexOf('/') + 1);
    if (base.startsWith(WHITEOUT_PREFIX)) {
      this.whiteout(rel, base);
      return;
    }
    if (rel === '') {
      if (header.type !== 'directory') throw new OcitsError(`a ${header.type} cannot replace the root directory`);
      this.directories.set('', header);
      return;
    }
    this.ensureParent(rel, true);
    const target = this.full(rel);
    const existing = lstatOrUndefined(target);
    if (existing !== undefined && !(existing.isDirectory() && header.type === 'directory')) this.remove(rel, existing);
    this.createdInLayer.add(rel);
    switch (header.type) {
      case 'directory':
        if (existing === undefined || !existing.isDirectory()) fs.mkdirSync(target, 0o700);
        else if (existing.mode & S_ISGID) this.setgidDirs.add(rel);
        this.knownDirs.add(rel);
        this.directories.set(rel, header);
        break;
      case 'file':
        this.file = {
          fd: fs.openSync(target, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, header.mode & 0o777),
          header,
          target,
          parent: rel.slice(0, Math.max(rel.lastIndexOf('/'), 0)),
        };
        break;
      case 'hardlink':
        this.hardLink(rel, header.linkname);
        break;
      case 'symlink':
        fs.symlinkSync(header.linkname, target);
        this.setOwner(target, header, true);
        fs.lutimesSync(target, header.mtime, header.mtime);
        break;
      case 'fifo':
        addon().mkfifo(target, header.mode);
        this.finishNode(target, header);
        break;
      case 'char':
      case 'block':
        // An unprivileged user cannot make device nodes: an empty file keeps
        // the name, as umoci --rootless does (a container's /dev is its own anyway).
        if (this.options.rootless) fs.closeSync(fs.openSync(target, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600));
        else this.mknod(target, header);
        this.finishNode(target, header);
        break;
    }
  }

  data(chunk: Buffer): void {
    if (this.file === undefined) return;
    for (let offset = 0; offset < chunk.length; ) offset += fs.writeSync(this.file.fd, chunk, offset, chunk.length - offset);
  }

  end(): void {
    const file = this.file;
    if (file === undefined) return;
    this.file = undefined;
    try {
      // chown clears setuid bits and security.capability: owner, then mode, then xattrs.
      const { uid, gid, mode } = file.header;
      if (!this.options.rootless && (uid !== this.uid || gid !== this.gid || this.setgidDirs.has(file.parent))) fs.fchownSync(file.fd, uid, gid);
      if ((mode & ~0o777) !== 0 || (mode & this.umask) !== 0) fs.fchmodSync(file.fd, mode);
      this.queueXattrs(file.target, file.header);
      fs.futimesSync(file.fd, file.header.mtime, file.header.mtime);
    } finally {
      fs.closeSync(file.fd);
    }
  }

  /** Closes a file left open by a failed entry. */
  abort(): void {
    if (this.file !== undefined) fs.closeSync(this.file.fd);
    this.file = undefined;
  }

  /** Applies what waits for the end of the layer: extended attributes, then directory owners, modes and times. */
  endLayer(): void {
    const ordered = [...this.directories.entries()].sort((a, b) => b[0].length - a[0].length);
    for (const [rel, header] of ordered) {
      const target = this.full(rel);
      this.entryName = header.name;
      this.setOwner(target, header, false);
      fs.chmodSync(target, header.mode);
      if (header.mode & S_ISGID) this.setgidDirs.add(rel);
      else this.setgidDirs.delete(rel);
      this.queueXattrs(target, header);
    }
    this.applyXattrs();
    for (const [rel, header] of ordered) fs.utimesSync(this.full(rel), header.mtime, header.mtime);
  }

  private full(rel: string): string {
    return rel === '' ? this.root : `${this.root}/${rel}`;
  }

  /**
   * Makes sure every directory above rel is a real directory inside the
   * rootfs: missing ones are made (create) or the walk stops (returns false);
   * a symlink or another file on the way is refused.
   */
  private ensureParent(rel: string, create: boolean): boolean {
    const slash = rel.lastIndexOf('/');
    if (slash === -1) return true;
    const parent = rel.slice(0, slash);
    if (this.knownDirs.has(parent)) return true;
    let at = '';
    for (const part of parent.split('/')) {
      at = at === '' ? part : `${at}/${part}`;
      if (this.knownDirs.has(at)) continue;
      const status = lstatOrUndefined(this.full(at));
      if (status === undefined) {
        if (!create) return false;
        fs.mkdirSync(this.full(at), 0o755);
      } else if (status.isSymbolicLink()) {
        throw new OcitsError(`path goes through the symlink /${at}`);
      } else if (!status.isDirectory()) {
        throw new OcitsError(`/${at} is not a directory`);
      } else if (status.mode & S_ISGID) {
        this.setgidDirs.add(at);
      }
      this.knownDirs.add(at);
    }
    return true;
  }

  private remove(rel: string, status: fs.Stats): void {
    if (!status.isDirectory()) {
      fs.unlinkSync(this.full(rel));
      return;
    }
    removeTree(this.full(rel));
    for (const dir of this.knownDirs) if (dir === rel || dir.startsWith(`${rel}/`)) this.knownDirs.delete(dir);
  }

  private whiteout(rel: string, base: string): void {
    const parent = rel.slice(0, Math.max(rel.lastIndexOf('/'), 0));
    if (base === OPAQUE_MARKER) {
      // The directory's lower contents go; what this layer put there stays.
      if (!this.ensureParent(rel, true)) return;
      const dir = this.full(parent);
      for (const child of fs.readdirSync(dir)) {
        const childRel = parent === '' ? child : `${parent}/${child}`;
        if (!this.createdInLayer.has(childRel)) this.remove(childRel, fs.lstatSync(this.full(childRel)));
      }
      return;
    }
    const name = base.slice(WHITEOUT_PREFIX.length);
    if (name === '' || name === '.' || name === '..') throw new OcitsError(`invalid whiteout name "${base}"`);
    if (!this.ensureParent(rel, false)) return;
    const hidden = parent === '' ? name : `${parent}/${name}`;
    if (this.createdInLayer.has(hidden)) return;
    const status = lstatOrUndefined(this.full(hidden));
    if (status !== undefined) this.remove(hidden, status);
  }

  private hardLink(rel: string, linkname: string): void {
    const targetRel = relativePath(linkname, 'hard link target');
    const status = targetRel !== '' && this.ensureParent(targetRel, false) ? lstatOrUndefined(this.full(targetRel)) : undefined;
    if (status === undefined) {
      if (this.wasSkipped(targetRel)) throw new SkippedLinkTarget(linkname);
      throw new OcitsError(`hard link target "${linkname}" does not exist`);
    }
    if (status.isDirectory()) throw new OcitsError(`hard link target "${linkname}" is a directory`);
    // link(2) does not follow a symlink target: the new name is the symlink itself.
    fs.linkSync(this.full(targetRel), this.full(rel));
  }

  /** Whether rel, or a directory above it, was skipped as hidden. */
  private wasSkipped(rel: string): boolean {
    if (this.skipped.size === 0) return false;
    for (let slash = rel.indexOf('/'); slash !== -1; slash = rel.indexOf('/', slash + 1)) if (this.skipped.has(rel.slice(0, slash))) return true;
    return this.skipped.has(rel);
  }

  private mknod(target: string, header: TarHeader): void {
    const kind = header.type === 'char' ? 'c' : 'b';
    const result = spawnSync('mknod', ['-m', (header.mode & 0o777).toString(8), target, kind, String(header.devmajor), String(header.devminor)], { encoding: 'utf8' });
    if (result.error !== undefined) throw new OcitsError(`mknod: ${errnoText(result.error)}`);
    if (result.status !== 0) throw new OcitsError(`mknod: ${result.stderr.trim()}`);
  }

  private finishNode(target: string, header: TarHeader): void {
    this.setOwner(target, header, true);
    fs.chmodSync(target, header.mode);
    this.queueXattrs(target, header);
    fs.utimesSync(target, header.mtime, header.mtime);
  }

  private setOwner(target: string, header: TarHeader, symlink: boolean): void {
    if (this.options.rootless) return;
    if (symlink) fs.lchownSync(target, header.uid, header.gid);
    else fs.chownSync(target, header.uid, header.gid);
  }

  private queueXattrs(target: string, header: TarHeader): void {
    for (const [name, value] of header.xattrs) {
      if (this.options.rootless && name.startsWith('security.')) continue;
      this.xattrs.push({ file: target, name, value });
    }
  }

  /**
   * Node has no setxattr: one `setfattr --restore` for the whole layer, fed
   * getfattr's dump format. Few files in an image carry xattrs.
   */
  private applyXattrs(): void {
    if (this.xattrs.length === 0) return;
    const dump = this.xattrs.map((x) => `# file: ${escapeDumpPath(x.file)}\n${x.name}=0s${x.value.toString('base64')}\n\n`).join('');
    this.xattrs = [];
    const result = spawnSync('setfattr', ['--no-dereference', '--restore=-'], { input: dump, encoding: 'utf8' });
    if (result.error !== undefined) throw new OcitsError(`setfattr (package attr) is needed for extended attributes: ${errnoText(result.error)}`);
    if (result.status !== 0) throw new OcitsError(`cannot set extended attributes: ${result.stderr.trim().split('\n')[0]}`);
  }
}

/** An entry name as a path relative to the rootfs ("" for the rootfs itself); refuses absolute names and "..". */
export function relativePath(name: string, what = 'name'): string {
  if (name.startsWith('/')) throw new OcitsError(`absolute ${what} "${name}" is refused`);
  const parts = name.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) throw new OcitsError(`${what} "${name}" with ".." is refused`);
  return parts.join('/');
}

/**
 * Removes a directory and everything in it without following symlinks.
 * fs.rmSync's recursive walk tries rmdir on every file first: on a layer
 * that whites out /usr/share/doc that was half the time of the bundle.
 */
function removeTree(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const child = `${dir}/${entry.name}`;
    // d_type is lstat's type: a symlink to a directory is a symlink here.
    const isDirectory = entry.isDirectory() || (isUnknownType(entry) && fs.lstatSync(child).isDirectory());
    if (isDirectory) removeTree(child);
    else fs.unlinkSync(child);
  }
  fs.rmdirSync(dir);
}

/** A file system without d_type leaves every Dirent type false. */
function isUnknownType(entry: fs.Dirent): boolean {
  return !(entry.isFile() || entry.isDirectory() || entry.isSymbolicLink() || entry.isFIFO() || entry.isCharacterDevice() || entry.isBlockDevice() || entry.isSocket());
}

/** getfattr's escaping: bytes outside printable ASCII, and backslash, as \ooo. */
function escapeDumpPath(file: string): string {
  let out = '';
  for (const byte of Buffer.from(file)) {
    out += byte <= 0x20 || byte >= 0x7f || byte === 0x5c ? `\\${byte.toString(8).padStart(3, '0')}` : String.fromCharCode(byte);
  }
  return out;
}
