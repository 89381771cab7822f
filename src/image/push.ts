// `ocits push`: an image of the store to a registry. Blobs go first, in
// parallel (--jobs): one the registry has (HEAD) is skipped, one of another
// repository of the same registry is mounted, the rest uploaded from the
// store. Manifests go last, an index's children before the index, so the
// registry never holds a name for an image it does not have whole.
import { OcitsError } from '../errors';
import { findCredentials, type CredentialOptions } from './credentials';
import { manifestLinks } from './manifest';
import type { Descriptor } from './media-types';
import { transferBlobs, type Progress } from './progress';
import { formatReference, parseReference, registryHost, type ImageReference } from './reference';
import { RegistryClient } from './registry-client';
import { findStoredReference } from './stored-image';
import type { ImageStore } from './store';

export interface PushOptions extends CredentialOptions {
  store: ImageStore;
  tlsVerify: boolean;
  jobs: number;
  progress: Progress;
}

export interface PushResult {
  /** The reference pushed to, normalized. */
  destination: string;
  /** The digest of the manifest (or index) pushed. */
  digest: string;
  /** How many blobs were sent, mounted, and found already there. */
  uploaded: number;
  mounted: number;
  skipped: number;
}

/** A manifest to send, with the blobs it needs; children of an index come before it. */
interface ManifestToPush {
  descriptor: Descriptor;
  data: Buffer;
  blobs: Descriptor[];
}

export async function pushImage(sourceText: string, destinationText: string | undefined, options: PushOptions): Promise<PushResult> {
  if (!Number.isInteger(options.jobs) || options.jobs < 1) throw new OcitsError(`--jobs must be at least 1, not ${options.jobs}`);
  const { store, progress } = options;
  const source = findStoredReference(store, sourceText);
  const destination = parseReference(destinationText ?? source.name);
  const destinationName = formatReference(destination);
  const credentials = findCredentials(destination.domain, options);
  const client = new RegistryClient(registryHost(destination), destination.path, {
    tlsVerify: options.tlsVerify,
    ...(credentials !== undefined ? { credentials } : {}),
  });
  // Keep garbage collection from the blobs while they are read.
  const release = await store.holdBlobs();
  try {
    const manifests = collectManifests(store, source.descriptor, source.name);
    const top = manifests[manifests.length - 1];
    if (destination.digest !== undefined && destination.digest !== top.descriptor.digest) {
      throw new OcitsError(`${destinationName}: ${source.name} has digest ${top.descriptor.digest}, not ${destination.digest}`);
    }
    progress.message(`pushing ${source.name} to ${destinationName}`);
    const mountFrom = mountSource(source.name, destination);
    const counts = await pushBlobs(client, store, uniqueBlobs(manifests), mountFrom, options.jobs, progress);
    for (const manifest of manifests.slice(0, -1)) await client.putManifest(manifest.descriptor.digest, manifest.data, manifest.descriptor.mediaType);
    const digest = await client.putManifest(destination.tag ?? top.descriptor.digest, top.data, top.descriptor.mediaType);
    if (digest !== top.descriptor.digest) {
      throw new OcitsError(`${destinationName}: the registry stored the manifest as ${digest}, not ${top.descriptor.digest}`);
    }
    return { destination: destinationName, digest, ...counts };
  } finally {
    release();
  }
}

/** The manifest and, for an index, its children (depth first, children first), read from the store. */
function collectManifests(store: ImageStore, descriptor: Descriptor, name: string): ManifestToPush[] {
  const result: ManifestToPush[] = [];
  const visit = (current: Descriptor, seen: Set<string>): void => {
    if (seen.has(current.digest)) return;
    seen.add(current.digest);
    if (!store.hasBlob(current.digest)) {
      throw new OcitsError(`${name}: manifest ${current.digest} is not in the store ${store.root}; pull the image again`);
    }
    const data = store.readBlob(current.digest);
    const links = manifestLinks(data);
    if (links === undefined) throw new OcitsError(`${name}: ${current.digest} in the store is not a manifest`);
    for (const child of links.manifests) visit(child, seen);
    result.push({ descriptor: current, data, blobs: links.blobs });
  };
  visit(descriptor, new Set());
  return result;
}

/** Each blob once, those with external urls (foreign layers) left to their urls. */
function uniqueBlobs(manifests: readonly ManifestToPush[]): Descriptor[] {
  const byDigest = new Map<string, Descriptor>();
  for (const manifest of manifests) for (const blob of manifest.blobs) if (blob.urls === undefined) byDigest.set(blob.digest, blob);
  return [...byDigest.values()];
}

/** The repository of the same registry the image came from, to mount its blobs from. */
function mountSource(sourceName: string, destination: ImageReference): string | undefined {
  try {
    const source = parseReference(sourceName);
    return source.domain === destination.domain && source.path !== destination.path ? source.path : undefined;
  } catch {
    return undefined;
  }
}

async function pushBlobs(
  client: RegistryClient,
  store: ImageStore,
  blobs: readonly Descriptor[],
  mountFrom: string | undefined,
  jobs: number,
  progress: Progress,
): Promise<{ uploaded: number; mounted: number; skipped: number }> {
  const counts = { uploaded: 0, mounted: 0, skipped: 0 };
  await transferBlobs(blobs, jobs, progress, async (blob) => {
    if (!store.hasBlob(blob.digest)) throw new OcitsError(`blob ${blob.digest} is not in the store ${store.root}; pull the image again`);
    if (await client.hasBlob(blob.digest)) counts.skipped++;
    else if (mountFrom !== undefined && (await client.mountBlob(blob.digest, mountFrom))) counts.mounted++;
    else {
      await client.uploadBlob(store.blobPath(blob.digest), blob);
      counts.uploaded++;
    }
  });
  return counts;
}
