// The image store: a plain OCI image layout (image-spec image-layout.md), so
// that skopeo (oci:DIR:REF), umoci and crane read it, plus a private
// `.ocits/` directory the layout's readers ignore:
//
//   oci-layout, index.json, blobs/<alg>/<hex>    the layout
//   .ocits/lock                                  flock held while index.json is rewritten
//   .ocits/gc.lock                               shared by pulls and bundles, exclusive for prune
//   .ocits/ingest/<alg>-<hex>                     a blob being downloaded, locked by its writer
//   .ocits/uploads/<uuid>/                        a registry upload session (registry serve)
//   .ocits/leases/<alg>-<hex>                     a blob a push is about to name; its mtime is the lease's start
//   .ocits/rootfs/<alg>-<hex>/                    an image manifest's layers unpacked, the lower layer of `bundle --overlay`
//   .ocits/rootfs/partial-<pid>-<random>/         one being unpacked; renamed into place once whole
//
// A blob appears under blobs/ only once its digest is verified (rename from
// ingest/). index.json is replaced whole (temporary file, fsync, rename)
// under the lock, so concurrent pulls and tags never lose each other's
// entries and a killed command leaves the old or the new index, never half.
// Each reference is an index.json entry whose org.opencontainers.image.ref.name
// is the full normalized reference. The registry server (issue 14) and the
// builder (issue 15) read and write through this same module.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { addon } from '../addon';
import { writeFileAtomically } from '../lifecycle/write-file';
import { OcitsError, errnoText, isErrno } from '../errors';
import { lstatOrUndefined } from '../file-status';
import { setTimeout as sleep } from 'node:timers/promises';
import { digestOf, isDigest, parseDigest } from './digest';
import { REF_NAME_ANNOTATION, type Descriptor, type ImageIndex } from './media-types';

const LAYOUT_FILE = 'oci-layout';
const INDEX_FILE = 'index.json';
const PRIVATE_DIR = '.ocits';
const INGEST_DIR = 'ingest';
const LOCK_FILE = 'lock';
/** Held shared by every command that adds or reads blobs, exclusive by garbage collection. */
const GC_LOCK_FILE = 'gc.lock';
const UPLOAD_DIR = 'uploads';
const LEASE_DIR = 'leases';
const ROOTFS_DIR = 'rootfs';
const PARTIAL_ROOTFS_PREFIX = 'partial-';
/**
 * How long a lease keeps garbage collection from a blob no name reaches: a
 * push uploads its blobs (or finds them there) and names them with its
 * manifest minutes later, in another request, perhaps in another process.
 */
export const LEASE_MS = 60 * 60 * 1000;
/** How long an upload session may sit idle before garbage collection ends it. */
export const UPLOAD_IDLE_MS = 24 * 60 * 60 * 1000;
/** How often a writer waiting for another writer of the same blob looks again. */
const INGEST_POLL_MS = 100;

/** The store directory: --store, then $OCITS_STORE, then the per-user default. */
export function defaultStoreDir(flag?: string): string {
  if (flag !== undefined && flag !== '') return path.resolve(flag);
  const fromEnv = process.env.OCITS_STORE;
  if (fromEnv !== undefined && fromEnv !== '') return path.resolve(fromEnv);
  if (process.geteuid?.() === 0) return '/var/lib/ocits/images';
  const dataHome = process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(dataHome, 'ocits', 'images');
}

/** A named image in the store. */
export interface StoreReference {
  /** The full normalized reference, e.g. docker.io/library/busybox:latest. */
  name: string;
  descriptor: Descriptor;
}

/** A blob being written: bytes go to fd from offset on; commit() or abort() ends it. */
export interface Ingest {
  digest: string;
  /** The partial file, outside blobs/. */
  file: string;
  fd: number;
  /** Bytes already there from an earlier, interrupted download. */
  offset: number;
}

export class ImageStore {
  constructor(readonly root: string) {}

  // ---------------------------------------------------------------- blobs

  blobPath(digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return path.join(this.root, 'blobs', algorithm, hex);
  }

  hasBlob(digest: string): boolean {
    return fs.existsSync(this.blobPath(digest));
  }

  readBlob(digest: string): Buffer {
    try {
      return fs.readFileSync(this.blobPath(digest));
    } catch (error) {
      if (isErrno(error, 'ENOENT')) throw new OcitsError(`blob ${digest} is not in the store ${this.root}`);
      throw error;
    }
  }

  readJsonBlob<T>(digest: string): T {
    const data = this.readBlob(digest);
    try {
      return JSON.parse(data.toString('utf8')) as T;
    } catch {
      throw new OcitsError(`blob ${digest} in the store ${this.root} is not valid JSON`);
    }
  }

  /** Stores a small blob (manifest, config) whole; its digest is checked against expected when given. */
  putBlob(data: Buffer, expected?: string): string {
    const digest = digestOf(data, expected !== undefined ? parseDigest(expected).algorithm : 'sha256');
    if (expected !== undefined && digest !== expected) {
      throw new OcitsError(`blob ${expected}: content has digest ${digest}`);
    }
    if (this.hasBlob(digest)) return digest;
    this.ensureLayout();
    const temporary = path.join(this.ingestDir(), `put-${process.pid}-${Math.random().toString(36).slice(2)}`);
    writeSynced(temporary, data);
    this.renameIntoBlobs(temporary, digest);
    return digest;
  }

  /** A fresh path on the blobs' file system for a blob a command makes itself (a built layer); move it in with commitFile. */
  temporaryBlobFile(purpose: string): string {
    this.ensureLayout();
    return path.join(this.ingestDir(), `${purpose}-${process.pid}-${Math.random().toString(36).slice(2)}`);
  }

  /**
   * Claims the partial file of a blob for writing, waiting while another
   * process writes it. Resolves to undefined when the blob is (or becomes)
   * complete in the store, so there is nothing to write.
   */
  async beginIngest(digest: string): Promise<Ingest | undefined> {
    const file = path.join(this.ingestDir(), digestFileName(digest));
    for (;;) {
      if (this.hasBlob(digest)) return undefined;
      this.ensureLayout();
      const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
      if (!addon().flock(fd, 'exclusive', false)) {
        fs.closeSync(fd);
        await sleep(INGEST_POLL_MS);
        continue;
      }
      // The writer before us may have committed (renamed) the file we opened.
      const current = statOrUndefined(file);
      const opened = fs.fstatSync(fd);
      if (current === undefined || current.ino !== opened.ino || current.dev !== opened.dev || this.hasBlob(digest)) {
        fs.closeSync(fd);
        continue;
      }
      return { digest, file, fd, offset: opened.size };
    }
  }

  /** Makes a fully written and verified partial file the blob, and releases it. */
  commitIngest(ingest: Ingest): void {
    try {
      fs.fsyncSync(ingest.fd);
      this.renameIntoBlobs(ingest.file, ingest.digest);
    } finally {
      fs.closeSync(ingest.fd);
    }
  }

  /** Releases a partial file; discard removes it (bad content), else it stays for a resumed download. */
  abortIngest(ingest: Ingest, discard: boolean): void {
    try {
      if (discard) fs.rmSync(ingest.file, { force: true });
    } finally {
      fs.closeSync(ingest.fd);
    }
  }

  /** Makes a verified file (an upload's) the blob; when the blob is already there the file just goes. */
  commitFile(file: string, digest: string): void {
    if (this.hasBlob(digest)) {
      fs.rmSync(file, { force: true });
      return;
    }
    this.renameIntoBlobs(file, digest);
  }

  // ---------------------------------------------------------------- leases and uploads

  /**
   * Keeps the blob from garbage collection for LEASE_MS: a push in progress
   * is about to name it. Take it while holding blobs (holdBlobs), so that a
   * collection either ran before or sees the lease.
   */
  leaseBlob(digest: string): void {
    const dir = path.join(this.root, PRIVATE_DIR, LEASE_DIR);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(dir, digestFileName(digest)), '');
  }

  releaseLease(digest: string): void {
    fs.rmSync(path.join(this.root, PRIVATE_DIR, LEASE_DIR, digestFileName(digest)), { force: true });
  }

  /** The digests of leases younger than LEASE_MS; with removeExpired, older leases go. */
  leasedBlobs(now: number, removeExpired: boolean): Set<string> {
    const dir = path.join(this.root, PRIVATE_DIR, LEASE_DIR);
    const leased = new Set<string>();
    for (const name of readDirOrEmpty(dir)) {
      const stat = statOrUndefined(path.join(dir, name));
      if (stat === undefined) continue;
      if (now - stat.mtimeMs >= LEASE_MS) {
        if (removeExpired) fs.rmSync(path.join(dir, name), { force: true });
        continue;
      }
      const digest = digestOfFileName(name);
      if (digest !== undefined) leased.add(digest);
    }
    return leased;
  }

  /** Where the registry server keeps its upload sessions. */
  uploadsDir(): string {
    return path.join(this.root, PRIVATE_DIR, UPLOAD_DIR);
  }

  /** Upload sessions idle for UPLOAD_IDLE_MS; with remove, they go. Returns their bytes. */
  staleUploadBytes(now: number, remove: boolean): number {
    let bytes = 0;
    for (const name of readDirOrEmpty(this.uploadsDir())) {
      const dir = path.join(this.uploadsDir(), name);
      const files = readDirOrEmpty(dir).map((file) => statOrUndefined(path.join(dir, file)));
      const lastUse = Math.max(statOrUndefined(dir)?.mtimeMs ?? 0, ...files.map((stat) => stat?.mtimeMs ?? 0));
      if (now - lastUse < UPLOAD_IDLE_MS) continue;
      bytes += files.reduce((sum, stat) => sum + (stat?.size ?? 0), 0);
      if (remove) fs.rmSync(dir, { recursive: true, force: true });
    }
    return bytes;
  }

  // ---------------------------------------------------------------- unpacked images

  /** Where the layers of the image manifest digest are kept unpacked, whole or not at all. */
  private unpackedRootfsDir(digest: string): string {
    return path.join(this.root, PRIVATE_DIR, ROOTFS_DIR, digestFileName(digest));
  }

  /**
   * The unpacked copy of the image manifest digest, if the store has one
   * that only we could have made: it is mounted as it is, unverified, so a
   * copy or a parent directory another user could write is refused.
   */
  unpackedRootfs(digest: string): string | undefined {
    const dir = this.unpackedRootfsDir(digest);
    const copy = lstatOrUndefined(dir);
    if (copy === undefined) return undefined;
    const euid = process.geteuid?.() ?? 0;
    for (const [file, status] of [
      [path.dirname(dir), lstatOrUndefined(path.dirname(dir))],
      [dir, copy],
    ] as const) {
      if (status === undefined || !status.isDirectory() || status.uid !== euid || (status.mode & 0o022) !== 0) {
        throw new OcitsError(`refusing the unpacked image ${file}: not a directory of ours that only we may write; remove it`);
      }
    }
    return dir;
  }

  /**
   * A fresh directory to unpack an image into, to be moved in with
   * commitUnpackedRootfs. Only root may enter the parent: the trees keep the
   * images' setuid files.
   */
  temporaryRootfsDir(): string {
    this.ensureLayout();
    const parent = path.join(this.root, PRIVATE_DIR, ROOTFS_DIR);
    fs.mkdirSync(parent, { recursive: true, mode: 0o700 });
    const dir = path.join(parent, `${PARTIAL_ROOTFS_PREFIX}${process.pid}-${Math.random().toString(36).slice(2)}`);
    fs.mkdirSync(dir, 0o755);
    return dir;
  }

  /** Moves an unpacked tree into place; when another command was first, ours goes. Returns the tree's place. */
  commitUnpackedRootfs(dir: string, digest: string): string {
    const target = this.unpackedRootfsDir(digest);
    try {
      fs.renameSync(dir, target);
    } catch (error) {
      if (!isErrno(error, 'EEXIST') && !isErrno(error, 'ENOTEMPTY')) throw error;
      fs.rmSync(dir, { recursive: true, force: true });
    }
    return target;
  }

  /** The digests of the image manifests kept unpacked, and partial trees (digest undefined); run under withBlobsExclusive, no partial one is being written. */
  unpackedRootfsDirs(): Array<{ dir: string; digest?: string }> {
    const parent = path.join(this.root, PRIVATE_DIR, ROOTFS_DIR);
    return readDirOrEmpty(parent).map((name) => {
      const dir = path.join(parent, name);
      const digest = digestOfFileName(name);
      return digest !== undefined ? { dir, digest } : { dir };
    });
  }

  /** Every blob in the store, as digests. */
  listBlobs(): string[] {
    const digests: string[] = [];
    for (const algorithm of readDirOrEmpty(path.join(this.root, 'blobs'))) {
      for (const hex of readDirOrEmpty(path.join(this.root, 'blobs', algorithm))) digests.push(`${algorithm}:${hex}`);
    }
    return digests;
  }

  blobSize(digest: string): number {
    return fs.statSync(this.blobPath(digest)).size;
  }

  removeBlob(digest: string): void {
    fs.rmSync(this.blobPath(digest), { force: true });
  }

  /**
   * Removes partial downloads no process is writing (a killed pull's), and
   * temporary files; returns how many bytes that freed.
   */
  removeStaleIngests(): number {
    let freed = 0;
    for (const name of readDirOrEmpty(this.ingestDir())) {
      const file = path.join(this.ingestDir(), name);
      let fd: number;
      try {
        fd = fs.openSync(file, fs.constants.O_RDWR);
      } catch {
        continue;
      }
      try {
        if (!addon().flock(fd, 'exclusive', false)) continue;
        freed += fs.fstatSync(fd).size;
        fs.rmSync(file, { force: true });
      } finally {
        fs.closeSync(fd);
      }
    }
    return freed;
  }

  // ---------------------------------------------------------------- references

  /** The references of index.json, in its order; an empty list for a store not made yet. */
  references(): StoreReference[] {
    return this.readIndex()
      .manifests.filter((descriptor) => descriptor.annotations?.[REF_NAME_ANNOTATION] !== undefined)
      .map((descriptor) => ({ name: descriptor.annotations![REF_NAME_ANNOTATION], descriptor }));
  }

  findReference(name: string): StoreReference | undefined {
    return this.references().find((reference) => reference.name === name);
  }

  /** Points name at the descriptor (replacing what it named); the blob must be in the store. */
  setReference(name: string, descriptor: Descriptor): void {
    if (!this.hasBlob(descriptor.digest)) throw new OcitsError(`blob ${descriptor.digest} is not in the store ${this.root}`);
    const { annotations, ...rest } = descriptor;
    const entry: Descriptor = { ...rest, annotations: { ...annotations, [REF_NAME_ANNOTATION]: name } };
    this.updateIndex((manifests) => [...manifests.filter((m) => m.annotations?.[REF_NAME_ANNOTATION] !== name), entry]);
  }

  /** Removes names from index.json; returns the ones that were there. */
  removeReferences(names: readonly string[]): string[] {
    const removed: string[] = [];
    this.updateIndex((manifests) =>
      manifests.filter((m) => {
        const name = m.annotations?.[REF_NAME_ANNOTATION];
        if (name === undefined || !names.includes(name)) return true;
        removed.push(name);
        return false;
      }),
    );
    return removed;
  }

  /** Rewrites index.json's manifests under the store's lock. */
  updateIndex(change: (manifests: Descriptor[]) => Descriptor[]): void {
    this.ensureLayout();
    this.withLock(() => {
      const index = this.readIndex();
      const updated: ImageIndex = { ...index, manifests: change(index.manifests) };
      writeFileAtomically(path.join(this.root, INDEX_FILE), JSON.stringify(updated));
    });
  }

  /** Runs fn holding the index lock: one writer of index.json at a time. */
  withLock<T>(fn: () => T): T {
    return this.withExclusiveLock(LOCK_FILE, fn);
  }

  /**
   * Keeps garbage collection away while a command writes blobs that no name
   * reaches yet (a pull names its image last) or reads an image's blobs.
   * Returns the release function.
   */
  async holdBlobs(): Promise<() => void> {
    const fd = this.openLockFile(GC_LOCK_FILE);
    while (!addon().flock(fd, 'shared', false)) await sleep(INGEST_POLL_MS);
    return () => fs.closeSync(fd);
  }

  /**
   * Runs fn while nothing else holds blobs, waiting without blocking the
   * event loop: a server's own requests may hold blobs meanwhile.
   */
  async withBlobsExclusiveAsync<T>(fn: () => T): Promise<T> {
    const fd = this.openLockFile(GC_LOCK_FILE);
    try {
      while (!addon().flock(fd, 'exclusive', false)) await sleep(INGEST_POLL_MS);
      return fn();
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Runs fn while no other command holds blobs (see holdBlobs). */
  withBlobsExclusive<T>(fn: () => T): T {
    return this.withExclusiveLock(GC_LOCK_FILE, fn);
  }

  private openLockFile(name: string): number {
    this.ensureLayout();
    return fs.openSync(path.join(this.root, PRIVATE_DIR, name), fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
  }

  private withExclusiveLock<T>(name: string, fn: () => T): T {
    const fd = this.openLockFile(name);
    try {
      addon().flock(fd, 'exclusive', true);
      return fn();
    } finally {
      fs.closeSync(fd);
    }
  }

  readIndex(): ImageIndex {
    const file = path.join(this.root, INDEX_FILE);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return emptyIndex();
      throw new OcitsError(`cannot read ${file}: ${errnoText(error)}`);
    }
    let index: ImageIndex;
    try {
      index = JSON.parse(text) as ImageIndex;
    } catch {
      throw new OcitsError(`${file} is not valid JSON`);
    }
    if (typeof index !== 'object' || index === null || !Array.isArray(index.manifests)) {
      throw new OcitsError(`${file} is not an image index: it has no manifests list`);
    }
    return index;
  }

  // ---------------------------------------------------------------- layout

  /** Whether the store has been made (a layout with index.json). */
  exists(): boolean {
    return fs.existsSync(path.join(this.root, INDEX_FILE));
  }

  /** Makes the layout's directories and files if they are missing. */
  ensureLayout(): void {
    const marker = path.join(this.root, PRIVATE_DIR, INGEST_DIR);
    if (fs.existsSync(marker)) return;
    try {
      fs.mkdirSync(path.join(this.root, 'blobs', 'sha256'), { recursive: true, mode: 0o755 });
      fs.mkdirSync(marker, { recursive: true, mode: 0o700 });
      writeIfMissing(path.join(this.root, LAYOUT_FILE), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
      writeIfMissing(path.join(this.root, INDEX_FILE), JSON.stringify(emptyIndex()));
    } catch (error) {
      throw new OcitsError(`cannot make the image store ${this.root}: ${errnoText(error)}`);
    }
  }

  private ingestDir(): string {
    return path.join(this.root, PRIVATE_DIR, INGEST_DIR);
  }

  private renameIntoBlobs(file: string, digest: string): void {
    const target = this.blobPath(digest);
    fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
    fs.chmodSync(file, 0o644);
    fs.renameSync(file, target);
  }
}

function emptyIndex(): ImageIndex {
  return { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] };
}

function writeSynced(file: string, data: Buffer): void {
  fs.writeFileSync(file, data, { mode: 0o644, flush: true });
}

/** Two stores made at once: the first file written wins, neither is torn. */
function writeIfMissing(file: string, content: string): void {
  if (fs.existsSync(file)) return;
  const temporary = `${file}.${process.pid}.tmp`;
  writeSynced(temporary, Buffer.from(content));
  try {
    fs.linkSync(temporary, file);
  } catch (error) {
    if (!isErrno(error, 'EEXIST')) throw error;
  } finally {
    fs.unlinkSync(temporary);
  }
}

/** sha256:HEX as the name of a file of the private directory: sha256-HEX. */
function digestFileName(digest: string): string {
  const { algorithm, hex } = parseDigest(digest);
  return `${algorithm}-${hex}`;
}

/** The digest a file of the private directory is named for; undefined for any other name. */
function digestOfFileName(name: string): string | undefined {
  const digest = name.replace('-', ':');
  return isDigest(digest) ? digest : undefined;
}

function readDirOrEmpty(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return [];
    throw error;
  }
}

function statOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch {
    return undefined;
  }
}
