// Reading manifests and indexes that came from a registry or the store: they
// are untrusted JSON, so every descriptor is checked (digest syntax, size)
// before anything uses it as a file name or a download length.
import { OcitsError } from '../errors';
import { isDigest } from './digest';
import {
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  INDEX_TYPES,
  MANIFEST_TYPES,
  OCI_INDEX,
  OCI_MANIFEST,
  layerCompression,
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
} from './media-types';

export type ManifestDocument = { kind: 'index'; index: ImageIndex } | { kind: 'manifest'; manifest: ImageManifest };

/** Parses a manifest or index; mediaType is the one the registry or descriptor gave, which wins over the body's. */
export function parseManifestDocument(data: Buffer, mediaType: string, what: string): ManifestDocument {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new OcitsError(`${what}: manifest is not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null) throw new OcitsError(`${what}: manifest is not a JSON object`);
  const type = INDEX_TYPES.includes(mediaType) || MANIFEST_TYPES.includes(mediaType) ? mediaType : String(parsed.mediaType ?? '');
  const isIndex = INDEX_TYPES.includes(type) || (type === '' && Array.isArray(parsed.manifests));
  const isManifest = MANIFEST_TYPES.includes(type) || (type === '' && parsed.config !== undefined);
  if (parsed.schemaVersion !== 2) {
    throw new OcitsError(`${what}: unsupported manifest schemaVersion ${JSON.stringify(parsed.schemaVersion)} (only schema 2 images are supported)`);
  }
  if (isIndex) {
    if (!Array.isArray(parsed.manifests)) throw new OcitsError(`${what}: index has no manifests list`);
    parsed.manifests.forEach((d, i) => checkDescriptor(d, `${what}: manifests[${i}]`));
    return { kind: 'index', index: parsed as unknown as ImageIndex };
  }
  if (isManifest) {
    checkDescriptor(parsed.config, `${what}: config`);
    if (!Array.isArray(parsed.layers)) throw new OcitsError(`${what}: manifest has no layers list`);
    parsed.layers.forEach((d, i) => {
      checkDescriptor(d, `${what}: layers[${i}]`);
      if (layerCompression((d as Descriptor).mediaType) === undefined) {
        throw new OcitsError(`${what}: layers[${i}] has unsupported media type "${(d as Descriptor).mediaType}"`);
      }
    });
    return { kind: 'manifest', manifest: parsed as unknown as ImageManifest };
  }
  throw new OcitsError(`${what}: unsupported manifest media type "${type}"`);
}

function checkDescriptor(value: unknown, what: string): void {
  const d = value as Partial<Descriptor> | null;
  if (typeof d !== 'object' || d === null) throw new OcitsError(`${what}: not a descriptor`);
  if (typeof d.digest !== 'string' || !isDigest(d.digest)) throw new OcitsError(`${what}: invalid digest ${JSON.stringify(d.digest)}`);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) throw new OcitsError(`${what}: invalid size ${JSON.stringify(d.size)}`);
  if (typeof d.mediaType !== 'string') throw new OcitsError(`${what}: no mediaType`);
}

/** The media type a stored manifest's descriptor gets: the one the registry served it as. */
export function descriptorMediaType(document: ManifestDocument, served: string): string {
  if (INDEX_TYPES.includes(served) || MANIFEST_TYPES.includes(served)) return served;
  if (document.kind === 'index') return document.index.mediaType === DOCKER_MANIFEST_LIST ? DOCKER_MANIFEST_LIST : OCI_INDEX;
  return document.manifest.mediaType === DOCKER_MANIFEST ? DOCKER_MANIFEST : OCI_MANIFEST;
}

/** What a manifest or index points at, read leniently: artifacts have layers of any media type. */
export interface ManifestLinks {
  /** An index's manifests. */
  manifests: Descriptor[];
  /** A manifest's config and layers. */
  blobs: Descriptor[];
  subject?: Descriptor;
}

/**
 * The descriptors a manifest or index holds, each with a valid digest (they
 * become file names); undefined for a blob that is no JSON manifest.
 */
export function manifestLinks(data: Buffer): ManifestLinks | undefined {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const descriptors = (value: unknown): Descriptor[] =>
    (Array.isArray(value) ? value : [value]).filter(
      (d): d is Descriptor => typeof d === 'object' && d !== null && typeof (d as Descriptor).digest === 'string' && isDigest((d as Descriptor).digest),
    );
  const subject = parsed.subject !== undefined ? descriptors(parsed.subject)[0] : undefined;
  return {
    manifests: Array.isArray(parsed.manifests) ? descriptors(parsed.manifests) : [],
    blobs: [...(parsed.config !== undefined ? descriptors(parsed.config) : []), ...(Array.isArray(parsed.layers) ? descriptors(parsed.layers) : [])],
    ...(subject !== undefined ? { subject } : {}),
  };
}
