// A distribution-spec client for one repository: manifests and blobs over
// HTTPS (or plain HTTP with tlsVerify false), with anonymous, Basic and
// Bearer-token auth as the registry's WWW-Authenticate challenge asks,
// retries with backoff on network errors, 5xx and 429, redirects, blobs
// streamed to disk with their size and digest checked as they arrive (pull),
// and blobs streamed from the store, mounts and manifests sent (push).
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { OcitsError, errnoCode, errnoText, messageOf } from '../errors';
import type { Credentials } from './credentials';
import { hashFile, writeAt } from './blob-file';
import { Digester, digestOf, parseDigest } from './digest';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST, type Descriptor } from './media-types';
import type { ImageStore, Ingest } from './store';

export interface RegistryClientOptions {
  /** False allows plain HTTP and unverified TLS. */
  tlsVerify: boolean;
  credentials?: Credentials;
  /** Attempts per request on network errors, 5xx and 429. */
  attempts?: number;
  /** First backoff between attempts, doubled each time. */
  backoffMs?: number;
}

export interface FetchedManifest {
  data: Buffer;
  mediaType: string;
  digest: string;
}

const MANIFEST_ACCEPT = [OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST].join(', ');
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MAX_REDIRECTS = 5;
const IDLE_TIMEOUT_MS = 60_000;
const RETRIABLE_STATUS = new Set([429, 500, 502, 503, 504]);

// Keep-alive: a pull makes many requests to one host.
const httpAgent = new http.Agent({ keepAlive: true });
const httpsAgent = new https.Agent({ keepAlive: true });
const insecureHttpsAgent = new https.Agent({ keepAlive: true, rejectUnauthorized: false });

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** An HTTP answer whose body is still to be read (or drained). */
type Response = http.IncomingMessage;

/** What a request sends: bytes, or a file streamed (again on a retry). */
type RequestBody = Buffer | { file: string; size: number };

/** A failure worth another attempt: the network, or a status the registry asks us to retry. */
class TransientError extends Error {}

export class RegistryClient {
  private readonly attempts: number;
  private readonly backoffMs: number;
  /** "https" or "http"; with tlsVerify false, settled by the first request that connects. */
  private scheme: 'https' | 'http' | undefined;
  private authorization: string | undefined;
  /** Bearer tokens by scope, so that each scope costs one token request. */
  private readonly tokens = new Map<string, string>();

  constructor(
    readonly host: string,
    readonly repository: string,
    private readonly options: RegistryClientOptions,
  ) {
    this.attempts = options.attempts ?? 4;
    this.backoffMs = options.backoffMs ?? 500;
    if (options.tlsVerify) this.scheme = 'https';
  }

  /** Fetches a manifest or index by tag or digest; a digest reference is verified against the content. */
  async getManifest(reference: string): Promise<FetchedManifest> {
    const what = `${this.host}/${this.repository}${reference.includes(':') ? '@' : ':'}${reference}`;
    const response = await this.request('GET', `/v2/${this.repository}/manifests/${reference}`, { Accept: MANIFEST_ACCEPT }, what);
    const data = await readBody(response, MAX_MANIFEST_BYTES, `manifest of ${what}`);
    const mediaType = (response.headers['content-type'] ?? '').split(';')[0].trim() || mediaTypeInside(data);
    const expected = reference.includes(':') ? reference : undefined;
    const digest = digestOf(data, expected !== undefined ? parseDigest(expected).algorithm : 'sha256');
    if (expected !== undefined && digest !== expected) {
      throw new OcitsError(`manifest ${what}: content has digest ${digest}`);
    }
    return { data, mediaType, digest };
  }

  /** Fetches a small blob (a config) whole and verifies it. */
  async getBlob(descriptor: Descriptor): Promise<Buffer> {
    const response = await this.request('GET', `/v2/${this.repository}/blobs/${descriptor.digest}`, {}, `blob ${descriptor.digest}`);
    const data = await readBody(response, descriptor.size, `blob ${descriptor.digest}`);
    if (data.length !== descriptor.size) {
      throw new OcitsError(`blob ${descriptor.digest}: ${data.length} bytes received, ${descriptor.size} expected`);
    }
    const digest = digestOf(data, parseDigest(descriptor.digest).algorithm);
    if (digest !== descriptor.digest) throw new OcitsError(`blob ${descriptor.digest}: content has digest ${digest}`);
    return data;
  }

  /**
   * Downloads a blob into the store: resumes a partial download with a Range
   * request, checks size and digest as bytes arrive, and commits only a
   * verified blob. A mismatch removes the partial file and names the digest.
   * onProgress gets the bytes held so far.
   */
  async downloadBlob(store: ImageStore, descriptor: Descriptor, onProgress: (bytes: number) => void): Promise<void> {
    const { digest, size } = descriptor;
    const algorithm = parseDigest(digest).algorithm;
    for (let attempt = 1; ; attempt++) {
      const ingest = await store.beginIngest(digest);
      if (ingest === undefined) {
        onProgress(size);
        return;
      }
      try {
        await this.downloadInto(ingest, descriptor, algorithm, onProgress);
        store.commitIngest(ingest);
        return;
      } catch (error) {
        const network = isNetworkError(error);
        // A dropped connection keeps its bytes for the next attempt's Range request; bad content goes.
        store.abortIngest(ingest, error instanceof OcitsError);
        if (!network) throw error instanceof OcitsError ? error : new OcitsError(`blob ${digest}: ${errnoText(error)}`);
        if (attempt >= this.attempts) throw wrapNetworkError(error, `blob ${digest}`);
        await sleep(this.backoffMs * 2 ** (attempt - 1));
      }
    }
  }

  private async downloadInto(ingest: Ingest, descriptor: Descriptor, algorithm: 'sha256' | 'sha512', onProgress: (bytes: number) => void): Promise<void> {
    const { digest, size } = descriptor;
    const digester = new Digester(algorithm);
    let offset = Math.min(ingest.offset, size);
    if (offset > 0) hashFile(ingest.fd, digester, offset);
    if (offset < size) {
      const headers: Record<string, string> = offset > 0 ? { Range: `bytes=${offset}-` } : {};
      const response = await this.request('GET', `/v2/${this.repository}/blobs/${digest}`, headers, `blob ${digest}`);
      if (offset > 0 && !(response.statusCode === 206 && contentRangeStart(response) === offset)) {
        // The registry sent the whole blob: start over.
        offset = 0;
        digester.reset();
        fs.ftruncateSync(ingest.fd, 0);
      } else if (offset === 0) {
        fs.ftruncateSync(ingest.fd, 0);
      }
      onProgress(offset);
      for await (const chunk of response as AsyncIterable<Buffer>) {
        if (offset + chunk.length > size) {
          response.destroy();
          throw new OcitsError(`blob ${digest}: the registry sent more than its ${size} bytes`);
        }
        digester.update(chunk);
        await writeAt(ingest.fd, chunk, offset);
        offset += chunk.length;
        onProgress(offset);
      }
      if (offset < size) throw new TransientError(`blob ${digest}: connection closed after ${offset} of ${size} bytes`);
    }
    const actual = digester.digest();
    if (actual !== digest) throw new OcitsError(`blob ${digest}: downloaded content has digest ${actual}; the partial blob was removed`);
  }

  /** Checks that the registry takes our credentials (GET /v2/, as podman login does); a refusal throws. */
  async checkCredentials(): Promise<void> {
    const response = await this.request('GET', '/v2/', {}, `login to ${this.host}`);
    response.resume();
  }

  // ---------------------------------------------------------------- push

  /** Whether the registry has the blob (HEAD). */
  async hasBlob(digest: string): Promise<boolean> {
    const response = await this.request('HEAD', `/v2/${this.repository}/blobs/${digest}`, {}, `blob ${digest}`, undefined, [404]);
    response.resume();
    return response.statusCode !== 404;
  }

  /** Asks the registry to mount the blob from another of its repositories; false when it would rather have it uploaded. */
  async mountBlob(digest: string, from: string): Promise<boolean> {
    const query = `mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`;
    const response = await this.request('POST', `/v2/${this.repository}/blobs/uploads/?${query}`, { 'Content-Length': '0' }, `mount of blob ${digest}`);
    response.resume();
    if (response.statusCode === 201) return true;
    // It opened an upload session instead: close it, the upload opens its own.
    const location = response.headers.location;
    if (location !== undefined) {
      await this.request('DELETE', this.samePathOf(location, digest), {}, `upload of blob ${digest}`, undefined, [404]).then(
        (answer) => answer.resume(),
        () => undefined,
      );
    }
    return false;
  }

  /** Uploads a blob of the store: POST for a session, then one PUT with the whole blob and its digest. */
  async uploadBlob(file: string, descriptor: Descriptor): Promise<void> {
    const what = `upload of blob ${descriptor.digest}`;
    const started = await this.request('POST', `/v2/${this.repository}/blobs/uploads/`, { 'Content-Length': '0' }, what);
    started.resume();
    const location = started.headers.location;
    if (location === undefined) throw new OcitsError(`${what}: registry ${this.host} gave no upload location`);
    const target = this.samePathOf(location, descriptor.digest);
    const put = await this.request(
      'PUT',
      `${target}${target.includes('?') ? '&' : '?'}digest=${encodeURIComponent(descriptor.digest)}`,
      { 'Content-Type': 'application/octet-stream', 'Content-Length': String(descriptor.size) },
      what,
      { file, size: descriptor.size },
    );
    put.resume();
  }

  /** Sends a manifest under a tag or its digest; returns the digest the registry reports, else ours. */
  async putManifest(reference: string, data: Buffer, mediaType: string): Promise<string> {
    const what = `manifest ${this.host}/${this.repository}${reference.includes(':') ? '@' : ':'}${reference}`;
    const response = await this.request(
      'PUT',
      `/v2/${this.repository}/manifests/${reference}`,
      { 'Content-Type': mediaType, 'Content-Length': String(data.length) },
      what,
      data,
    );
    response.resume();
    const reported = response.headers['docker-content-digest'];
    return typeof reported === 'string' && reported !== '' ? reported : digestOf(data);
  }

  /** The path and query of an upload Location (absolute or relative); uploads go to this registry only. */
  private samePathOf(location: string, digest: string): string {
    const base = `${this.scheme ?? 'https'}://${this.host}`;
    const url = new URL(location, base);
    if (url.host !== this.host) throw new OcitsError(`upload of blob ${digest}: registry ${this.host} sends uploads to ${url.host}, which ocits does not do yet`);
    return `${url.pathname}${url.search}`;
  }

  // ---------------------------------------------------------------- HTTP

  /**
   * One request with auth, redirects and retries; resolves to a 2xx answer
   * whose body the caller reads. what names the object in errors.
   */
  private async request(
    method: string,
    pathAndQuery: string,
    headers: Record<string, string>,
    what: string,
    body?: RequestBody,
    /** Statuses besides 2xx the caller handles (404 of a HEAD). */
    alsoFine: readonly number[] = [],
  ): Promise<Response> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      try {
        return await this.authorizedRequest(method, pathAndQuery, headers, what, body, alsoFine);
      } catch (error) {
        if (!(error instanceof TransientError) && !isNetworkError(error)) throw error;
        lastError = error;
        if (attempt < this.attempts) await sleep(this.backoffMs * 2 ** (attempt - 1));
      }
    }
    throw wrapNetworkError(lastError, what);
  }

  private async authorizedRequest(
    method: string,
    pathAndQuery: string,
    headers: Record<string, string>,
    what: string,
    body: RequestBody | undefined,
    alsoFine: readonly number[],
  ): Promise<Response> {
    let response = await this.send(method, pathAndQuery, this.withAuth(headers), body);
    if (response.statusCode === 401) {
      const challenge = parseChallenge(response.headers['www-authenticate']);
      response.resume();
      // Refused although we sent a token: it expired, so ask for a new one.
      const stale = this.authorization?.startsWith('Bearer ') === true;
      await this.answerChallenge(challenge, what, stale);
      response = await this.send(method, pathAndQuery, this.withAuth(headers), body);
      if (response.statusCode === 401) {
        response.resume();
        throw new OcitsError(
          `${what}: ${this.options.credentials === undefined ? 'authentication required' : 'authentication failed: wrong credentials'} (registry ${this.host})`,
        );
      }
    }
    return this.checkStatus(response, what, alsoFine);
  }

  private async checkStatus(response: Response, what: string, alsoFine: readonly number[]): Promise<Response> {
    const status = response.statusCode ?? 0;
    if ((status >= 200 && status < 300) || alsoFine.includes(status)) return response;
    const body = await readBody(response, 64 * 1024, what).catch(() => Buffer.alloc(0));
    if (RETRIABLE_STATUS.has(status)) throw new TransientError(`${what}: registry ${this.host} answered ${status}`);
    const detail = registryErrorText(body);
    if (status === 404) throw new OcitsError(`${what}: not found${detail !== '' ? ` (${detail})` : ''}`);
    if (status === 403) throw new OcitsError(`${what}: access denied by registry ${this.host}${detail !== '' ? ` (${detail})` : ''}`);
    throw new OcitsError(`${what}: registry ${this.host} answered ${status}${detail !== '' ? ` (${detail})` : ''}`);
  }

  private withAuth(headers: Record<string, string>): Record<string, string> {
    return this.authorization !== undefined ? { ...headers, Authorization: this.authorization } : headers;
  }

  private async answerChallenge(challenge: Challenge | undefined, what: string, stale: boolean): Promise<void> {
    const credentials = this.options.credentials;
    if (challenge?.scheme === 'basic') {
      if (credentials === undefined) throw new OcitsError(`${what}: authentication required (registry ${this.host}); give --creds or an auth file`);
      this.authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
      return;
    }
    if (challenge?.scheme === 'bearer') {
      // A client of the whole registry (login) asks for a token of no scope.
      const scope = challenge.params.scope ?? (this.repository !== '' ? `repository:${this.repository}:pull` : '');
      if (stale) this.tokens.delete(scope);
      let token = this.tokens.get(scope);
      if (token === undefined) {
        token = await this.fetchToken(challenge.params, scope, what);
        this.tokens.set(scope, token);
      }
      this.authorization = `Bearer ${token}`;
      return;
    }
    throw new OcitsError(`${what}: registry ${this.host} asks for authentication it does not describe (WWW-Authenticate: ${challenge?.scheme ?? 'missing'})`);
  }

  private async fetchToken(params: Record<string, string>, scope: string, what: string): Promise<string> {
    const realm = params.realm;
    if (realm === undefined) throw new OcitsError(`${what}: registry ${this.host} sent a Bearer challenge without a realm`);
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new OcitsError(`${what}: registry ${this.host} sent an invalid token realm "${realm}"`);
    }
    if (params.service !== undefined) url.searchParams.set('service', params.service);
    for (const one of scope.split(' ').filter((s) => s !== '')) url.searchParams.append('scope', one);
    const credentials = this.options.credentials;
    const headers: Record<string, string> =
      credentials !== undefined ? { Authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}` } : {};
    let response: Response;
    try {
      response = await sendRequest(url, 'GET', headers, this.options.tlsVerify);
    } catch (error) {
      throw wrapNetworkError(error, `token for ${what} from ${url.origin}`);
    }
    const body = await readBody(response, 1024 * 1024, `token for ${what}`);
    if (response.statusCode === 401 || response.statusCode === 403) {
      throw new OcitsError(
        `${what}: ${credentials === undefined ? 'authentication required' : 'authentication failed: wrong credentials'} (token server ${url.origin})`,
      );
    }
    if (response.statusCode !== 200) throw new OcitsError(`${what}: token server ${url.origin} answered ${response.statusCode}`);
    let token: unknown;
    try {
      const parsed = JSON.parse(body.toString('utf8')) as { token?: unknown; access_token?: unknown };
      token = parsed.token ?? parsed.access_token;
    } catch {
      token = undefined;
    }
    if (typeof token !== 'string' || token === '') throw new OcitsError(`${what}: token server ${url.origin} sent no token`);
    return token;
  }

  /** Sends one request, following redirects; settles http vs https for tlsVerify false. */
  private async send(method: string, pathAndQuery: string, headers: Record<string, string>, body?: RequestBody): Promise<Response> {
    let url: URL;
    if (this.scheme === undefined) {
      try {
        const response = await sendRequest(new URL(`https://${this.host}${pathAndQuery}`), method, headers, false, body);
        this.scheme = 'https';
        return await this.followRedirects(response, method, headers, body);
      } catch (error) {
        if (!isNetworkError(error) && !isTlsError(error)) throw error;
        // Not TLS there (or nothing there): plain HTTP, as podman does for insecure registries.
        this.scheme = 'http';
      }
    }
    url = new URL(`${this.scheme}://${this.host}${pathAndQuery}`);
    return this.followRedirects(await sendRequest(url, method, headers, this.options.tlsVerify, body), method, headers, body);
  }

  private async followRedirects(first: Response, method: string, headers: Record<string, string>, body?: RequestBody): Promise<Response> {
    let response = first;
    let url = new URL(`${this.scheme ?? 'https'}://${this.host}`);
    for (let hops = 0; isRedirect(response.statusCode); hops++) {
      const location = response.headers.location;
      response.resume();
      if (location === undefined || hops >= MAX_REDIRECTS) throw new OcitsError(`registry ${this.host}: too many or empty redirects`);
      const next = new URL(location, url);
      // Credentials for the registry are not for the storage it redirects to.
      const nextHeaders = next.host === this.host ? headers : withoutAuthorization(headers);
      response = await sendRequest(next, method, nextHeaders, this.options.tlsVerify, body);
      url = next;
    }
    return response;
  }
}

function sendRequest(url: URL, method: string, headers: Record<string, string>, tlsVerify: boolean, body?: RequestBody): Promise<Response> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const module = secure ? https : http;
    const agent = secure ? (tlsVerify ? httpsAgent : insecureHttpsAgent) : httpAgent;
    const request = module.request(url, { method, headers: { 'User-Agent': 'ocits', ...headers }, agent }, resolve);
    request.setTimeout(IDLE_TIMEOUT_MS, () => request.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    request.on('error', (error) => {
      if (secure && tlsVerify && isTlsError(error)) {
        reject(new OcitsError(`TLS connection to ${url.host} failed: ${tlsProblem(error)}; for a registry without a trusted certificate give --tls-verify=false`));
      } else {
        reject(error);
      }
    });
    if (body === undefined || Buffer.isBuffer(body)) {
      request.end(body);
      return;
    }
    const stream = fs.createReadStream(body.file, { start: 0, end: Math.max(body.size - 1, 0) });
    stream.on('error', (error) => request.destroy(error));
    if (body.size === 0) request.end();
    else stream.pipe(request);
  });
}

function isRedirect(status: number | undefined): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

function withoutAuthorization(headers: Record<string, string>): Record<string, string> {
  const { Authorization: _dropped, ...rest } = headers;
  return rest;
}

/** Errors of the connection rather than of the answer: worth another attempt. */
function isNetworkError(error: unknown): boolean {
  if (error instanceof TransientError) return true;
  const code = errnoCode(error) ?? '';
  // ERR_SOCKET_CLOSED: Bun's word for a connection the server closed, e.g. to a TLS hello sent to plain HTTP.
  return /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|ENOTFOUND|ECONNABORTED|ERR_SOCKET_CLOSED|HPE_)/.test(code);
}

/** TLS failures: a server that speaks no TLS, or a certificate we do not trust. Never transient. */
function isTlsError(error: unknown): boolean {
  return /^(EPROTO|ERR_SSL_|ERR_TLS_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|CERT_|ERR_CERT)/.test(errnoCode(error) ?? '');
}

// Our words for the usual certificate problems: the engines' own messages
// differ (Node says "self-signed certificate", Bun "self signed certificate").
const TLS_PROBLEMS: Readonly<Record<string, string>> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in the chain',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'certificate signed by an unknown authority',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'certificate signed by an unknown authority',
  CERT_HAS_EXPIRED: 'certificate has expired',
  ERR_TLS_CERT_ALTNAME_INVALID: 'certificate is not valid for this host',
};

function tlsProblem(error: unknown): string {
  return TLS_PROBLEMS[errnoCode(error) ?? ''] ?? messageOf(error);
}

function wrapNetworkError(error: unknown, what: string): Error {
  if (error instanceof OcitsError) return error;
  const code = errnoCode(error);
  const reason = code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'host not found' : code === 'ECONNREFUSED' ? 'connection refused' : messageOf(error);
  return new OcitsError(`${what}: cannot reach the registry: ${reason}`);
}

function readBody(response: Response, limit: number, what: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    response.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > limit) {
        response.destroy();
        reject(new OcitsError(`${what}: larger than ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    response.on('end', () => resolve(Buffer.concat(chunks)));
    response.on('error', (error) => reject(new TransientError(`${what}: ${messageOf(error)}`)));
    response.on('aborted', () => reject(new TransientError(`${what}: connection closed`)));
  });
}

/** `Bearer realm="...",service="...",scope="..."` -> scheme and parameters. */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (match === null) return undefined;
  const params: Record<string, string> = {};
  const pattern = /(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?/g;
  for (let m = pattern.exec(match[2]); m !== null; m = pattern.exec(match[2])) {
    params[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
  }
  return { scheme: match[1].toLowerCase(), params };
}

function registryErrorText(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { errors?: Array<{ code?: string; message?: string }> };
    const first = parsed.errors?.[0];
    if (first === undefined) return '';
    return [first.code, first.message].filter((s) => s !== undefined && s !== '').join(': ');
  } catch {
    return '';
  }
}

function mediaTypeInside(data: Buffer): string {
  try {
    const parsed = JSON.parse(data.toString('utf8')) as { mediaType?: unknown; manifests?: unknown };
    if (typeof parsed.mediaType === 'string') return parsed.mediaType;
    return Array.isArray(parsed.manifests) ? OCI_INDEX : OCI_MANIFEST;
  } catch {
    return '';
  }
}

function contentRangeStart(response: Response): number | undefined {
  const match = /^bytes (\d+)-/.exec(response.headers['content-range'] ?? '');
  return match === null ? undefined : Number(match[1]);
}
