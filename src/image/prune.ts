// Garbage collection of the store: blobs that no name in index.json reaches
// (through indexes, manifests, configs and layers), and partial downloads no
// process is writing. It runs while no pull or bundle holds the store's
// blobs (ImageStore.holdBlobs), so it never takes a blob a pull is about to name.
import { OcitsError } from '../errors';
import { parseManifestDocument } from './manifest';
import type { Descriptor } from './media-types';
import type { ImageStore } from './store';

export interface PruneResult {
  /** Digests of the blobs removed. */
  removed: string[];
  /** Bytes freed, blobs and partial downloads together. */
  freed: number;
}

export function pruneStore(store: ImageStore): PruneResult {
  if (!store.exists()) return { removed: [], freed: 0 };
  return store.withBlobsExclusive(() => {
    const reachable = reachableBlobs(store);
    const removed: string[] = [];
    let freed = store.removeStaleIngests();
    for (const digest of store.listBlobs()) {
      if (reachable.has(digest)) continue;
      freed += store.blobSize(digest);
      store.removeBlob(digest);
      removed.push(digest);
    }
    return { removed, freed };
  });
}

/** Every blob a name of index.json reaches. A damaged or missing manifest keeps what it could reach out of the count, not the whole store. */
export function reachableBlobs(store: ImageStore): Set<string> {
  const reachable = new Set<string>();
  const visit = (descriptor: Descriptor): void => {
    if (reachable.has(descriptor.digest)) return;
    reachable.add(descriptor.digest);
    if (!store.hasBlob(descriptor.digest)) return;
    let document;
    try {
      document = parseManifestDocument(store.readBlob(descriptor.digest), descriptor.mediaType, descriptor.digest);
    } catch (error) {
      // A blob that is no manifest (a config or layer named directly) reaches nothing more.
      if (error instanceof OcitsError) return;
      throw error;
    }
    if (document.kind === 'index') document.index.manifests.forEach(visit);
    else [document.manifest.config, ...document.manifest.layers].forEach((d) => reachable.add(d.digest));
  };
  for (const { descriptor } of store.references()) visit(descriptor);
  // Entries of index.json without a name (written by other tools) count too.
  for (const descriptor of store.readIndex().manifests) visit(descriptor);
  return reachable;
}
