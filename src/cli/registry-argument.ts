// The REGISTRY argument of login and logout: a host with an optional port,
// as auth.json keys it ("docker.io" for Docker Hub's several names).
import { OcitsError } from '../errors';
import { DOCKER_HUB, parseReference } from '../image/reference';

const DOCKER_HUB_ALIASES = ['index.docker.io', 'registry-1.docker.io', 'docker.io'];

export function registryArgument(text: string): string {
  const host = text.replace(/^https?:\/\//, '').replace(/\/+(v1\/?|v2\/?)?$/, '');
  if (DOCKER_HUB_ALIASES.includes(host)) return DOCKER_HUB;
  let domain: string | undefined;
  try {
    domain = parseReference(`${host}/x`).domain;
  } catch {
    domain = undefined;
  }
  if (domain !== host) throw new OcitsError(`"${text}" is not a registry host (such as 127.0.0.1:5000 or quay.io)`);
  return host;
}
