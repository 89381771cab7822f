// A tiny registry of our own for failures a real one does not produce: a
// blob whose bytes do not match its digest, a connection that stalls half-way.
// It serves one repository's manifest and blobs, honours Range requests, and
// records every request; it binds 127.0.0.1 on a free port.
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface FakeBlob {
  data: Buffer;
  /** Send something else under this blob's digest. */
  corruptWith?: Buffer;
  /** Send only this many bytes of a full (non-Range) answer, then keep the connection open. */
  stallAfter?: number;
  /** Answer the first requests with these statuses (503, 429 ...) before serving. */
  failWith?: number[];
  /** Ignore Range requests: always send the whole blob with 200. */
  noRange?: boolean;
}

export interface FakeManifest {
  data: Buffer;
  mediaType: string;
}

export interface FakeRegistry {
  address: string;
  requests: Array<{ method: string; url: string; range?: string }>;
  close(): Promise<void>;
}

/** manifests: one for every tag or digest (a single one serves any reference). */
export async function startFakeRegistry(
  repository: string,
  manifests: FakeManifest | Map<string, FakeManifest>,
  blobs: Map<string, FakeBlob>,
  /** Serve HTTPS with this key and certificate (PEM) instead of HTTP. */
  tls?: { key: string; cert: string },
): Promise<FakeRegistry> {
  const requests: FakeRegistry['requests'] = [];
  const handler: http.RequestListener = (request, response) => {
    const url = request.url ?? '';
    requests.push({ method: request.method ?? '', url, ...(request.headers.range !== undefined ? { range: request.headers.range } : {}) });
    if (url === '/v2/') return void response.end('{}');
    if (url.startsWith(`/v2/${repository}/manifests/`)) {
      const reference = url.slice(`/v2/${repository}/manifests/`.length);
      const manifest = manifests instanceof Map ? manifests.get(reference) : manifests;
      if (manifest === undefined) {
        response.statusCode = 404;
        return void response.end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
      }
      response.setHeader('Content-Type', manifest.mediaType);
      return void response.end(manifest.data);
    }
    const blob = url.startsWith(`/v2/${repository}/blobs/`) ? blobs.get(url.slice(`/v2/${repository}/blobs/`.length)) : undefined;
    if (blob === undefined) {
      response.statusCode = 404;
      return void response.end('{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}');
    }
    const failure = blob.failWith?.shift();
    if (failure !== undefined) {
      response.statusCode = failure;
      return void response.end();
    }
    const body = blob.corruptWith ?? blob.data;
    const range = blob.noRange ? null : /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
    if (range !== null) {
      const start = Number(range[1]);
      response.writeHead(206, { 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}`, 'Content-Length': body.length - start });
      return void response.end(body.subarray(start));
    }
    response.writeHead(200, { 'Content-Length': body.length });
    if (blob.stallAfter !== undefined) return void response.write(body.subarray(0, blob.stallAfter));
    response.end(body);
  };
  const server = tls !== undefined ? https.createServer(tls, handler) : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
