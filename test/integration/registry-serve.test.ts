// `ocits registry serve` spoken to in raw HTTP: every endpoint of
// distribution-spec 1.1 with the status codes and headers the spec names,
// and hostile input answered with the spec's error, writing nothing.
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { EMPTY_CONFIG, OCI_MANIFEST, artifactManifest, rawRequest, serveRegistry, type RawResponse, type ServedRegistry } from '../helpers/registry-server';
import { tempDir } from '../helpers/tmp';

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

let store: string;
let registry: ServedRegistry;

beforeAll(async () => {
  store = tempDir('ocits-registry-store-');
  registry = await serveRegistry(store);
});

const request = (method: string, target: string, options: Parameters<typeof rawRequest>[3] = {}): Promise<RawResponse> =>
  rawRequest(registry.url, method, target, options);

const sha256 = (data: Buffer | string): string => `sha256:${crypto.createHash('sha256').update(data).digest('hex')}`;
const sha512 = (data: Buffer | string): string => `sha512:${crypto.createHash('sha512').update(data).digest('hex')}`;

function errorCodes(response: RawResponse): string[] {
  expect(response.headers['content-type']).toBe('application/json');
  return (response.json() as { errors: Array<{ code: string }> }).errors.map((e) => e.code);
}

async function pushBlob(name: string, data: Buffer | string, digest = sha256(data)): Promise<string> {
  const response = await request('POST', `/v2/${name}/blobs/uploads/?digest=${digest}`, {
    body: data,
    headers: { 'Content-Type': 'application/octet-stream' },
  });
  expect(response.status).toBe(201);
  return digest;
}

/** An image manifest over a pushed config and layer; returns its bytes. */
async function makeManifest(name: string, seed: string, extra: Record<string, unknown> = {}): Promise<Buffer> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, seed }));
  const layer = Buffer.from(`layer ${seed}`);
  await pushBlob(name, config);
  await pushBlob(name, layer);
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length }],
      ...extra,
    }),
  );
}

async function putManifest(name: string, reference: string, data: Buffer, contentType = OCI_MANIFEST): Promise<RawResponse> {
  return request('PUT', `/v2/${name}/manifests/${reference}`, { body: data, headers: { 'Content-Type': contentType } });
}

describe('base and blobs', () => {
  test('/v2/ answers 200 with the API version header', async () => {
    const response = await request('GET', '/v2/');
    expect(response.status).toBe(200);
    expect(response.headers['docker-distribution-api-version']).toBe('registry/2.0');
  });

  test('a monolithic POST stores a blob; HEAD gives its size and digest, GET its bytes and ranges', async () => {
    const data = Buffer.from('0123456789abcdef');
    const digest = await pushBlob('blobs/one', data);
    const head = await request('HEAD', `/v2/blobs/one/blobs/${digest}`);
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe('16');
    expect(head.headers['docker-content-digest']).toBe(digest);
    const get = await request('GET', `/v2/blobs/one/blobs/${digest}`);
    expect(get.body).toEqual(data);
    const ranged = await request('GET', `/v2/blobs/one/blobs/${digest}`, { headers: { Range: 'bytes=4-7' } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers['content-range']).toBe('bytes 4-7/16');
    expect(ranged.body.toString()).toBe('4567');
    const suffix = await request('GET', `/v2/blobs/one/blobs/${digest}`, { headers: { Range: 'bytes=-3' } });
    expect(suffix.body.toString()).toBe('def');
    const beyond = await request('GET', `/v2/blobs/one/blobs/${digest}`, { headers: { Range: 'bytes=16-' } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers['content-range']).toBe('bytes */16');
    expect(fs.readFileSync(path.join(store, 'blobs', 'sha256', digest.slice(7)))).toEqual(data);
  });

  test('an unknown blob is 404 BLOB_UNKNOWN', async () => {
    const response = await request('GET', `/v2/blobs/one/blobs/${sha256('nothing')}`);
    expect(response.status).toBe(404);
    expect(errorCodes(response)).toEqual(['BLOB_UNKNOWN']);
    expect((await request('HEAD', `/v2/blobs/one/blobs/${sha256('nothing')}`)).status).toBe(404);
  });

  test('sha512 blobs are stored and served under their sha512 digest', async () => {
    const data = Buffer.from('a sha512 blob');
    const digest = await pushBlob('blobs/512', data, sha512(data));
    expect(fs.existsSync(path.join(store, 'blobs', 'sha512', digest.slice(7)))).toBe(true);
    const get = await request('GET', `/v2/blobs/512/blobs/${digest}`);
    expect(get.status).toBe(200);
    expect(get.headers['docker-content-digest']).toBe(digest);
    expect(get.body).toEqual(data);
  });

  test('POST then PUT: 202 with a Location, then 201 with the blob Location', async () => {
    const data = Buffer.from('post then put');
    const started = await request('POST', '/v2/blobs/two/blobs/uploads/');
    expect(started.status).toBe(202);
    const location = started.headers.location!;
    expect(location).toMatch(/^\/v2\/blobs\/two\/blobs\/uploads\/[0-9a-f-]{36}$/);
    const done = await request('PUT', `${location}?digest=${sha256(data)}`, { body: data, headers: { 'Content-Type': 'application/octet-stream' } });
    expect(done.status).toBe(201);
    expect(done.headers.location).toBe(`/v2/blobs/two/blobs/${sha256(data)}`);
    expect(done.headers['docker-content-digest']).toBe(sha256(data));
    // The session is gone once closed.
    expect((await request('GET', location)).status).toBe(404);
  });

  test('chunked upload: in order 202 with Range, out of order 416, status GET 204, then PUT closes it', async () => {
    const data = Buffer.from('chunk-one|chunk-two|last');
    const started = await request('POST', '/v2/blobs/chunked/blobs/uploads/', { headers: { 'Content-Length': '0' } });
    let location = started.headers.location!;
    const first = await request('PATCH', location, { body: data.subarray(0, 10), headers: { 'Content-Range': '0-9', 'Content-Type': 'application/octet-stream' } });
    expect(first.status).toBe(202);
    expect(first.headers.range).toBe('0-9');
    location = first.headers.location!;
    const skipped = await request('PATCH', location, { body: data.subarray(12, 20), headers: { 'Content-Range': '12-19' } });
    expect(skipped.status).toBe(416);
    expect(errorCodes(skipped)).toEqual(['BLOB_UPLOAD_INVALID']);
    const again = await request('PATCH', location, { body: data.subarray(0, 10), headers: { 'Content-Range': '0-9' } });
    expect(again.status).toBe(416);
    const status = await request('GET', location);
    expect(status.status).toBe(204);
    expect(status.headers.range).toBe('0-9');
    expect(status.headers.location).toBe(location);
    const second = await request('PATCH', location, { body: data.subarray(10, 20), headers: { 'Content-Range': '10-19' } });
    expect(second.status).toBe(202);
    expect(second.headers.range).toBe('0-19');
    const wrong = await request('PUT', `${location}?digest=${sha256('something else')}`, {
      body: data.subarray(20),
      headers: { 'Content-Range': '20-23' },
    });
    expect(wrong.status).toBe(400);
    expect(errorCodes(wrong)).toEqual(['DIGEST_INVALID']);
    expect(fs.existsSync(path.join(store, 'blobs', 'sha256', sha256('something else').slice(7)))).toBe(false);

    const retry = await request('POST', '/v2/blobs/chunked/blobs/uploads/');
    const part = await request('PATCH', retry.headers.location!, { body: data.subarray(0, 20), headers: { 'Content-Range': '0-19' } });
    expect(part.status).toBe(202);
    const closed = await request('PUT', `${part.headers.location!}?digest=${sha256(data)}`, { body: data.subarray(20), headers: { 'Content-Range': '20-23' } });
    expect(closed.status).toBe(201);
    expect((await request('GET', `/v2/blobs/chunked/blobs/${sha256(data)}`)).body).toEqual(data);
  });

  test('an upload of another repository is unknown here', async () => {
    const started = await request('POST', '/v2/blobs/mine/blobs/uploads/');
    const uuid = started.headers.location!.split('/').pop();
    const response = await request('GET', `/v2/blobs/theirs/blobs/uploads/${uuid}`);
    expect(response.status).toBe(404);
    expect(errorCodes(response)).toEqual(['BLOB_UPLOAD_UNKNOWN']);
    expect((await request('DELETE', started.headers.location!)).status).toBe(204);
  });

  test('a mount of a blob the registry has is 201; of one it lacks, an upload session (202)', async () => {
    const digest = await pushBlob('mount/from', 'mounted');
    const mounted = await request('POST', `/v2/mount/to/blobs/uploads/?mount=${digest}&from=mount/from`);
    expect(mounted.status).toBe(201);
    expect(mounted.headers.location).toBe(`/v2/mount/to/blobs/${digest}`);
    const missing = await request('POST', `/v2/mount/to/blobs/uploads/?mount=${sha256('absent')}&from=mount/from`);
    expect(missing.status).toBe(202);
    expect(missing.headers.location).toMatch(/\/v2\/mount\/to\/blobs\/uploads\//);
  });
});

describe('manifests, tags and the catalog', () => {
  test('PUT by tag: 201 with Location and digest; GET and HEAD by tag and digest give the same bytes and type', async () => {
    const data = await makeManifest('app/web', 'web');
    const put = await putManifest('app/web', 'v1', data);
    expect(put.status).toBe(201);
    expect(put.headers['docker-content-digest']).toBe(sha256(data));
    expect(put.headers.location).toBe(`/v2/app/web/manifests/${sha256(data)}`);
    for (const reference of ['v1', sha256(data)]) {
      const get = await request('GET', `/v2/app/web/manifests/${reference}`, { headers: { Accept: `${OCI_MANIFEST}, ${OCI_INDEX}` } });
      expect(get.status).toBe(200);
      expect(get.body).toEqual(data);
      expect(get.headers['content-type']).toBe(OCI_MANIFEST);
      expect(get.headers['docker-content-digest']).toBe(sha256(data));
      const head = await request('HEAD', `/v2/app/web/manifests/${reference}`);
      expect(head.status).toBe(200);
      expect(head.headers['content-length']).toBe(String(data.length));
    }
    // The store names it as podman names local images, so ocits bundle and skopeo find it.
    const index = JSON.parse(fs.readFileSync(path.join(store, 'index.json'), 'utf8'));
    expect(index.manifests.map((m: { annotations: Record<string, string> }) => m.annotations['org.opencontainers.image.ref.name'])).toContain(
      'localhost/app/web:v1',
    );
  });

  test('content negotiation: a client that accepts only Docker schema 2 is told the manifest is OCI (404), never sent it', async () => {
    const response = await request('GET', '/v2/app/web/manifests/v1', { headers: { Accept: DOCKER_MANIFEST } });
    expect(response.status).toBe(404);
    expect(errorCodes(response)).toEqual(['MANIFEST_UNKNOWN']);
    const manifest = JSON.parse((await makeManifest('app/docker', 'docker')).toString());
    manifest.mediaType = DOCKER_MANIFEST;
    manifest.config.mediaType = 'application/vnd.docker.container.image.v1+json';
    const dockerData = Buffer.from(JSON.stringify(manifest));
    expect((await putManifest('app/docker', 'v1', dockerData, DOCKER_MANIFEST)).status).toBe(201);
    const get = await request('GET', '/v2/app/docker/manifests/v1', { headers: { Accept: `${DOCKER_MANIFEST}, ${OCI_MANIFEST}` } });
    expect(get.headers['content-type']).toBe(DOCKER_MANIFEST);
    expect(get.body).toEqual(dockerData);
  });

  test('a manifest whose blobs the registry lacks is MANIFEST_BLOB_UNKNOWN, one error per blob, and nothing is written', async () => {
    const before = fs.readFileSync(path.join(store, 'index.json'), 'utf8');
    const data = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256('no config'), size: 9 },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256('no layer'), size: 8 }],
      }),
    );
    const response = await putManifest('app/missing', 'v1', data);
    expect(response.status).toBe(400);
    expect(errorCodes(response)).toEqual(['MANIFEST_BLOB_UNKNOWN', 'MANIFEST_BLOB_UNKNOWN']);
    expect(fs.readFileSync(path.join(store, 'index.json'), 'utf8')).toBe(before);
    expect(fs.existsSync(path.join(store, 'blobs', 'sha256', sha256(data).slice(7)))).toBe(false);
  });

  test.each([
    ['malformed JSON', '{"schemaVersion": 2,', OCI_MANIFEST],
    ['a size that is no integer', JSON.stringify({ schemaVersion: 2, config: { mediaType: 'a/b', digest: sha256('x'), size: '1' }, layers: [] }), OCI_MANIFEST],
    ['schemaVersion 1', JSON.stringify({ schemaVersion: 1, config: { mediaType: 'a/b', digest: sha256('x'), size: 1 }, layers: [] }), OCI_MANIFEST],
    ['a media type the body contradicts', JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] }), OCI_MANIFEST],
    ['an unknown media type', JSON.stringify({ schemaVersion: 2, manifests: [] }), 'application/vnd.example+json'],
    ['a JSON array', '[]', OCI_MANIFEST],
  ])('%s is MANIFEST_INVALID (400) and writes nothing', async (_what, body, contentType) => {
    const before = fs.readFileSync(path.join(store, 'index.json'), 'utf8');
    const response = await putManifest('app/bad', 'v1', Buffer.from(body), contentType);
    expect(response.status).toBe(400);
    expect(errorCodes(response)).toEqual(['MANIFEST_INVALID']);
    expect(fs.readFileSync(path.join(store, 'index.json'), 'utf8')).toBe(before);
  });

  test('a PUT by digest must match the content (DIGEST_INVALID), and then the manifest is untagged', async () => {
    const data = await makeManifest('app/bydigest', 'bydigest');
    const wrong = await putManifest('app/bydigest', sha256('other'), data);
    expect(wrong.status).toBe(400);
    expect(errorCodes(wrong)).toEqual(['DIGEST_INVALID']);
    expect((await putManifest('app/bydigest', sha256(data), data)).status).toBe(201);
    expect((await request('GET', `/v2/app/bydigest/manifests/${sha256(data)}`)).body).toEqual(data);
    expect((await request('GET', '/v2/app/bydigest/tags/list')).json()).toEqual({ name: 'app/bydigest', tags: [] });
  });

  test('a manifest larger than the 4 MiB cap is refused with 413 before its body is read', async () => {
    const big = Buffer.alloc(5 * 1024 * 1024, 0x20);
    // The server answers and closes while the client may still be sending: it sees the 413 or a reset.
    const response = await putManifest('app/big', 'v1', big).catch(() => undefined);
    if (response !== undefined) {
      expect(response.status).toBe(413);
      expect(errorCodes(response)).toEqual(['SIZE_INVALID']);
    }
    await registry.waitFor(/target=\/v2\/app\/big\/manifests\/v1 status=413 /);
    expect((await request('GET', '/v2/app/big/manifests/v1')).status).toBe(404);
  });

  test('a client announcing a 1 GB manifest is answered 413 at once and the server keeps serving', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(registry.address.split(':')[1]), '127.0.0.1');
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk.toString();
        if (text.includes('\r\n\r\n')) {
          socket.destroy();
          resolve(text);
        }
      });
      socket.on('error', reject);
      socket.write(`PUT /v2/app/huge/manifests/v1 HTTP/1.1\r\nHost: x\r\nContent-Type: ${OCI_MANIFEST}\r\nContent-Length: 1073741824\r\n\r\n{"schemaVersion":`);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect((await request('GET', '/v2/')).status).toBe(200);
  });

  test('tags list: lexical order, n and last, a Link header to the next page, none for n=0', async () => {
    const data = await makeManifest('app/tags', 'tags');
    for (const tag of ['b', 'A', 'c', 'd1', 'D2']) expect((await putManifest('app/tags', tag, data)).status).toBe(201);
    expect((await request('GET', '/v2/app/tags/tags/list')).json().tags).toEqual(['A', 'b', 'c', 'd1', 'D2']);
    const page = await request('GET', '/v2/app/tags/tags/list?n=2');
    expect(page.json().tags).toEqual(['A', 'b']);
    expect(page.headers.link).toBe('</v2/app/tags/tags/list?n=2&last=b>; rel="next"');
    const next = await request('GET', '/v2/app/tags/tags/list?n=2&last=b');
    expect(next.json().tags).toEqual(['c', 'd1']);
    const last = await request('GET', '/v2/app/tags/tags/list?n=2&last=d1');
    expect(last.json().tags).toEqual(['D2']);
    expect(last.headers.link).toBeUndefined();
    const none = await request('GET', '/v2/app/tags/tags/list?n=0');
    expect(none.json().tags).toEqual([]);
    expect(none.headers.link).toBeUndefined();
    expect((await request('GET', '/v2/app/tags/tags/list?last=c')).json().tags).toEqual(['d1', 'D2']);
    expect((await request('GET', '/v2/app/tags/tags/list?n=-1')).status).toBe(400);
    const unknown = await request('GET', '/v2/app/nothing/tags/list');
    expect(unknown.status).toBe(404);
    expect(errorCodes(unknown)).toEqual(['NAME_UNKNOWN']);
  });

  test('_catalog lists repositories in order, with n and a Link header', async () => {
    const all = (await request('GET', '/v2/_catalog')).json().repositories as string[];
    expect(all).toEqual(expect.arrayContaining(['app/web', 'app/tags', 'app/bydigest']));
    expect([...all].sort((a, b) => a.localeCompare(b))).toEqual(all);
    const page = await request('GET', '/v2/_catalog?n=1');
    expect(page.json().repositories).toEqual([all[0]]);
    expect(page.headers.link).toBe(`</v2/_catalog?n=1&last=${encodeURIComponent(all[0])}>; rel="next"`);
  });

  test('an index is stored with its child manifests, which stay reachable by digest', async () => {
    const child = await makeManifest('app/multi', 'child');
    expect((await putManifest('app/multi', sha256(child), child)).status).toBe(201);
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [{ mediaType: OCI_MANIFEST, digest: sha256(child), size: child.length, platform: { architecture: 'amd64', os: 'linux' } }],
      }),
    );
    const missingChild = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: sha256('absent'), size: 3 }] }),
    );
    const refused = await putManifest('app/multi', 'broken', missingChild, OCI_INDEX);
    expect(errorCodes(refused)).toEqual(['MANIFEST_BLOB_UNKNOWN']);
    expect((await putManifest('app/multi', 'latest', index, OCI_INDEX)).status).toBe(201);
    expect((await request('GET', '/v2/app/multi/manifests/latest')).headers['content-type']).toBe(OCI_INDEX);
    expect((await request('GET', `/v2/app/multi/manifests/${sha256(child)}`)).body).toEqual(child);
  });
});

describe('referrers', () => {
  test('a manifest with a subject gets OCI-Subject, and the referrers API lists it, filtered by artifactType', async () => {
    const subject = await makeManifest('app/signed', 'subject');
    expect((await putManifest('app/signed', 'v1', subject)).status).toBe(201);
    const empty = await pushBlob('app/signed', EMPTY_CONFIG);
    const artifact = (artifactType: string, note: string): Buffer =>
      artifactManifest(artifactType, [{ mediaType: 'application/vnd.oci.empty.v1+json', digest: empty, size: 2 }], { digest: sha256(subject), size: subject.length }, {
        'org.example.note': note,
      });
    const sbom = artifact('application/vnd.example.sbom.v1', 'sbom');
    const signature = artifact('application/vnd.example.signature.v1', 'signature');
    for (const data of [sbom, signature]) {
      const put = await putManifest('app/signed', sha256(data), data);
      expect(put.status).toBe(201);
      expect(put.headers['oci-subject']).toBe(sha256(subject));
    }
    const all = await request('GET', `/v2/app/signed/referrers/${sha256(subject)}`);
    expect(all.status).toBe(200);
    expect(all.headers['content-type']).toBe(OCI_INDEX);
    expect(all.headers['oci-filters-applied']).toBeUndefined();
    expect(all.json().manifests).toEqual(
      expect.arrayContaining([
        { mediaType: OCI_MANIFEST, digest: sha256(sbom), size: sbom.length, artifactType: 'application/vnd.example.sbom.v1', annotations: { 'org.example.note': 'sbom' } },
        {
          mediaType: OCI_MANIFEST,
          digest: sha256(signature),
          size: signature.length,
          artifactType: 'application/vnd.example.signature.v1',
          annotations: { 'org.example.note': 'signature' },
        },
      ]),
    );
    expect(all.json().manifests).toHaveLength(2);
    const filtered = await request('GET', `/v2/app/signed/referrers/${sha256(subject)}?artifactType=application/vnd.example.sbom.v1`);
    expect(filtered.headers['oci-filters-applied']).toBe('artifactType');
    expect(filtered.json().manifests.map((m: { digest: string }) => m.digest)).toEqual([sha256(sbom)]);
    // A subject nothing refers to: an empty list, never 404.
    const none = await request('GET', `/v2/app/signed/referrers/${sha256('nobody')}`);
    expect(none.status).toBe(200);
    expect(none.json()).toEqual({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
    expect((await request('GET', '/v2/app/signed/referrers/sha256:123')).status).toBe(400);
  });

  test('an artifact pushed with curl is listed by the referrers API, also through curl', async () => {
    const subject = await makeManifest('app/curl', 'curl subject');
    expect((await putManifest('app/curl', 'v1', subject)).status).toBe(201);
    const dir = tempDir('ocits-registry-curl-');
    const curl = (args: string[]): string => {
      const result = spawnSync('curl', ['-sS', '--fail-with-body', ...args], { encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`curl ${args.join(' ')}: ${result.stderr}${result.stdout}`);
      return result.stdout;
    };
    fs.writeFileSync(path.join(dir, 'empty.json'), EMPTY_CONFIG);
    fs.writeFileSync(path.join(dir, 'signature'), 'signed by curl');
    for (const file of ['empty.json', 'signature']) {
      const digest = sha256(fs.readFileSync(path.join(dir, file)));
      const headers = curl(['-D', '-', '-o', '/dev/null', '-X', 'POST', '--data-binary', `@${path.join(dir, file)}`, '-H', 'Content-Type: application/octet-stream', `${registry.url}/v2/app/curl/blobs/uploads/?digest=${digest}`]);
      expect(headers).toMatch(/^HTTP\/1\.1 201 /);
    }
    const artifact = artifactManifest(
      'application/vnd.example.curl-signature',
      [{ mediaType: 'application/vnd.example.signature', digest: sha256('signed by curl'), size: 14 }],
      { digest: sha256(subject), size: subject.length },
    );
    fs.writeFileSync(path.join(dir, 'artifact.json'), artifact);
    const put = curl(['-D', '-', '-o', '/dev/null', '-X', 'PUT', '--data-binary', `@${path.join(dir, 'artifact.json')}`, '-H', `Content-Type: ${OCI_MANIFEST}`, `${registry.url}/v2/app/curl/manifests/${sha256(artifact)}`]);
    expect(put).toMatch(/^HTTP\/1\.1 201 /);
    expect(put).toMatch(new RegExp(`\r\nOCI-Subject: ${sha256(subject)}\r\n`, 'i'));
    const listed = JSON.parse(curl([`${registry.url}/v2/app/curl/referrers/${sha256(subject)}?artifactType=application/vnd.example.curl-signature`]));
    expect(listed.manifests).toEqual([
      { mediaType: OCI_MANIFEST, digest: sha256(artifact), size: artifact.length, artifactType: 'application/vnd.example.curl-signature' },
    ]);
    const other = JSON.parse(curl([`${registry.url}/v2/app/curl/referrers/${sha256(subject)}?artifactType=application/vnd.example.other`]));
    expect(other.manifests).toEqual([]);
  });

  test('a referrer may come before its subject', async () => {
    await pushBlob('app/early', EMPTY_CONFIG);
    const data = artifactManifest('application/vnd.example.early', [], { digest: sha256('not yet pushed'), size: 14 });
    expect((await putManifest('app/early', sha256(data), data)).status).toBe(201);
    expect((await request('GET', `/v2/app/early/referrers/${sha256('not yet pushed')}`)).json().manifests).toHaveLength(1);
  });
});

describe('deletes', () => {
  test('a tag, then the manifest, then its now unused blobs; a blob still used is refused', async () => {
    const data = await makeManifest('app/gone', 'gone');
    const manifest = JSON.parse(data.toString());
    expect((await putManifest('app/gone', 'v1', data)).status).toBe(201);
    expect((await putManifest('app/gone', 'v2', data)).status).toBe(201);
    const used = await request('DELETE', `/v2/app/gone/blobs/${manifest.layers[0].digest}`);
    expect(used.status).toBe(405);
    expect((await request('DELETE', '/v2/app/gone/manifests/v1')).status).toBe(202);
    expect((await request('GET', '/v2/app/gone/manifests/v1')).status).toBe(404);
    expect((await request('GET', '/v2/app/gone/manifests/v2')).status).toBe(200);
    expect((await request('DELETE', '/v2/app/gone/manifests/v1')).status).toBe(404);
    expect((await request('DELETE', `/v2/app/gone/manifests/${sha256(data)}`)).status).toBe(202);
    expect((await request('GET', '/v2/app/gone/manifests/v2')).status).toBe(404);
    expect((await request('GET', `/v2/app/gone/manifests/${sha256(data)}`)).status).toBe(404);
    expect((await request('DELETE', `/v2/app/gone/blobs/${manifest.layers[0].digest}`)).status).toBe(202);
    expect((await request('GET', `/v2/app/gone/blobs/${manifest.layers[0].digest}`)).status).toBe(404);
    expect((await request('DELETE', `/v2/app/gone/blobs/${manifest.layers[0].digest}`)).status).toBe(404);
  });
});

describe('hostile input', () => {
  test.each([
    ['..', '/v2/../etc/tags/list'],
    ['%2e%2e', '/v2/%2e%2e/etc/tags/list'],
    ['.. inside', '/v2/a/../../b/manifests/latest'],
    ['upper case', '/v2/App/manifests/latest'],
    ['a leading slash', '/v2//a/blobs/uploads/'],
    ['a name too long', `/v2/${'a'.repeat(300)}/tags/list`],
  ])('a repository name with %s is NAME_INVALID', async (_what, target) => {
    const response = await request(target.endsWith('uploads/') ? 'POST' : 'GET', target);
    expect(response.status).toBe(400);
    expect(errorCodes(response)).toEqual(['NAME_INVALID']);
  });

  test.each([
    ['too short', 'sha256:abcd'],
    ['too long', `sha256:${'a'.repeat(65)}`],
    ['upper case', `sha256:${'A'.repeat(64)}`],
    ['another algorithm', `md5:${'a'.repeat(32)}`],
    ['sha512 of sha256 length', `sha512:${'a'.repeat(64)}`],
    ['no algorithm', 'a'.repeat(64)],
  ])('a digest %s is DIGEST_INVALID (400), for blobs, uploads and referrers', async (_what, digest) => {
    for (const [method, target] of [
      ['GET', `/v2/app/web/blobs/${digest}`],
      ['POST', `/v2/app/web/blobs/uploads/?digest=${digest}`],
      ['GET', `/v2/app/web/referrers/${digest}`],
    ]) {
      const response = await request(method, target, method === 'POST' ? { body: 'x' } : {});
      expect(response.status).toBe(400);
      expect(errorCodes(response)).toEqual(['DIGEST_INVALID']);
    }
  });

  test('an unknown endpoint is 404 and a wrong method 405, both with a JSON error', async () => {
    expect(errorCodes(await request('GET', '/v3/'))).toEqual(['UNSUPPORTED']);
    const wrong = await request('PATCH', '/v2/app/web/manifests/v1');
    expect(wrong.status).toBe(405);
    expect(errorCodes(wrong)).toEqual(['UNSUPPORTED']);
  });
});

describe('the access log', () => {
  test('has one line per request, with method, target and status', async () => {
    const marker = `/v2/log/marker-${process.pid}/tags/list`;
    await request('GET', marker);
    const after = `/v2/log/after-${process.pid}/tags/list`;
    await request('GET', after);
    // The line of the request after it is there, so this one's is too.
    await registry.waitFor(new RegExp(`target=${after} `));
    const lines = registry.output().split('\n').filter((line) => line.includes(marker));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`method=GET target=${marker.replace(/\//g, '\\/')} status=404 `));
  });
});

describe('concurrency and disk space', () => {
  test('eight clients uploading the same blob at once, whole and in chunks, all succeed and store it once, intact', async () => {
    const data = crypto.randomBytes(2 * 1024 * 1024);
    const digest = sha256(data);
    const whole = (): Promise<RawResponse> => request('POST', `/v2/same/blob/blobs/uploads/?digest=${digest}`, { body: data });
    const chunked = async (): Promise<RawResponse> => {
      const started = await request('POST', '/v2/same/blob/blobs/uploads/');
      const half = data.length / 2;
      const first = await request('PATCH', started.headers.location!, { body: data.subarray(0, half), headers: { 'Content-Range': `0-${half - 1}` } });
      return request('PUT', `${first.headers.location!}?digest=${digest}`, { body: data.subarray(half), headers: { 'Content-Range': `${half}-${data.length - 1}` } });
    };
    const answers = await Promise.all([whole(), chunked(), whole(), chunked(), whole(), chunked(), whole(), chunked()]);
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(201));
    expect(fs.readFileSync(path.join(store, 'blobs', 'sha256', digest.slice(7))).equals(data)).toBe(true);
    expect((await request('GET', `/v2/same/blob/blobs/${digest}`)).body.equals(data)).toBe(true);
  });

  test('an upload larger than the free disk is refused with 413 before it is written, and leaves no session', async () => {
    const mountpoint = fs.mkdtempSync(path.join(os.tmpdir(), 'ocits-registry-tmpfs-'));
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=96m', 'tmpfs', mountpoint]);
    expect(mounted.status).toBe(0);
    let small: ServedRegistry | undefined;
    try {
      small = await serveRegistry(mountpoint);
      // 96 MiB less the 64 MiB the registry keeps free leaves 32 MiB.
      const data = Buffer.alloc(40 * 1024 * 1024, 1);
      // The server answers and closes while the client may still be sending: it sees the 413 or a reset.
      const refused = await rawRequest(small.url, 'POST', `/v2/full/disk/blobs/uploads/?digest=${sha256(data)}`, { body: data }).catch(() => undefined);
      if (refused !== undefined) {
        expect(refused.status).toBe(413);
        expect(errorCodes(refused)).toEqual(['SIZE_INVALID']);
      }
      expect(fs.readdirSync(path.join(mountpoint, '.ocits', 'uploads'))).toEqual([]);
      expect(fs.existsSync(path.join(mountpoint, 'blobs', 'sha256', sha256(data).slice(7)))).toBe(false);
      const fits = Buffer.alloc(1024 * 1024, 2);
      expect((await rawRequest(small.url, 'POST', `/v2/full/disk/blobs/uploads/?digest=${sha256(fits)}`, { body: fits })).status).toBe(201);
      await small.waitFor(/target="\/v2\/full\/disk\/blobs\/uploads\/\?digest=sha256:[0-9a-f]{64}" status=413 /);
    } finally {
      await small?.stop();
      spawnSync('umount', [mountpoint]);
      fs.rmdirSync(mountpoint);
    }
  });

  test('--log-format json writes one JSON object per request', async () => {
    const json = await serveRegistry(store, ['--log-format', 'json']);
    await rawRequest(json.url, 'GET', '/v2/json/log/tags/list');
    const line = await json.waitFor(/\/v2\/json\/log\/tags\/list/);
    expect(JSON.parse(line)).toEqual(expect.objectContaining({ method: 'GET', target: '/v2/json/log/tags/list', status: 404, remote: '127.0.0.1' }));
    expect(await json.stop()).toBe(0);
  });
});

describe('slow clients, read-only, and a graceful stop', () => {
  let quick: ServedRegistry;
  beforeAll(async () => {
    quick = await serveRegistry(store, ['--timeout', '1']);
  });

  /** Opens a connection, sends head, then one byte of trickle a second; resolves when the server closes it. */
  function trickle(head: string, trickleText: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(Number(quick.address.split(':')[1]), '127.0.0.1');
      let received = '';
      let sent = 0;
      const timer = setInterval(() => {
        if (sent < trickleText.length) socket.write(trickleText[sent++]);
      }, 1000);
      socket.on('data', (chunk) => (received += chunk.toString()));
      socket.on('close', () => {
        clearInterval(timer);
        resolve(received);
      });
      socket.on('error', (error) => {
        clearInterval(timer);
        if ((error as NodeJS.ErrnoException).code === 'ECONNRESET' || (error as NodeJS.ErrnoException).code === 'EPIPE') resolve(received);
        else reject(error);
      });
      socket.write(head);
    });
  }

  test('a manifest sent a byte a second is cut off, stores nothing, and others are served meanwhile', async () => {
    const data = await makeManifest('slow/app', 'slow');
    const cutOff = trickle(
      `PUT /v2/slow/app/manifests/v1 HTTP/1.1\r\nHost: x\r\nContent-Type: ${OCI_MANIFEST}\r\nContent-Length: ${data.length}\r\n\r\n`,
      data.toString(),
    );
    expect((await rawRequest(quick.url, 'GET', '/v2/')).status).toBe(200);
    expect(await cutOff).toBe('');
    expect((await rawRequest(quick.url, 'GET', '/v2/slow/app/manifests/v1')).status).toBe(404);
    await quick.waitFor(/target=\/v2\/slow\/app\/manifests\/v1 status=408 /);
  }, 30_000);

  test('a blob reader that stops reading is cut off, and others are served meanwhile', async () => {
    // Larger than what the socket buffers on both sides hold, so the server must wait for the reader.
    const data = crypto.randomBytes(32 * 1024 * 1024);
    const digest = await pushBlob('slow/reader', data);
    const socket = net.connect(Number(quick.address.split(':')[1]), '127.0.0.1');
    let received = 0;
    socket.on('data', (chunk) => {
      received += chunk.length;
      // Read the answer's start, then nothing more.
      if (received > 64 * 1024) socket.pause();
    });
    socket.write(`GET /v2/slow/reader/blobs/${digest} HTTP/1.1\r\nHost: x\r\n\r\n`);
    try {
      // The line is written once the server has given up on the answer and closed the connection
      // (the client sees the close only after reading what the kernel still holds for it).
      await quick.waitFor(new RegExp(`target=/v2/slow/reader/blobs/${digest} status=200 .*error=`));
      expect((await rawRequest(quick.url, 'GET', '/v2/')).status).toBe(200);
      expect(received).toBeLessThan(data.length);
    } finally {
      socket.destroy();
    }
  }, 30_000);

  test('request headers sent a line a second are cut off', async () => {
    expect(await trickle('GET /v2/ HTTP/1.1\r\n', 'X-Slow: 1\r\nX-Slow: 2\r\nX-Slow: 3\r\n\r\n')).toBe('');
  }, 30_000);

  test('--read-only refuses pushes and deletes with 405 and serves pulls', async () => {
    const data = await makeManifest('readonly/app', 'readonly');
    expect((await putManifest('readonly/app', 'v1', data)).status).toBe(201);
    const readOnly = await serveRegistry(store, ['--read-only']);
    const push = await rawRequest(readOnly.url, 'POST', '/v2/app/web/blobs/uploads/');
    expect(push.status).toBe(405);
    expect(errorCodes(push)).toEqual(['UNSUPPORTED']);
    expect((await rawRequest(readOnly.url, 'DELETE', '/v2/readonly/app/manifests/v1')).status).toBe(405);
    expect((await rawRequest(readOnly.url, 'GET', '/v2/readonly/app/manifests/v1')).body).toEqual(data);
    expect(await readOnly.stop()).toBe(0);
  });

  test('SIGTERM stops accepting, lets the upload in flight finish, and exits 0', async () => {
    const stopping = await serveRegistry(store);
    const port = Number(stopping.address.split(':')[1]);
    const location = (await rawRequest(stopping.url, 'POST', '/v2/stop/app/blobs/uploads/')).headers.location!;
    const data = Buffer.from('the first half|the second half');
    const answer = new Promise<{ status: string; text: string }>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('close', () => resolve({ status: text.split(' ')[1], text }));
      socket.on('error', reject);
      socket.write(`PATCH ${location} HTTP/1.1\r\nHost: x\r\nContent-Range: 0-${data.length - 1}\r\nContent-Length: ${data.length}\r\n\r\n`);
      socket.write(data.subarray(0, 15), () => {
        stopping.child.kill('SIGTERM');
        // Once new connections are refused, the server has begun to stop: send the rest.
        const probe = (): void => {
          const other = net.connect(port, '127.0.0.1');
          other.on('connect', () => {
            other.destroy();
            setTimeout(probe, 50);
          });
          other.on('error', () => socket.write(data.subarray(15)));
        };
        probe();
      });
    });
    const { status, text } = await answer;
    expect(status).toBe('202');
    expect(text).toMatch(/\r\nRange: 0-29\r\n/i);
    expect(await stopping.stop()).toBe(0);
  });
});
