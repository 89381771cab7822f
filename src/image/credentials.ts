// Registry credentials, looked up where podman and docker look, first match
// wins: --creds, --authfile, $REGISTRY_AUTH_FILE,
// $XDG_RUNTIME_DIR/containers/auth.json, then ~/.docker/config.json (its
// `auths`, then `credHelpers`/`credsStore` through docker-credential-NAME).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OcitsError, errnoText, isErrno } from '../errors';
import { writeFileAtomically } from '../lifecycle/write-file';

export interface Credentials {
  username: string;
  password: string;
}

export interface CredentialOptions {
  /** USER:PASS from --creds. */
  creds?: string;
  /** --authfile. */
  authFile?: string;
}

interface AuthFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** The credentials for a registry host ("127.0.0.1:5000", "docker.io"), or undefined for anonymous access. */
export function findCredentials(registry: string, options: CredentialOptions): Credentials | undefined {
  if (options.creds !== undefined) return parseCreds(options.creds);
  const explicit = options.authFile ?? nonEmpty(process.env.REGISTRY_AUTH_FILE);
  if (explicit !== undefined) {
    // A file the user named must exist; its entries decide alone.
    const file = readAuthFile(explicit, true)!;
    return fromAuths(file, registry, explicit) ?? fromHelpers(file, registry);
  }
  const candidates = [
    runtimeAuthFile(),
    path.join(nonEmpty(process.env.DOCKER_CONFIG) ?? path.join(os.homedir(), '.docker'), 'config.json'),
  ];
  for (const candidate of candidates) {
    const file = readAuthFile(candidate, false);
    if (file === undefined) continue;
    const found = fromAuths(file, registry, candidate) ?? fromHelpers(file, registry);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** podman's own auth file: $XDG_RUNTIME_DIR/containers/auth.json, else /run/containers/UID/auth.json. */
function runtimeAuthFile(): string {
  const runtimeDir = nonEmpty(process.env.XDG_RUNTIME_DIR);
  return runtimeDir !== undefined ? path.join(runtimeDir, 'containers', 'auth.json') : path.join('/run/containers', String(process.getuid?.() ?? 0), 'auth.json');
}

/** The file login writes and logout edits: --authfile, $REGISTRY_AUTH_FILE, else podman's own. */
export function loginAuthFile(authFile: string | undefined): string {
  return authFile ?? nonEmpty(process.env.REGISTRY_AUTH_FILE) ?? runtimeAuthFile();
}

/** Records credentials for a registry host in an auth file (made if missing, mode 0600), keeping its other entries. */
export function saveCredentials(file: string, registry: string, credentials: Credentials): void {
  const content = readAuthFile(file, false) ?? {};
  const auths = { ...content.auths, [registry]: { auth: Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64') } };
  writeAuthFile(file, { ...content, auths });
}

/** Removes a registry's entries from an auth file; false when it had none. */
export function removeCredentials(file: string, registry: string): boolean {
  const content = readAuthFile(file, false);
  const keys = authKeysFor(registry);
  const remaining = Object.entries(content?.auths ?? {}).filter(([key]) => !keys.includes(key.replace(/\/+$/, '')));
  if (content === undefined || remaining.length === Object.keys(content.auths ?? {}).length) return false;
  writeAuthFile(file, { ...content, auths: Object.fromEntries(remaining) });
  return true;
}

/** Credentials: only the owner reads the file. */
function writeAuthFile(file: string, content: AuthFile): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new OcitsError(`cannot write the auth file ${file}: ${errnoText(error)}`);
  }
  writeFileAtomically(file, `${JSON.stringify(content, null, '\t')}\n`, 'auth file', 0o600);
}

function parseCreds(text: string): Credentials {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new OcitsError('--creds: expected USER:PASS');
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function readAuthFile(file: string, required: boolean): AuthFile | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (!required && isErrno(error, 'ENOENT')) return undefined;
    throw new OcitsError(`cannot read the auth file ${file}: ${errnoText(error)}`);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null) throw new Error();
    return parsed as AuthFile;
  } catch {
    throw new OcitsError(`auth file ${file} is not valid JSON`);
  }
}

/** The keys an auths entry may have for this registry: "host", "https://host", "https://host/v1/" ... */
function authKeysFor(registry: string): string[] {
  const keys = [registry, `https://${registry}`, `http://${registry}`];
  if (registry === 'docker.io') keys.push('https://index.docker.io/v1/', 'index.docker.io', 'registry-1.docker.io');
  return keys;
}

function fromAuths(file: AuthFile, registry: string, where: string): Credentials | undefined {
  const auths = file.auths ?? {};
  const keys = authKeysFor(registry);
  // Keys may carry a path (podman allows per-repository entries) or a trailing slash.
  const key = Object.keys(auths).find((k) => keys.includes(k) || keys.includes(k.replace(/\/+$/, '')) || k.split('/')[0] === registry);
  if (key === undefined) return undefined;
  const entry = auths[key];
  if (entry.username !== undefined && entry.password !== undefined) return { username: entry.username, password: entry.password };
  if (entry.auth === undefined || entry.auth === '') return undefined;
  const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw new OcitsError(`auth file ${where}: the entry for ${key} is not base64 of USER:PASS`);
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function fromHelpers(file: AuthFile, registry: string): Credentials | undefined {
  const helper = file.credHelpers?.[registry] ?? file.credsStore;
  if (helper === undefined || helper === '') return undefined;
  const program = `docker-credential-${helper}`;
  const serverUrl = registry === 'docker.io' ? 'https://index.docker.io/v1/' : registry;
  const result = spawnSync(program, ['get'], { input: serverUrl, encoding: 'utf8', timeout: 30_000 });
  if (result.error !== undefined) throw new OcitsError(`credential helper ${program}: ${errnoText(result.error)}`);
  if (result.status !== 0) {
    // The protocol's answer for "no entry": no credentials from this helper.
    if (/credentials not found/i.test(result.stdout + result.stderr)) return undefined;
    const said = (result.stderr || result.stdout).trim().split('\n')[0];
    throw new OcitsError(`credential helper ${program} failed (exit status ${result.status})${said !== '' ? `: ${said}` : ''}`);
  }
  try {
    const { Username, Secret } = JSON.parse(result.stdout) as { Username?: string; Secret?: string };
    if (typeof Username !== 'string' || typeof Secret !== 'string') throw new Error();
    return { username: Username, password: Secret };
  } catch {
    throw new OcitsError(`credential helper ${program} did not answer with {"Username","Secret"}`);
  }
}
