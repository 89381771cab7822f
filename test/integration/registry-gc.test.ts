// `ocits registry gc` against a store a running `ocits registry serve`
// serves: it removes blobs no manifest or referrer reaches, keeps those a
// push has just uploaded (leases), and never breaks a push in progress.
import * as crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ocits } from '../helpers/cli';
import { ocitsAsync, imageCorpus, type Expectations } from '../helpers/registry';
import { EMPTY_CONFIG, OCI_MANIFEST, artifactManifest, rawRequest, serveRegistry, type ServedRegistry } from '../helpers/registry-server';
import { tempDir } from '../helpers/tmp';


let layout: string;
let expectations: Expectations;
let store: string;
let registry: ServedRegistry;

const sha256 = (data: Buffer | string): string => `sha256:${crypto.createHash('sha256').update(data).digest('hex')}`;
const blobFile = (digest: string): string => path.join(store, 'blobs', ...digest.split(':'));

function gc(...args: string[]): { removed: string[]; summary: string } {
  const result = ocits(['registry', 'gc', '--store', store, ...args]);
  expect(result.status).toBe(0);
  const lines = result.stdout.trim().split('\n');
  return { removed: lines.slice(0, -1), summary: lines[lines.length - 1] };
}

/** Makes every lease look an hour and more old, as if the push that took it were long over. */
function expireLeases(): void {
  const dir = path.join(store, '.ocits', 'leases');
  const past = new Date(Date.now() - 2 * 60 * 60 * 1000);
  for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) fs.utimesSync(path.join(dir, name), past, past);
}

async function pushBlob(name: string, data: Buffer | string): Promise<string> {
  const response = await rawRequest(registry.url, 'POST', `/v2/${name}/blobs/uploads/?digest=${sha256(data)}`, { body: data });
  expect(response.status).toBe(201);
  return sha256(data);
}

beforeAll(async () => {
  ({ layout, expectations } = imageCorpus());
  store = tempDir('ocits-gc-store-');
  registry = await serveRegistry(store);
}, 300_000);

test('a blob just uploaded is kept while its lease lasts; dry-run lists, gc removes it once no push can still name it', async () => {
  const digest = await pushBlob('gc/app', 'orphan soon');
  expect(gc().removed).not.toContain(digest);
  expect(fs.existsSync(blobFile(digest))).toBe(true);
  expireLeases();
  const dry = gc('--dry-run');
  expect(dry.removed).toContain(digest);
  expect(dry.summary).toMatch(/^would free /);
  expect(fs.existsSync(blobFile(digest))).toBe(true);
  const real = gc();
  expect(real.removed).toContain(digest);
  expect(real.summary).toMatch(/^freed /);
  expect(fs.existsSync(blobFile(digest))).toBe(false);
  expect((await rawRequest(registry.url, 'HEAD', `/v2/gc/app/blobs/${digest}`)).status).toBe(404);
});

test('blobs of tagged images, untagged manifests and referrers stay; those of a deleted manifest go', async () => {
  const config = await pushBlob('gc/app', JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const layer = await pushBlob('gc/app', 'a layer');
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: fs.statSync(blobFile(config)).size },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer, size: 7 }],
    }),
  );
  const put = (reference: string, data: Buffer) =>
    rawRequest(registry.url, 'PUT', `/v2/gc/app/manifests/${reference}`, { body: data, headers: { 'Content-Type': OCI_MANIFEST } });
  expect((await put('v1', manifest)).status).toBe(201);
  // A referrer with a layer of an artifact's own media type.
  const empty = await pushBlob('gc/app', EMPTY_CONFIG);
  const sbom = await pushBlob('gc/app', 'an sbom');
  const referrer = artifactManifest('application/vnd.example.sbom', [{ mediaType: 'application/vnd.example.sbom.layer', digest: sbom, size: 7 }], {
    digest: sha256(manifest),
    size: manifest.length,
  });
  expect((await put(sha256(referrer), referrer)).status).toBe(201);
  expireLeases();
  const kept = [config, layer, empty, sbom, sha256(manifest), sha256(referrer)];
  const first = gc();
  for (const digest of kept) expect(first.removed).not.toContain(digest);
  for (const digest of kept) expect(fs.existsSync(blobFile(digest))).toBe(true);

  expect((await rawRequest(registry.url, 'DELETE', `/v2/gc/app/manifests/${sha256(manifest)}`)).status).toBe(202);
  const second = gc();
  expect(second.removed).toEqual(expect.arrayContaining([config, layer, sha256(manifest)]));
  // The referrer is an entry of its own: it and its blobs stay until it is deleted.
  for (const digest of [empty, sbom, sha256(referrer)]) expect(fs.existsSync(blobFile(digest))).toBe(true);
});

test('gc running again and again during a push never takes a blob the push needs', async () => {
  const pusher = tempDir('ocits-gc-source-');
  const copied = spawnSync('skopeo', ['copy', '--preserve-digests', `oci:${layout}:deb`, `oci:${pusher}:localhost/src/deb:latest`], { encoding: 'utf8' });
  expect(copied.stderr).toBe('');
  const push = ocitsAsync(['push', '--store', pusher, '--tls-verify=false', '-q', '--jobs', '1', 'localhost/src/deb:latest', `${registry.address}/gc/deb:live`]);
  let done = false;
  void push.then(() => (done = true));
  let runs = 0;
  while (!done) {
    const result = await ocitsAsync(['registry', 'gc', '--store', store]);
    expect(result.status).toBe(0);
    runs++;
  }
  const pushed = await push;
  expect(pushed.stderr).toBe('');
  expect(pushed.status).toBe(0);
  expect(pushed.stdout).toBe(`${expectations.images.deb.digest}\n`);
  expect(runs).toBeGreaterThan(0);
  for (const layer of expectations.images.deb.layers) expect(fs.existsSync(blobFile(layer.digest))).toBe(true);
  const inspected = spawnSync('skopeo', ['inspect', '--tls-verify=false', `docker://${registry.address}/gc/deb:live`], { encoding: 'utf8' });
  expect(JSON.parse(inspected.stdout).Digest).toBe(expectations.images.deb.digest);
}, 120_000);

test('gc refuses the flags of serve, with one line', () => {
  const result = ocits(['registry', 'gc', '--store', store, '--listen', '127.0.0.1:0']);
  expect(result.status).toBe(1);
  expect(result.stderr).toBe('ocits: registry gc: --listen is a flag of registry serve\n');
});
