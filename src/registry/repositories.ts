// The registry's view of the store: repositories, tags, manifests and
// referrers, all kept in the store's index.json so that `ocits images`,
// `bundle`, skopeo and umoci see what was pushed, and `ocits pull` fills what
// is served.
//
//   a tag         an entry named (org.opencontainers.image.ref.name) <store repository>:<tag>
//   an untagged   an entry without a name, with REPOSITORY_ANNOTATION = <store repository>:
//   manifest      one pushed by digest (a referrer, an index's child before the index)
//
// An entry whose manifest has a subject carries SUBJECT_ANNOTATION, so that
// the referrers API reads index.json, not every manifest. Blobs are shared by
// all repositories of the store.
import { parseReference, repositoryOf } from '../image/reference';
import { manifestLinks } from '../image/manifest';
import { REF_NAME_ANNOTATION, type Descriptor } from '../image/media-types';
import type { ImageStore } from '../image/store';
import { repositoryNameOf } from './names';

export const REPOSITORY_ANNOTATION = 'dev.ocits.registry.repository';
export const SUBJECT_ANNOTATION = 'dev.ocits.registry.subject';

export interface RepositoryEntry {
  /** The store repository, domain/path. */
  repository: string;
  tag?: string;
  descriptor: Descriptor;
}

/** The entries of index.json the registry can serve. */
export function repositoryEntries(store: ImageStore): RepositoryEntry[] {
  return store.readIndex().manifests.flatMap((descriptor) => {
    const entry = entryOf(descriptor);
    return entry !== undefined ? [{ ...entry, descriptor }] : [];
  });
}

/** Repository names, in lexical order. */
export function catalog(store: ImageStore): string[] {
  const names = new Set<string>();
  for (const entry of repositoryEntries(store)) {
    const name = repositoryNameOf(entry.repository);
    if (name !== undefined) names.add(name);
  }
  return [...names].sort(lexical);
}

/** The tags of a store repository in lexical order; undefined when the repository has no entry at all. */
export function tagsOf(store: ImageStore, repository: string): string[] | undefined {
  const entries = repositoryEntries(store).filter((entry) => entry.repository === repository);
  if (entries.length === 0) return undefined;
  return [...new Set(entries.flatMap((entry) => (entry.tag !== undefined ? [entry.tag] : [])))].sort(lexical);
}

/** The spec's order: lexical, case-insensitive, then by code point so that the order is total. */
export function lexical(a: string, b: string): number {
  const folded = a.toLowerCase().localeCompare(b.toLowerCase(), 'en');
  return folded !== 0 ? folded : a < b ? -1 : a > b ? 1 : 0;
}

/** The manifest a tag names in a repository. */
export function findTag(store: ImageStore, repository: string, tag: string): Descriptor | undefined {
  return repositoryEntries(store).find((entry) => entry.repository === repository && entry.tag === tag)?.descriptor;
}

/**
 * A manifest of the repository by digest: an entry's, or a child of an
 * index entry's (an image's platform manifests).
 */
export function findManifestByDigest(store: ImageStore, repository: string, digest: string): Descriptor | undefined {
  const entries = repositoryEntries(store).filter((entry) => entry.repository === repository);
  const direct = entries.find((entry) => entry.descriptor.digest === digest);
  if (direct !== undefined) return plainDescriptor(direct.descriptor);
  const seen = new Set<string>();
  const search = (descriptor: Descriptor): Descriptor | undefined => {
    if (seen.has(descriptor.digest) || !store.hasBlob(descriptor.digest)) return undefined;
    seen.add(descriptor.digest);
    for (const child of manifestLinks(store.readBlob(descriptor.digest))?.manifests ?? []) {
      if (child.digest === digest) return plainDescriptor(child);
      const deeper = search(child);
      if (deeper !== undefined) return deeper;
    }
    return undefined;
  };
  for (const entry of entries) {
    const found = search(entry.descriptor);
    if (found !== undefined) return found;
  }
  return undefined;
}

function plainDescriptor(descriptor: Descriptor): Descriptor {
  return { mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size };
}

export interface StoredManifest {
  descriptor: Descriptor;
  /** The subject's digest, for the referrers API. */
  subject?: string;
  artifactType?: string;
}

/**
 * Records a pushed manifest (its blob already stored): under a tag, or
 * untagged. A tagged index takes over its children's untagged entries, which
 * it now reaches.
 */
export function recordManifest(store: ImageStore, repository: string, tag: string | undefined, manifest: StoredManifest): void {
  const children = new Set((manifestLinks(store.readBlob(manifest.descriptor.digest))?.manifests ?? []).map((d) => d.digest));
  const annotations: Record<string, string> = {
    ...(tag !== undefined ? { [REF_NAME_ANNOTATION]: `${repository}:${tag}` } : { [REPOSITORY_ANNOTATION]: repository }),
    ...(manifest.subject !== undefined ? { [SUBJECT_ANNOTATION]: manifest.subject } : {}),
  };
  const entry: Descriptor = {
    ...plainDescriptor(manifest.descriptor),
    ...(manifest.artifactType !== undefined ? { artifactType: manifest.artifactType } : {}),
    annotations,
  };
  store.updateIndex((manifests) => {
    const current = manifests.map((descriptor) => ({ descriptor, entry: entryOf(descriptor) }));
    if (tag === undefined && current.some((c) => c.entry?.repository === repository && c.descriptor.digest === entry.digest)) return manifests;
    const kept = current.filter(({ descriptor, entry: e }) => {
      if (e === undefined || e.repository !== repository) return true;
      if (tag !== undefined && e.tag === tag) return false;
      // Reached through a tag of this repository now: no untagged entry needed.
      if (e.tag === undefined && tag !== undefined && (descriptor.digest === entry.digest || children.has(descriptor.digest))) return false;
      return true;
    });
    return [...kept.map((k) => k.descriptor), entry];
  });
}

/** Removes a tag; false when the repository has no such tag. */
export function removeTag(store: ImageStore, repository: string, tag: string): boolean {
  let removed = false;
  store.updateIndex((manifests) =>
    manifests.filter((descriptor) => {
      const entry = entryOf(descriptor);
      const match = entry?.repository === repository && entry.tag === tag;
      removed ||= match;
      return !match;
    }),
  );
  return removed;
}

/** Removes every entry of the repository for the manifest (its tags too); false when there was none. */
export function removeManifest(store: ImageStore, repository: string, digest: string): boolean {
  let removed = false;
  store.updateIndex((manifests) =>
    manifests.filter((descriptor) => {
      const match = descriptor.digest === digest && entryOf(descriptor)?.repository === repository;
      removed ||= match;
      return !match;
    }),
  );
  return removed;
}

/** The referrers of a digest in a repository, as the referrers API lists them (artifactType, annotations). */
export function referrersOf(store: ImageStore, repository: string, digest: string): Descriptor[] {
  const seen = new Set<string>();
  const referrers: Descriptor[] = [];
  for (const entry of repositoryEntries(store)) {
    const { descriptor } = entry;
    if (entry.repository !== repository || descriptor.annotations?.[SUBJECT_ANNOTATION] !== digest || seen.has(descriptor.digest)) continue;
    if (!store.hasBlob(descriptor.digest)) continue;
    seen.add(descriptor.digest);
    const annotations = manifestAnnotations(store.readBlob(descriptor.digest));
    referrers.push({
      ...plainDescriptor(descriptor),
      ...(descriptor.artifactType !== undefined ? { artifactType: descriptor.artifactType } : {}),
      ...(annotations !== undefined ? { annotations } : {}),
    });
  }
  return referrers;
}

function manifestAnnotations(data: Buffer): Record<string, string> | undefined {
  try {
    const parsed = JSON.parse(data.toString('utf8')) as { annotations?: Record<string, string> };
    return typeof parsed.annotations === 'object' && parsed.annotations !== null ? parsed.annotations : undefined;
  } catch {
    return undefined;
  }
}

/** Where an index.json entry belongs; undefined for one of another tool ("deb") or of nothing. */
function entryOf(descriptor: Descriptor): { repository: string; tag?: string } | undefined {
  const name = descriptor.annotations?.[REF_NAME_ANNOTATION];
  if (name === undefined) {
    const repository = descriptor.annotations?.[REPOSITORY_ANNOTATION];
    return repository !== undefined ? { repository } : undefined;
  }
  try {
    const reference = parseReference(name);
    return { repository: repositoryOf(reference), ...(reference.tag !== undefined ? { tag: reference.tag } : {}) };
  } catch {
    return undefined;
  }
}
