// Image references as docker and podman read them (distribution's reference
// grammar): `busybox` is docker.io/library/busybox:latest, a first component
// with a dot or a port, or `localhost`, is a registry host, and a digest pins
// the content. The full normalized form is what the store records as a name.
import { OcitsError } from '../errors';

export const DOCKER_HUB = 'docker.io';
/** Where docker.io's registry API actually answers. */
const DOCKER_HUB_API = 'registry-1.docker.io';

export interface ImageReference {
  /** The registry host as written, normalized: "docker.io", "127.0.0.1:5000". */
  domain: string;
  /** The repository path: "library/busybox", "test/deb". */
  path: string;
  tag?: string;
  digest?: string;
}

// distribution/reference's regular expressions, anchored.
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]+)?$`);
const PATH = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const SHA256 = /^sha256:[a-f0-9]{64}$/;
const SHA512 = /^sha512:[a-f0-9]{128}$/;
/** Most clients limit host/path to 255 characters. */
export const MAX_NAME_LENGTH = 255;

/** A repository path by the grammar: lower-case components joined by "/". */
export function isRepositoryPath(text: string): boolean {
  return PATH.test(text);
}

export function isTag(text: string): boolean {
  return TAG.test(text);
}

/** Parses and normalizes a reference; throws an OcitsError naming it when it is malformed. */
export function parseReference(text: string): ImageReference {
  const bad = (why: string): never => {
    throw new OcitsError(`invalid image reference "${text}": ${why}`);
  };
  if (text === '') bad('empty');
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    checkDigest(digest, bad);
  }
  let tag: string | undefined;
  // A colon after the last slash starts the tag; one before it is a port.
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) bad(`invalid tag "${tag}"`);
  }
  let domain = DOCKER_HUB;
  let path = rest;
  const slash = rest.indexOf('/');
  const first = slash === -1 ? '' : rest.slice(0, slash);
  if (slash !== -1 && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase())) {
    domain = first;
    path = rest.slice(slash + 1);
    if (!DOMAIN.test(domain)) bad(`invalid registry host "${domain}"`);
  }
  if (domain === 'index.docker.io') domain = DOCKER_HUB;
  if (path !== path.toLowerCase() && PATH.test(path.toLowerCase())) bad('repository name must be lowercase');
  if (!PATH.test(path)) bad(`invalid repository name "${path}"`);
  if (domain === DOCKER_HUB && !path.includes('/')) path = `library/${path}`;
  if (domain.length + 1 + path.length > MAX_NAME_LENGTH) bad(`repository name longer than ${MAX_NAME_LENGTH} characters`);
  if (tag === undefined && digest === undefined) tag = 'latest';
  return { domain, path, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

function checkDigest(digest: string, bad: (why: string) => never): void {
  if (!DIGEST.test(digest)) bad(`invalid digest "${digest}"`);
  const algorithm = digest.slice(0, digest.indexOf(':'));
  if (algorithm === 'sha256' && !SHA256.test(digest)) bad(`invalid sha256 digest "${digest}"`);
  if (algorithm === 'sha512' && !SHA512.test(digest)) bad(`invalid sha512 digest "${digest}"`);
  if (algorithm !== 'sha256' && algorithm !== 'sha512') bad(`unsupported digest algorithm "${algorithm}"`);
}

/** "docker.io/library/busybox:latest", "127.0.0.1:5000/test/deb@sha256:...". */
export function formatReference(reference: ImageReference): string {
  return `${repositoryOf(reference)}${reference.tag !== undefined ? `:${reference.tag}` : ''}${
    reference.digest !== undefined ? `@${reference.digest}` : ''
  }`;
}

/** "docker.io/library/busybox": the name without tag or digest. */
export function repositoryOf(reference: ImageReference): string {
  return `${reference.domain}/${reference.path}`;
}

/** The host:port that serves the registry API for this reference's domain. */
export function registryHost(reference: ImageReference): string {
  return reference.domain === DOCKER_HUB ? DOCKER_HUB_API : reference.domain;
}

/** The full normalized form of a reference given on the command line. */
export function normalizeReference(text: string): string {
  return formatReference(parseReference(text));
}
