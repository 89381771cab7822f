// Garbage collection of the store (`image prune`, `registry gc`): blobs that
// no entry of index.json reaches (through indexes, manifests, configs and
// layers; a referrer is an entry of its own), partial downloads no process is
// writing, idle upload sessions, and the unpacked copies of images
// (`bundle --overlay`) whose manifest is gone and which no overlay mounts. It runs while no pull, bundle or
// registry request holds the store's blobs (ImageStore.holdBlobs), and spares
// leased blobs (ImageStore.leaseBlob), so it never takes a blob a pull or a
// push is about to name, even while a registry serves the store.
import * as fs from 'node:fs';
import { manifestLinks } from './manifest';
import type { Descriptor } from './media-types';
import { isOverlayLower } from './overlay-rootfs';
import { formatBytes } from './progress';
import type { ImageStore } from './store';

export interface PruneResult {
  /** Digests of the blobs removed. */
  removed: string[];
  /** Digests of the image manifests whose unpacked copy was removed. */
  unpacked: string[];
  /** Bytes freed: blobs, partial downloads and unpacked copies together. */
  freed: number;
}

export interface PruneOptions {
  /** Only report what would go. */
  dryRun?: boolean;
}

export function pruneStore(store: ImageStore, options: PruneOptions = {}): PruneResult {
  if (!store.exists()) return { removed: [], unpacked: [], freed: 0 };
  const remove = options.dryRun !== true;
  return store.withBlobsExclusive(() => {
    const now = Date.now();
    const kept = reachableBlobs(store);
    for (const digest of store.leasedBlobs(now, remove)) kept.add(digest);
    const removed: string[] = [];
    let freed = store.staleUploadBytes(now, remove) + (remove ? store.removeStaleIngests() : 0);
    for (const digest of store.listBlobs()) {
      if (kept.has(digest)) continue;
      freed += store.blobSize(digest);
      if (remove) store.removeBlob(digest);
      removed.push(digest);
    }
    const unpacked: string[] = [];
    for (const { dir, digest } of store.unpackedRootfsDirs()) {
      // A partial tree (digest undefined) is a killed bundle's: no bundle runs while we hold the store.
      if (digest !== undefined && (kept.has(digest) || isOverlayLower(dir))) continue;
      freed += treeBytes(dir);
      if (remove) fs.rmSync(dir, { recursive: true, force: true });
      if (digest !== undefined) unpacked.push(digest);
    }
    return { removed, unpacked, freed };
  });
}

/** The disk space a directory tree takes, without following symlinks. */
function treeBytes(dir: string): number {
  let bytes = 0;
  const walk = (at: string): void => {
    for (const entry of fs.readdirSync(at, { withFileTypes: true })) {
      const child = `${at}/${entry.name}`;
      bytes += fs.lstatSync(child).blocks * 512;
      if (entry.isDirectory()) walk(child);
    }
  };
  walk(dir);
  return bytes;
}

/** What prune printed: a line per blob and per unpacked copy removed, then the bytes. */
export function pruneReport({ removed, unpacked, freed }: PruneResult, dryRun = false): string {
  const lines = [...removed, ...unpacked.map((digest) => `unpacked ${digest}`), `${dryRun ? 'would free' : 'freed'} ${formatBytes(freed)}`];
  return `${lines.join('\n')}\n`;
}

/** Every blob a name of index.json reaches. A damaged or missing manifest keeps what it could reach out of the count, not the whole store. */
export function reachableBlobs(store: ImageStore): Set<string> {
  const reachable = new Set<string>();
  const visit = (descriptor: Descriptor): void => {
    if (reachable.has(descriptor.digest)) return;
    reachable.add(descriptor.digest);
    if (!store.hasBlob(descriptor.digest)) return;
    // A blob that is no manifest (a config or layer named directly) reaches nothing more.
    const links = manifestLinks(store.readBlob(descriptor.digest));
    if (links === undefined) return;
    links.manifests.forEach(visit);
    links.blobs.forEach((d) => reachable.add(d.digest));
  };
  for (const { descriptor } of store.references()) visit(descriptor);
  // Entries of index.json without a name (written by other tools) count too.
  for (const descriptor of store.readIndex().manifests) visit(descriptor);
  return reachable;
}
