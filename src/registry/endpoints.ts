// Every endpoint of distribution-spec 1.1, one function each, on top of the
// store (repositories.ts), upload sessions (uploads.ts) and manifest checks
// (manifest-check.ts). route() maps a request to its endpoint; the server
// (server.ts) does HTTP, auth and logging around it.
import * as fs from 'node:fs';
import type * as http from 'node:http';
import { digestOf } from '../image/digest';
import { OCI_INDEX, type Descriptor } from '../image/media-types';
import { reachableBlobs } from '../image/prune';
import type { ImageStore } from '../image/store';
import { guardedBody, readGuardedBody, uploadRoom, declaredLength, type BodyGuard } from './body';
import { RegistryError } from './errors';
import { checkManifest } from './manifest-check';
import { checkDigest, checkManifestReference, checkRepositoryName, storeRepositoryOf } from './names';
import {
  catalog,
  findManifestByDigest,
  findTag,
  lexical,
  recordManifest,
  referrersOf,
  removeManifest,
  removeTag,
  tagsOf,
} from './repositories';
import { Reply } from './reply';
import type { Uploads, UploadSession } from './uploads';

/** Manifests up to 4 MiB, the least the spec asks registries to take. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface RegistryContext {
  store: ImageStore;
  uploads: Uploads;
  readOnly: boolean;
  /** The timeout window of request bodies and responses. */
  windowMs: number;
}

type Handler = (context: RegistryContext, request: http.IncomingMessage, reply: Reply, match: RouteMatch) => Promise<void> | void;

interface RouteMatch {
  name: string;
  /** The last path segment of the route: a reference, digest or upload UUID. */
  ref: string;
  query: URLSearchParams;
}

interface Route {
  pattern: RegExp;
  methods: Partial<Record<string, Handler>>;
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

// Longest name first: a repository may itself hold "blobs" or "manifests" components.
const ROUTES: readonly Route[] = [
  { pattern: /^\/v2\/?$/, methods: { GET: base, HEAD: base } },
  { pattern: /^\/v2\/_catalog$/, methods: { GET: listCatalog } },
  { pattern: /^\/v2\/(.+)\/tags\/list$/, methods: { GET: listTags } },
  { pattern: /^\/v2\/(.+)\/manifests\/([^/]+)$/, methods: { GET: getManifest, HEAD: getManifest, PUT: putManifest, DELETE: deleteManifest } },
  { pattern: /^\/v2\/(.+)\/blobs\/uploads\/?$/, methods: { POST: startUpload } },
  {
    pattern: /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/,
    methods: { GET: uploadStatus, PATCH: patchUpload, PUT: finishUpload, DELETE: cancelUpload },
  },
  { pattern: /^\/v2\/(.+)\/blobs\/([^/]+)$/, methods: { GET: getBlob, HEAD: getBlob, DELETE: deleteBlob } },
  { pattern: /^\/v2\/(.+)\/referrers\/([^/]+)$/, methods: { GET: listReferrers } },
];

/** Finds and runs the endpoint of a request. */
export async function route(context: RegistryContext, request: http.IncomingMessage, reply: Reply): Promise<void> {
  const target = request.url ?? '/';
  const questionMark = target.indexOf('?');
  const pathname = questionMark === -1 ? target : target.slice(0, questionMark);
  const query = new URLSearchParams(questionMark === -1 ? '' : target.slice(questionMark + 1));
  const method = request.method ?? 'GET';
  for (const { pattern, methods } of ROUTES) {
    const match = pattern.exec(pathname);
    if (match === null) continue;
    const handler = methods[method];
    if (handler === undefined) {
      throw new RegistryError(405, 'UNSUPPORTED', `${method} is not an operation of this endpoint`, undefined, {
        Allow: Object.keys(methods).join(', '),
      });
    }
    if (context.readOnly && WRITE_METHODS.has(method)) throw new RegistryError(405, 'UNSUPPORTED', 'the registry is read-only');
    const name = match[1] !== undefined ? checkRepositoryName(match[1]) : '';
    await handler(context, request, reply, { name, ref: match[2] ?? '', query });
    return;
  }
  throw new RegistryError(404, 'UNSUPPORTED', 'no such endpoint in distribution-spec 1.1');
}

// ---------------------------------------------------------------- discovery

function base(_context: RegistryContext, _request: http.IncomingMessage, reply: Reply): void {
  reply.json(200, {});
}

/** n and last, as tags/list and _catalog take them; the Link header points at the next page. */
function paginate(names: string[], query: URLSearchParams, path: string, reply: Reply): string[] {
  const last = query.get('last');
  let page = last !== null ? names.filter((name) => lexical(name, last) > 0) : names;
  const nText = query.get('n');
  if (nText === null) return page;
  if (!/^[0-9]{1,9}$/.test(nText)) throw new RegistryError(400, 'UNSUPPORTED', 'n must be a non-negative integer', { n: nText.slice(0, 50) });
  const n = Number(nText);
  if (n < page.length && n > 0) {
    page = page.slice(0, n);
    reply.header('Link', `<${path}?n=${n}&last=${encodeURIComponent(page[page.length - 1])}>; rel="next"`);
  }
  return n === 0 ? [] : page;
}

function listCatalog(context: RegistryContext, _request: http.IncomingMessage, reply: Reply, { query }: RouteMatch): void {
  const repositories = paginate(catalog(context.store), query, '/v2/_catalog', reply);
  reply.json(200, { repositories });
}

function listTags(context: RegistryContext, _request: http.IncomingMessage, reply: Reply, { name, query }: RouteMatch): void {
  const tags = tagsOf(context.store, storeRepositoryOf(name));
  if (tags === undefined) throw new RegistryError(404, 'NAME_UNKNOWN', 'repository name not known to registry', { name });
  reply.json(200, { name, tags: paginate(tags, query, `/v2/${name}/tags/list`, reply) });
}

function listReferrers(context: RegistryContext, _request: http.IncomingMessage, reply: Reply, { name, ref, query }: RouteMatch): void {
  const { digest } = checkDigest(ref);
  let manifests = referrersOf(context.store, storeRepositoryOf(name), digest);
  const artifactType = query.get('artifactType');
  if (artifactType !== null) {
    manifests = manifests.filter((descriptor) => descriptor.artifactType === artifactType);
    reply.header('OCI-Filters-Applied', 'artifactType');
  }
  reply.json(200, { schemaVersion: 2, mediaType: OCI_INDEX, manifests }, OCI_INDEX);
}

// ---------------------------------------------------------------- manifests

function resolveManifest(context: RegistryContext, name: string, ref: string): Descriptor {
  const reference = checkManifestReference(ref);
  const repository = storeRepositoryOf(name);
  const descriptor =
    'tag' in reference ? findTag(context.store, repository, reference.tag) : findManifestByDigest(context.store, repository, reference.digest);
  if (descriptor === undefined || !context.store.hasBlob(descriptor.digest)) {
    throw new RegistryError(404, 'MANIFEST_UNKNOWN', 'manifest unknown to registry', { name, reference: ref });
  }
  return descriptor;
}

function getManifest(context: RegistryContext, request: http.IncomingMessage, reply: Reply, { name, ref }: RouteMatch): void {
  const descriptor = resolveManifest(context, name, ref);
  const accepted = acceptedTypes(request.headers.accept);
  if (accepted.length > 0 && !accepted.some((type) => type === descriptor.mediaType || type === '*/*' || type === 'application/*')) {
    // The bytes are what was pushed, so they are not converted: the client learns what there is.
    throw new RegistryError(404, 'MANIFEST_UNKNOWN', `the manifest is ${descriptor.mediaType}, which the request does not accept`, {
      mediaType: descriptor.mediaType,
    });
  }
  const data = context.store.readBlob(descriptor.digest);
  reply.header('Docker-Content-Digest', descriptor.digest);
  reply.header('ETag', `"${descriptor.digest}"`);
  reply.send(200, data, descriptor.mediaType, request.method === 'HEAD');
}

function acceptedTypes(header: string | undefined): string[] {
  if (header === undefined) return [];
  return header
    .split(',')
    .map((part) => part.split(';')[0].trim().toLowerCase())
    .filter((type) => type !== '');
}

async function putManifest(context: RegistryContext, request: http.IncomingMessage, reply: Reply, { name, ref }: RouteMatch): Promise<void> {
  const reference = checkManifestReference(ref);
  const data = await readGuardedBody(request, {
    windowMs: context.windowMs,
    limit: MAX_MANIFEST_BYTES,
    tooLarge: () => new RegistryError(413, 'SIZE_INVALID', `manifests are limited to ${MAX_MANIFEST_BYTES} bytes`),
  });
  const contentType = (request.headers['content-type'] ?? '').split(';')[0].trim();
  const { store } = context;
  // Checking the blobs and naming them is one step for garbage collection.
  const release = await store.holdBlobs();
  try {
    const checked = checkManifest(store, data, contentType);
    const digest = digestOf(data, 'digest' in reference ? checkDigest(reference.digest).algorithm : 'sha256');
    if ('digest' in reference && digest !== reference.digest) {
      throw new RegistryError(400, 'DIGEST_INVALID', `the manifest has digest ${digest}, not ${reference.digest}`);
    }
    store.putBlob(data, digest);
    recordManifest(store, storeRepositoryOf(name), 'tag' in reference ? reference.tag : undefined, {
      descriptor: { mediaType: checked.mediaType, digest, size: data.length },
      // What the referrers API lists; an image with no subject needs neither.
      ...(checked.subject !== undefined ? { subject: checked.subject.digest, artifactType: checked.artifactType } : {}),
    });
    if (checked.subject !== undefined) reply.header('OCI-Subject', checked.subject.digest);
    reply.header('Location', `/v2/${name}/manifests/${digest}`);
    reply.header('Docker-Content-Digest', digest);
    reply.empty(201);
  } finally {
    release();
  }
}

function deleteManifest(context: RegistryContext, _request: http.IncomingMessage, reply: Reply, { name, ref }: RouteMatch): void {
  const reference = checkManifestReference(ref);
  const repository = storeRepositoryOf(name);
  const removed = 'tag' in reference ? removeTag(context.store, repository, reference.tag) : removeManifest(context.store, repository, reference.digest);
  if (!removed) {
    if ('digest' in reference && findManifestByDigest(context.store, repository, reference.digest) !== undefined) {
      throw new RegistryError(405, 'UNSUPPORTED', 'the manifest is part of an index of this repository: delete the index');
    }
    throw new RegistryError(404, 'MANIFEST_UNKNOWN', 'manifest unknown to registry', { name, reference: ref });
  }
  reply.empty(202);
}

// ---------------------------------------------------------------- blobs

async function getBlob(context: RegistryContext, request: http.IncomingMessage, reply: Reply, { ref }: RouteMatch): Promise<void> {
  const { digest } = checkDigest(ref);
  let fd: number;
  try {
    fd = fs.openSync(context.store.blobPath(digest), 'r');
  } catch {
    throw new RegistryError(404, 'BLOB_UNKNOWN', 'blob unknown to registry', { digest });
  }
  try {
    const size = fs.fstatSync(fd).size;
    reply.header('Docker-Content-Digest', digest);
    reply.header('Accept-Ranges', 'bytes');
    reply.header('ETag', `"${digest}"`);
    if (request.method === 'HEAD') {
      // A pusher that finds the blob here will name it: keep it from garbage collection meanwhile.
      await leaseBlob(context.store, digest);
      reply.send(200, size, 'application/octet-stream', true);
      return;
    }
    const range = parseRange(request.headers.range, size);
    if (range === 'unsatisfiable') {
      throw new RegistryError(416, 'BLOB_UNKNOWN', 'requested range not satisfiable', { size }, { 'Content-Range': `bytes */${size}` });
    }
    if (range === undefined) {
      await reply.streamFile(200, fd, 0, size, context.windowMs);
    } else {
      reply.header('Content-Range', `bytes ${range.start}-${range.end}/${size}`);
      await reply.streamFile(206, fd, range.start, range.end - range.start + 1, context.windowMs);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** One byte range (RFC 9110); undefined for none or one we ignore (several ranges, bad syntax): the whole blob. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (match === null || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size) return 'unsatisfiable';
  if (end < start) return undefined;
  return { start, end };
}

async function leaseBlob(store: ImageStore, digest: string): Promise<void> {
  const release = await store.holdBlobs();
  try {
    if (store.hasBlob(digest)) store.leaseBlob(digest);
  } finally {
    release();
  }
}

async function deleteBlob(context: RegistryContext, _request: http.IncomingMessage, reply: Reply, { ref }: RouteMatch): Promise<void> {
  const { digest } = checkDigest(ref);
  const { store } = context;
  if (!store.hasBlob(digest)) throw new RegistryError(404, 'BLOB_UNKNOWN', 'blob unknown to registry', { digest });
  // Blobs are shared by the store's repositories: one a manifest still uses stays.
  await store.withBlobsExclusiveAsync(() => {
    if (reachableBlobs(store).has(digest)) {
      throw new RegistryError(405, 'UNSUPPORTED', 'the blob is used by a manifest of this registry; delete the manifest first', { digest });
    }
    if (!store.hasBlob(digest)) throw new RegistryError(404, 'BLOB_UNKNOWN', 'blob unknown to registry', { digest });
    store.removeBlob(digest);
    store.releaseLease(digest);
  });
  reply.empty(202);
}

// ---------------------------------------------------------------- uploads

function uploadGuard(context: RegistryContext): BodyGuard {
  const room = uploadRoom(context.store.uploadsDir());
  return {
    windowMs: context.windowMs,
    limit: room,
    tooLarge: () => new RegistryError(413, 'SIZE_INVALID', `the upload is larger than the ${room} bytes of free disk the registry has`),
  };
}

/** Makes an upload's file the blob, leased until a manifest names it. */
async function commitUpload(context: RegistryContext, session: UploadSession, digestText: string | null, reply: Reply): Promise<void> {
  if (digestText === null) throw new RegistryError(400, 'DIGEST_INVALID', 'the digest query parameter is required to close an upload');
  const { digest, algorithm } = checkDigest(digestText);
  const { store } = context;
  const release = await store.holdBlobs();
  try {
    context.uploads.finish(session, digest, algorithm, (file) => {
      store.leaseBlob(digest);
      store.commitFile(file, digest);
    });
  } finally {
    release();
  }
  reply.header('Location', `/v2/${session.repository}/blobs/${digest}`);
  reply.header('Docker-Content-Digest', digest);
  reply.empty(201);
}

async function startUpload(context: RegistryContext, request: http.IncomingMessage, reply: Reply, { name, query }: RouteMatch): Promise<void> {
  const { store, uploads } = context;
  const mount = query.get('mount');
  if (mount !== null) {
    const { digest } = checkDigest(mount);
    const from = query.get('from');
    if (from !== null) checkRepositoryName(from);
    // Every repository of the store shares its blobs, so a mount is a lease.
    const release = await store.holdBlobs();
    try {
      if (store.hasBlob(digest)) {
        store.leaseBlob(digest);
        reply.header('Location', `/v2/${name}/blobs/${digest}`);
        reply.header('Docker-Content-Digest', digest);
        reply.empty(201);
        return;
      }
    } finally {
      release();
    }
  }
  const digest = query.get('digest');
  const session = uploads.start(name);
  if (digest !== null) {
    try {
      checkDigest(digest);
      await uploads.append(session, 0, guardedBody(request, uploadGuard(context)));
      await commitUpload(context, { ...session, size: 0 }, digest, reply);
    } catch (error) {
      uploads.cancel(session);
      throw error;
    }
    return;
  }
  if ((declaredLength(request) ?? 0) > 0) {
    uploads.cancel(session);
    throw new RegistryError(400, 'BLOB_UPLOAD_INVALID', 'a POST without a digest starts an upload and takes no body');
  }
  for (const [header, value] of Object.entries(uploads.rangeHeaders(session))) reply.header(header, value);
  reply.empty(202);
}

/** Content-Range of a chunk: "START-END", inclusive, as the spec writes it (a "bytes " prefix is taken too). */
function chunkRange(request: http.IncomingMessage): { start: number; end: number } | undefined {
  const header = request.headers['content-range'];
  if (header === undefined) return undefined;
  const match = /^(?:bytes[ =])?([0-9]{1,15})-([0-9]{1,15})$/.exec(header.trim());
  if (match === null || Number(match[2]) < Number(match[1])) {
    throw new RegistryError(400, 'BLOB_UPLOAD_INVALID', 'invalid Content-Range: it must be START-END, inclusive');
  }
  return { start: Number(match[1]), end: Number(match[2]) };
}

async function appendChunk(context: RegistryContext, request: http.IncomingMessage, session: UploadSession): Promise<UploadSession> {
  const range = chunkRange(request);
  const length = declaredLength(request);
  if (range !== undefined && length !== undefined && range.end - range.start + 1 !== length) {
    throw new RegistryError(400, 'SIZE_INVALID', `Content-Range ${range.start}-${range.end} and Content-Length ${length} disagree`);
  }
  const size = await context.uploads.append(session, range?.start ?? session.size, guardedBody(request, uploadGuard(context)));
  const updated = { ...session, size };
  if (range !== undefined && size !== range.end + 1) {
    throw new RegistryError(400, 'SIZE_INVALID', `the chunk ended at byte ${size}, not at ${range.end + 1} as its Content-Range said`, undefined, context.uploads.rangeHeaders(updated));
  }
  return updated;
}

async function patchUpload(context: RegistryContext, request: http.IncomingMessage, reply: Reply, { name, ref }: RouteMatch): Promise<void> {
  const session = await appendChunk(context, request, context.uploads.open(name, ref));
  for (const [header, value] of Object.entries(context.uploads.rangeHeaders(session))) reply.header(header, value);
  reply.empty(202);
}

async function finishUpload(context: RegistryContext, request: http.IncomingMessage, reply: Reply, { name, ref, query }: RouteMatch): Promise<void> {
  let session = context.uploads.open(name, ref);
  const digest = query.get('digest');
  if (digest === null) throw new RegistryError(400, 'DIGEST_INVALID', 'the digest query parameter is required to close an upload');
  checkDigest(digest);
  // The last chunk may come with the PUT.
  if ((declaredLength(request) ?? 0) > 0 || request.headers['transfer-encoding'] !== undefined) session = await appendChunk(context, request, session);
  await commitUpload(context, session, digest, reply);
}

function uploadStatus(context: RegistryContext, _request: http.IncomingMessage, reply: Reply, { name, ref }: RouteMatch): void {
  const session = context.uploads.open(name, ref);
  for (const [header, value] of Object.entries(context.uploads.rangeHeaders(session))) reply.header(header, value);
  reply.empty(204);
}

function cancelUpload(context: RegistryContext, _request: http.IncomingMessage, reply: Reply, { name, ref }: RouteMatch): void {
  context.uploads.cancel(context.uploads.open(name, ref));
  reply.empty(204);
}
