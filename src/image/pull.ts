// `ocits pull`: a reference's manifest (the platform's, from an index),
// config and layers into the store, then its name in index.json. Layers
// download in parallel (--jobs); the name is written last, so a pull that
// fails or is killed never names an incomplete image.
import { OcitsError } from '../errors';
import { findCredentials, type CredentialOptions } from './credentials';
import { descriptorMediaType, parseManifestDocument } from './manifest';
import type { ImageConfig, ImageManifest, Platform } from './media-types';
import { formatPlatform, hostPlatform, parsePlatform, platformMatches, platformOfConfig, selectManifest } from './platform';
import { transferBlobs, type Progress } from './progress';
import { formatReference, parseReference, registryHost } from './reference';
import { RegistryClient } from './registry-client';
import type { ImageStore } from './store';

export interface PullOptions extends CredentialOptions {
  store: ImageStore;
  /** os/arch[/variant]; the host's by default. */
  platform?: string;
  tlsVerify: boolean;
  jobs: number;
  progress: Progress;
}

export interface PullResult {
  /** The full normalized reference the image is stored under. */
  name: string;
  /** The digest of the image manifest stored. */
  digest: string;
}

export async function pullImage(referenceText: string, options: PullOptions): Promise<PullResult> {
  const reference = parseReference(referenceText);
  const platform = options.platform !== undefined ? parsePlatform(options.platform) : hostPlatform();
  if (!Number.isInteger(options.jobs) || options.jobs < 1) throw new OcitsError(`--jobs must be at least 1, not ${options.jobs}`);
  const name = formatReference(reference);
  const credentials = findCredentials(reference.domain, options);
  const client = new RegistryClient(registryHost(reference), reference.path, {
    tlsVerify: options.tlsVerify,
    ...(credentials !== undefined ? { credentials } : {}),
  });
  const { store, progress } = options;
  progress.message(`pulling ${name}`);

  let fetched = await client.getManifest(reference.digest ?? reference.tag!);
  let document = parseManifestDocument(fetched.data, fetched.mediaType, name);
  const top = document;
  if (document.kind === 'index') {
    const chosen = selectManifest(document.index.manifests, platform, name);
    fetched = await client.getManifest(chosen.digest);
    document = parseManifestDocument(fetched.data, chosen.mediaType, `${name} (${chosen.digest})`);
    if (document.kind !== 'manifest') throw new OcitsError(`${name}: the index entry ${chosen.digest} is an index itself, not an image`);
  }
  const manifest: ImageManifest = document.manifest;

  // Blobs no name reaches yet: garbage collection waits until the name is written.
  const release = await store.holdBlobs();
  try {
    if (!store.hasBlob(manifest.config.digest)) store.putBlob(await client.getBlob(manifest.config), manifest.config.digest);
    if (document === top) warnOnOtherPlatform(store.readJsonBlob<ImageConfig>(manifest.config.digest), platform, name, progress);
    await transferBlobs(manifest.layers, options.jobs, progress, (layer, onBytes) => client.downloadBlob(store, layer, onBytes));
    const digest = store.putBlob(fetched.data, fetched.digest);
    store.setReference(name, { mediaType: descriptorMediaType(document, fetched.mediaType), digest, size: fetched.data.length });
    return { name, digest };
  } finally {
    release();
  }
}

/**
 * A single-platform image for another platform is pulled all the same, as
 * podman does, with a warning: it may still be wanted (bundle checks again).
 */
function warnOnOtherPlatform(config: ImageConfig, wanted: Platform, name: string, progress: Progress): void {
  const platform = platformOfConfig(config);
  if (!platformMatches(wanted, platform)) {
    progress.message(`warning: ${name} is for ${formatPlatform(platform)}, not ${formatPlatform(wanted)}`);
  }
}
