// Finding an image in the store by the name a user types: the name exactly
// as index.json has it (a layout written by another tool may say "deb"), or
// its full normalized form (busybox -> docker.io/library/busybox:latest).
import { OcitsError } from '../errors';
import { parseManifestDocument } from './manifest';
import type { Descriptor, ImageConfig, ImageManifest } from './media-types';
import { formatPlatform, hostPlatform, parsePlatform, platformMatches, platformOfConfig, selectManifest } from './platform';
import { normalizeReference } from './reference';
import type { ImageStore, StoreReference } from './store';

export interface StoredImage {
  name: string;
  /** The image manifest's descriptor (the platform's, when the name is an index). */
  descriptor: Descriptor;
  manifest: ImageManifest;
  config: ImageConfig;
}

export function findStoredReference(store: ImageStore, text: string): StoreReference {
  const exact = store.findReference(text);
  if (exact !== undefined) return exact;
  const normalized = normalizeReference(text);
  const found = store.findReference(normalized);
  if (found === undefined) throw new OcitsError(`image ${normalized} is not in the store ${store.root}; pull it first`);
  return found;
}

/** The image a name stands for, its manifest and config read and checked; platformText picks from an index. */
export function loadStoredImage(store: ImageStore, text: string, platformText?: string): StoredImage {
  const { name, descriptor: named } = findStoredReference(store, text);
  const wanted = platformText !== undefined ? parsePlatform(platformText) : hostPlatform();
  let descriptor = named;
  let document = parseManifestDocument(store.readBlob(descriptor.digest), descriptor.mediaType, name);
  if (document.kind === 'index') {
    descriptor = selectManifest(document.index.manifests, wanted, name);
    document = parseManifestDocument(store.readBlob(descriptor.digest), descriptor.mediaType, name);
    if (document.kind !== 'manifest') throw new OcitsError(`${name}: the index entry ${descriptor.digest} is an index itself, not an image`);
  }
  const config = store.readJsonBlob<ImageConfig>(document.manifest.config.digest);
  if (typeof config !== 'object' || config === null || !Array.isArray(config.rootfs?.diff_ids)) {
    throw new OcitsError(`${name}: image config ${document.manifest.config.digest} has no rootfs.diff_ids`);
  }
  if (config.rootfs.diff_ids.length !== document.manifest.layers.length) {
    throw new OcitsError(`${name}: the manifest has ${document.manifest.layers.length} layers but the config ${config.rootfs.diff_ids.length} diff_ids`);
  }
  const platform = platformOfConfig(config);
  if (platformText !== undefined && !platformMatches(wanted, platform)) {
    throw new OcitsError(`${name} is for ${formatPlatform(platform)}, not ${formatPlatform(wanted)}; pull it with --platform ${platformText}`);
  }
  return { name, descriptor, manifest: document.manifest, config };
}
