// COPY and ADD: sources found in a tree (the build context, a stage's or an
// image's root filesystem) and copied into the step's overlay with Docker's
// semantics: a directory's contents, not the directory; a file into a
// directory when the destination ends with / or is one; wildcards per path
// component; several sources only into a directory.
//
// Both trees are hostile. A source name is resolved inside its tree as if
// the tree were / (`../../etc/shadow` is the context's etc/shadow; a
// symlink in the context pointing out of it points into it), and only the
// named path's own symlinks are followed: what is under a directory is
// copied as it is, symlinks as symlinks. The destination is resolved inside
// the image's root the same way, one component at a time, so a symlink in
// the image (Debian's /bin -> usr/bin) is followed there and never out.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addon } from '../addon';
import { OcitsError, errnoText } from '../errors';
import { lstatOrUndefined } from '../file-status';
import { resolveInRoot } from '../image/image-user';
import { type ArchiveCompression, applyTarFile } from '../image/layer-stream';
import { RootfsWriter } from '../image/rootfs-writer';
import type { IgnoreRules } from './dockerignore';
import { compareNames } from './upper-entries';

export interface SourceTree {
  root: string;
  /** For errors: "build context", "stage builder". */
  what: string;
  ignore?: IgnoreRules;
}

export interface ResolvedSource {
  /** The name as given, for errors and basenames. */
  given: string;
  /** The real path inside the tree, relative to its root ("" for the root). */
  relative: string;
  full: string;
  status: fs.Stats;
}

export interface Owner {
  uid: number;
  gid: number;
}

/** The sources named (wildcards expanded, sorted), each found in the tree, or an error naming the first missing one. */
export function resolveSources(tree: SourceTree, names: readonly string[]): ResolvedSource[] {
  const found: ResolvedSource[] = [];
  for (const given of names) {
    const cleaned = path.posix.normalize(`/${given}`).slice(1).replace(/\/$/, '');
    const candidates = hasWildcard(cleaned) ? expandWildcards(tree, cleaned) : [cleaned];
    let matched = 0;
    for (const candidate of candidates) {
      const full = resolveInRoot(tree.root, candidate);
      if (full === undefined) continue;
      const relative = path.relative(tree.root, full);
      if (relative !== '' && (tree.ignore?.excludes(relative) ?? false)) continue;
      found.push({ given, relative, full, status: fs.lstatSync(full) });
      matched++;
    }
    if (matched === 0) {
      if (hasWildcard(cleaned)) throw new OcitsError(`no source files were specified: "${given}" matches nothing in the ${tree.what}`);
      throw new OcitsError(`"${given}": not found in the ${tree.what}${tree.ignore !== undefined ? ' or excluded by .dockerignore' : ''}`);
    }
  }
  return found;
}

function hasWildcard(text: string): boolean {
  return /[*?[]/.test(text);
}

/** Path names of the tree matching a pattern, one component at a time (Go's filepath.Match per component). */
function expandWildcards(tree: SourceTree, pattern: string): string[] {
  let candidates = [''];
  for (const component of pattern.split('/')) {
    const next: string[] = [];
    for (const candidate of candidates) {
      if (!hasWildcard(component)) {
        next.push(candidate === '' ? component : `${candidate}/${component}`);
        continue;
      }
      const dir = resolveInRoot(tree.root, candidate);
      if (dir === undefined || !fs.lstatSync(dir).isDirectory()) continue;
      const regex = componentRegex(component);
      for (const name of fs.readdirSync(dir).sort(compareNames)) if (regex.test(name)) next.push(candidate === '' ? name : `${candidate}/${name}`);
    }
    candidates = next;
  }
  return candidates;
}

function componentRegex(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '*') source += '[^/]*';
    else if (ch === '?') source += '[^/]';
    else if (ch === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end === -1) throw new OcitsError(`syntax error in pattern "${pattern}"`);
      let body = pattern.slice(i + 1, end);
      if (body.startsWith('^') || body.startsWith('!')) body = `^${body.slice(1)}`;
      source += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (ch === '\\' && i + 1 < pattern.length) source += `\\${pattern[++i]}`;
    else source += /[\\^$.*+?()[\]{}|/-]/.test(ch) ? `\\${ch}` : ch;
  }
  return new RegExp(`^${source}$`, 's');
}

/**
 * A digest of everything the sources bring: names, types, modes, owners,
 * link targets and contents (not times), what the layer cache keys on.
 */
export function sourcesDigest(tree: SourceTree, sources: readonly ResolvedSource[]): string {
  const hash = crypto.createHash('sha256');
  const visit = (full: string, relative: string, status: fs.Stats, name: string): void => {
    hash.update(`${name}\0${status.mode}\0${status.uid}:${status.gid}\0`);
    if (status.isSymbolicLink()) hash.update(`link\0${fs.readlinkSync(full)}\0`);
    else if (status.isFile()) hash.update(`file\0${status.size}\0`).update(fileDigest(full));
    else if (status.isDirectory()) {
      for (const child of fs.readdirSync(full).sort(compareNames)) {
        const childRelative = relative === '' ? child : `${relative}/${child}`;
        const childFull = `${full}/${child}`;
        const childStatus = fs.lstatSync(childFull);
        if (excluded(tree, childRelative, childStatus)) continue;
        visit(childFull, childRelative, childStatus, `${name}/${child}`);
      }
    }
  };
  for (const source of sources) visit(source.full, source.relative, source.status, source.given);
  return `sha256:${hash.digest('hex')}`;
}

function fileDigest(file: string): Buffer {
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    const chunk = Buffer.allocUnsafe(1024 * 1024);
    for (let read = fs.readSync(fd, chunk); read > 0; read = fs.readSync(fd, chunk)) hash.update(chunk.subarray(0, read));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest();
}

/** An excluded file is left out; an excluded directory too, unless an exception may bring back something under it. */
function excluded(tree: SourceTree, relative: string, status: fs.Stats): boolean {
  if (tree.ignore === undefined || !tree.ignore.excludes(relative)) return false;
  return !(status.isDirectory() && tree.ignore.mayIncludeUnder(relative));
}

export interface CopyOptions {
  owner?: Owner;
  chmod?: number;
}

/**
 * Resolves dir (absolute, in the image) inside root, following the image's
 * symlinks as if root were /, and makes what is missing (mode 0755, owner).
 * Returns the real path.
 */
export function makeDirectoryInRoot(root: string, dir: string, owner?: Owner): string {
  let real: string | undefined;
  try {
    real = resolveInRoot(root, dir, (candidate) => {
      fs.mkdirSync(candidate, 0o755);
      if (owner !== undefined) fs.chownSync(candidate, owner.uid, owner.gid);
    });
  } catch (error) {
    throw new OcitsError(`cannot make the directory ${dir}: ${errnoText(error)}`);
  }
  if (real === undefined || !fs.statSync(real).isDirectory()) throw new OcitsError(`${dir} is not a directory`);
  return real;
}

/** Where a file source lands: into dest when dest ends with / or is a directory, else at dest. */
export function fileTarget(root: string, dest: string, basename: string, owner?: Owner): string {
  const existing = resolveInRoot(root, dest);
  if (dest.endsWith('/') || (existing !== undefined && fs.statSync(existing).isDirectory())) return path.join(makeDirectoryInRoot(root, dest, owner), basename);
  const parent = makeDirectoryInRoot(root, path.posix.dirname(dest), owner);
  return path.join(parent, path.posix.basename(dest));
}

/** Copies the sources into root at dest (absolute, in the image). */
export function copySources(tree: SourceTree, sources: readonly ResolvedSource[], root: string, dest: string, options: CopyOptions): void {
  const links = new Map<string, string>();
  for (const source of sources) {
    if (source.status.isDirectory()) {
      const target = makeDirectoryInRoot(root, dest, options.owner);
      copyChildren(tree, source.full, source.relative, root, target, options, links);
    } else {
      const target = fileTarget(root, dest, path.posix.basename(source.relative), options.owner);
      copyObject(source.full, source.status, target, options, links);
    }
  }
}

function copyChildren(tree: SourceTree, dir: string, relative: string, root: string, target: string, options: CopyOptions, links: Map<string, string>): void {
  for (const name of fs.readdirSync(dir).sort(compareNames)) {
    const childRelative = relative === '' ? name : `${relative}/${name}`;
    const full = `${dir}/${name}`;
    const status = fs.lstatSync(full);
    if (excluded(tree, childRelative, status)) continue;
    const childTarget = `${target}/${name}`;
    // A directory copied onto the image's symlink to a directory (Debian's bin -> usr/bin) goes where it points, inside the root.
    if (status.isDirectory() && lstatOrUndefined(childTarget)?.isSymbolicLink()) {
      const real = resolveInRoot(root, path.relative(root, childTarget));
      if (real !== undefined && fs.statSync(real).isDirectory()) {
        copyChildren(tree, full, childRelative, root, real, options, links);
        continue;
      }
    }
    const selfExcluded = tree.ignore?.excludes(childRelative) ?? false;
    if (!selfExcluded || !status.isDirectory()) copyObject(full, status, childTarget, options, links);
    else if (status.isDirectory() && lstatOrUndefined(childTarget) === undefined) fs.mkdirSync(childTarget, 0o755);
    if (status.isDirectory()) copyChildren(tree, full, childRelative, root, childTarget, options, links);
  }
}

/** One object at target (in the overlay, its parent already resolved): whatever was there goes, except a directory for a directory. */
function copyObject(full: string, status: fs.Stats, target: string, options: CopyOptions, links: Map<string, string>): void {
  const existing = lstatOrUndefined(target);
  if (existing !== undefined && !(existing.isDirectory() && status.isDirectory())) fs.rmSync(target, { recursive: true, force: true });
  const owner = options.owner ?? { uid: status.uid, gid: status.gid };
  const mode = options.chmod ?? status.mode & 0o7777;
  if (status.isDirectory()) {
    if (existing === undefined || !existing.isDirectory()) fs.mkdirSync(target, 0o700);
  } else if (status.isSymbolicLink()) {
    fs.symlinkSync(fs.readlinkSync(full), target);
    fs.lchownSync(target, owner.uid, owner.gid);
    fs.lutimesSync(target, status.atime, status.mtime);
    return;
  } else if (status.isFile()) {
    const key = `${status.dev}:${status.ino}`;
    const first = status.nlink > 1 ? links.get(key) : undefined;
    if (first !== undefined) {
      fs.linkSync(first, target);
      return;
    }
    if (status.nlink > 1) links.set(key, target);
    copyFileContent(full, target);
  } else if (status.isFIFO()) {
    addon().mkfifo(target, mode);
  } else {
    // Devices and sockets in a build context are not copied, as in Docker.
    return;
  }
  fs.chownSync(target, owner.uid, owner.gid);
  fs.chmodSync(target, mode);
  fs.utimesSync(target, status.atime, status.mtime);
}

function copyFileContent(from: string, to: string): void {
  const input = fs.openSync(from, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    const output = fs.openSync(to, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
    try {
      const chunk = Buffer.allocUnsafe(1024 * 1024);
      for (let read = fs.readSync(input, chunk); read > 0; read = fs.readSync(input, chunk)) {
        for (let offset = 0; offset < read; ) offset += fs.writeSync(output, chunk, offset, read - offset);
      }
    } finally {
      fs.closeSync(output);
    }
  } catch (error) {
    throw new OcitsError(`cannot copy ${from}: ${errnoText(error)}`);
  } finally {
    fs.closeSync(input);
  }
}

/** COPY <<EOF /path and ADD of a URL: content as a file at dest. */
export function writeFileInRoot(root: string, dest: string, basename: string, content: Buffer, mode: number, owner: Owner, mtime?: Date): void {
  const target = fileTarget(root, dest, basename, owner);
  const existing = lstatOrUndefined(target);
  if (existing !== undefined) fs.rmSync(target, { recursive: true, force: true });
  const fd = fs.openSync(target, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
  try {
    fs.writeSync(fd, content);
    fs.fchownSync(fd, owner.uid, owner.gid);
    fs.fchmodSync(fd, mode);
    if (mtime !== undefined) fs.futimesSync(fd, mtime, mtime);
  } finally {
    fs.closeSync(fd);
  }
}

/** The compression of a local archive ADD extracts, from its first bytes; undefined for a file that is no tar archive. */
export function archiveCompression(file: string): ArchiveCompression | undefined {
  const head = Buffer.alloc(512);
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  let read: number;
  try {
    read = fs.readSync(fd, head, 0, 512, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (read >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (read >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (read >= 3 && head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (read >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (read === 512 && head.subarray(257, 262).toString('latin1') === 'ustar') return 'none';
  return undefined;
}

/** ADD of a local tar archive: its entries extracted under dest, refused if any would leave it. */
export async function extractArchive(file: string, compression: ArchiveCompression, root: string, dest: string, owner?: Owner): Promise<void> {
  const target = makeDirectoryInRoot(root, dest, owner);
  const writer = new RootfsWriter(target, { rootless: false });
  writer.beginLayer();
  try {
    await applyTarFile(file, compression, writer);
    writer.endLayer();
  } catch (error) {
    writer.abort();
    throw new OcitsError(`cannot extract ${path.basename(file)}${writer.currentEntry !== '' ? `, entry "${writer.currentEntry}"` : ''}: ${error instanceof OcitsError ? error.message : errnoText(error)}`);
  }
}

