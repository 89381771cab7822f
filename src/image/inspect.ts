// `ocits inspect REF`: what the store holds for a name, as JSON: the
// manifest (and the index it came from), and the image config.
import type { ImageStore } from './store';
import { findStoredReference, loadStoredImage } from './stored-image';

export function inspectImage(store: ImageStore, text: string, platform?: string): Record<string, unknown> {
  const { descriptor: named } = findStoredReference(store, text);
  const image = loadStoredImage(store, text, platform);
  return {
    name: image.name,
    digest: image.descriptor.digest,
    mediaType: image.descriptor.mediaType,
    ...(named.digest !== image.descriptor.digest ? { index: { digest: named.digest, mediaType: named.mediaType, index: store.readJsonBlob(named.digest) } } : {}),
    manifest: image.manifest,
    config: image.config,
  };
}
