// What a pushed manifest must be before the store takes it: JSON of a type
// the registry serves, valid against image-spec's schema for that type
// (compiled ahead of time, src/spec/schema.ts), its mediaType field agreeing
// with its Content-Type, and every blob and manifest it references present.
// Its subject need not exist (the spec lets referrers come first).
import { INDEX_TYPES, MANIFEST_TYPES, OCI_INDEX, OCI_MANIFEST, type Descriptor } from '../image/media-types';
import type { ImageStore } from '../image/store';
import { formatProblem } from '../spec/problems';
import { schemaProblems } from '../spec/schema';
import { RegistryError, RegistryErrors } from './errors';

export interface CheckedManifest {
  mediaType: string;
  kind: 'manifest' | 'index';
  subject?: Descriptor;
  /** For the referrers API: the artifactType, else a manifest's config media type. */
  artifactType?: string;
}

const invalid = (message: string, detail?: unknown): RegistryError => new RegistryError(400, 'MANIFEST_INVALID', message, detail);

export function checkManifest(store: ImageStore, data: Buffer, contentType: string): CheckedManifest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString('utf8'));
  } catch {
    throw invalid('manifest is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid('manifest is not a JSON object');
  const document = parsed as { mediaType?: unknown; manifests?: unknown; config?: Descriptor; layers?: Descriptor[]; subject?: Descriptor; artifactType?: unknown };
  const declared = typeof document.mediaType === 'string' ? document.mediaType : undefined;
  const given = contentType === '' || contentType === 'application/octet-stream' ? undefined : contentType;
  if (declared !== undefined && given !== undefined && declared !== given) {
    throw invalid(`the manifest's mediaType ${declared} differs from its Content-Type ${given}`);
  }
  const mediaType = given ?? declared ?? (Array.isArray(document.manifests) ? OCI_INDEX : OCI_MANIFEST);
  const kind = INDEX_TYPES.includes(mediaType) ? 'index' : MANIFEST_TYPES.includes(mediaType) ? 'manifest' : undefined;
  if (kind === undefined) {
    throw invalid(`unsupported manifest media type ${mediaType}; this registry takes ${[...MANIFEST_TYPES, ...INDEX_TYPES].join(', ')}`);
  }
  const problems = schemaProblems(kind === 'index' ? 'imageIndex' : 'imageManifest', document);
  if (problems.length > 0) throw invalid(`manifest does not match the image-spec schema: ${problems.map(formatProblem).slice(0, 5).join('; ')}`, problems);
  const references =
    kind === 'index' ? (document.manifests as Descriptor[]) : [document.config!, ...document.layers!.filter((layer) => layer.urls === undefined)];
  const missing = references.filter((descriptor) => !isStored(store, descriptor));
  if (missing.length > 0) {
    throw new RegistryErrors(
      missing.map((d) => new RegistryError(400, 'MANIFEST_BLOB_UNKNOWN', `manifest references ${d.digest}, which the registry does not have`, { digest: d.digest })),
    );
  }
  const artifactType = typeof document.artifactType === 'string' ? document.artifactType : kind === 'manifest' ? document.config!.mediaType : undefined;
  return {
    mediaType,
    kind,
    ...(document.subject !== undefined ? { subject: document.subject } : {}),
    ...(artifactType !== undefined ? { artifactType } : {}),
  };
}

/** Present with the size the descriptor claims; a digest of another algorithm than ours is simply unknown. */
function isStored(store: ImageStore, descriptor: Descriptor): boolean {
  try {
    return store.hasBlob(descriptor.digest) && store.blobSize(descriptor.digest) === descriptor.size;
  } catch {
    return false;
  }
}
