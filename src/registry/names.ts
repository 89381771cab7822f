// What a request may name, checked before anything becomes a file name or an
// index.json entry: repository names and tags by the distribution-spec's
// grammar, digests by image-spec's (sha256 and sha512). The path is read
// undecoded, so "%2e%2e" is as invalid as "..".
//
// How repositories map onto the store (README, "Serving the store"): the
// store names images by full reference, domain/path:tag. A repository whose
// first component is a host (it has a dot, or is localhost; host_PORT for a
// host with a port, since a name cannot hold ":") is that host's image; any
// other repository is a local one, localhost/<name>, as podman names images
// of its own.
import { RegistryError } from './errors';
import { parseDigest, type ParsedDigest } from '../image/digest';
import { MAX_NAME_LENGTH, isRepositoryPath, isTag } from '../image/reference';

const LOCAL_DOMAIN = 'localhost';
const HOST_WITH_PORT = /^(.*)_([0-9]{1,5})$/;

export function checkRepositoryName(name: string): string {
  if (name.length > MAX_NAME_LENGTH || !isRepositoryPath(name)) {
    throw new RegistryError(400, 'NAME_INVALID', 'invalid repository name', { name: name.slice(0, 300) });
  }
  return name;
}

/** A digest from a URL or query: DIGEST_INVALID (400) unless it is sha256 or sha512 of the right length. */
export function checkDigest(text: string): ParsedDigest & { digest: string } {
  try {
    return { ...parseDigest(text), digest: text };
  } catch {
    throw new RegistryError(400, 'DIGEST_INVALID', 'invalid digest: only sha256 and sha512 digests of lower-case hex are accepted', {
      digest: text.slice(0, 200),
    });
  }
}

/** A manifest reference: a digest (it has a colon) or a tag. */
export function checkManifestReference(reference: string): { digest: string } | { tag: string } {
  if (reference.includes(':')) return { digest: checkDigest(reference).digest };
  if (!isTag(reference)) throw new RegistryError(400, 'MANIFEST_INVALID', 'invalid tag', { tag: reference.slice(0, 200) });
  return { tag: reference };
}

function isHostComponent(component: string): boolean {
  return component.includes('.') || component === LOCAL_DOMAIN;
}

/** The store repository (domain/path) a repository name stands for. */
export function storeRepositoryOf(name: string): string {
  const slash = name.indexOf('/');
  const first = slash === -1 ? name : name.slice(0, slash);
  const withPort = HOST_WITH_PORT.exec(first);
  if (slash !== -1 && withPort !== null && isHostComponent(withPort[1])) return `${withPort[1]}:${withPort[2]}${name.slice(slash)}`;
  if (slash !== -1 && isHostComponent(first)) return name;
  return `${LOCAL_DOMAIN}/${name}`;
}

/** The repository name a store repository is served as; undefined for one no repository name can spell. */
export function repositoryNameOf(storeRepository: string): string | undefined {
  const slash = storeRepository.indexOf('/');
  if (slash === -1) return undefined;
  const domain = storeRepository.slice(0, slash);
  const path = storeRepository.slice(slash + 1);
  const candidates = [
    ...(domain === LOCAL_DOMAIN ? [path] : []),
    /^[a-z0-9.-]+:[0-9]{1,5}$/.test(domain) ? `${domain.replace(':', '_')}/${path}` : `${domain}/${path}`,
  ];
  return candidates.find((name) => isRepositoryPath(name) && name.length <= MAX_NAME_LENGTH && storeRepositoryOf(name) === storeRepository);
}
