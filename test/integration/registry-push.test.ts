// `ocits push` to Debian's docker-registry (no auth, Basic, token) and to
// `ocits registry serve`: skopeo sees the digests the store has, a second
// push sends no blob, and blobs of another repository of the same registry
// are mounted rather than sent.
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import { expectOneLineError, ocits } from '../helpers/cli';
import { imageCorpus, startRegistry, stopRegistry, type Expectations, type RunningRegistry } from '../helpers/registry';
import { serveRegistry, type ServedRegistry } from '../helpers/registry-server';
import { tempDir } from '../helpers/tmp';

let layout: string;
let expectations: Expectations;
/** A store with the corpus in it, filled through our own registry. */
let store: string;
let source: ServedRegistry;
let target: ServedRegistry;
const registries: Partial<Record<'none' | 'basic' | 'token', RunningRegistry>> = {};

function skopeo(args: string[]): string {
  const result = spawnSync('skopeo', args, { encoding: 'utf8', timeout: 10 * 60_000 });
  if (result.status !== 0) throw new Error(`skopeo ${args.join(' ')} failed:\n${result.stderr}`);
  return result.stdout;
}

function push(args: string[]) {
  return ocits(['push', '--store', store, '--tls-verify=false', ...args]);
}


beforeAll(async () => {
  ({ layout, expectations } = imageCorpus());
  store = tempDir('ocits-push-store-');
  source = await serveRegistry(store);
  for (const ref of ['tiny', 'multi', 'deb']) {
    skopeo(['copy', '--all', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout}:${ref}`, `docker://${source.address}/test/${ref}:latest`]);
  }
  target = await serveRegistry(tempDir('ocits-push-target-'));
  registries.none = startRegistry('none', ['tiny']);
  registries.basic = startRegistry('basic', ['tiny']);
  registries.token = startRegistry('token', ['tiny']);
}, 300_000);

afterAll(() => {
  for (const registry of Object.values(registries)) stopRegistry(registry);
});

describe('ocits push to docker-registry', () => {
  test('pushes the Debian image: skopeo sees its digest; a second push sends no blob', () => {
    const destination = `${registries.none!.address}/pushed/deb:v1`;
    const first = push(['localhost/test/deb:latest', destination]);
    expect(first.stderr).toContain(`pushing localhost/test/deb:latest to ${destination}`);
    expect(first.status).toBe(0);
    expect(first.stdout).toBe(`${expectations.images.deb.digest}\n`);
    expect(first.stderr).toContain(`${expectations.images.deb.layers.length + 1} blobs sent, 0 mounted, 0 already there`);
    expect(JSON.parse(skopeo(['inspect', '--tls-verify=false', `docker://${destination}`])).Digest).toBe(expectations.images.deb.digest);
    const second = push(['localhost/test/deb:latest', destination]);
    expect(second.status).toBe(0);
    expect(second.stderr).toContain(`0 blobs sent, 0 mounted, ${expectations.images.deb.layers.length + 1} already there`);
  });

  test('pushes a multi-platform index with its platform manifests, children first', () => {
    const destination = `${registries.none!.address}/pushed/multi:v1`;
    const result = push(['localhost/test/multi:latest', destination]);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`${expectations.images.multi.digest}\n`);
    const raw = skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${destination}`]);
    expect(JSON.parse(raw).manifests).toHaveLength(2);
    for (const platform of Object.values(expectations.images.multi.platforms ?? {})) {
      skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${registries.none!.address}/pushed/multi@${platform.digest}`]);
    }
  });

  test('mounts blobs from the repository of the same registry the image came from', () => {
    const pulledStore = tempDir('ocits-push-pulled-');
    const name = `${registries.none!.address}/test/tiny:latest`;
    expect(ocits(['pull', '--store', pulledStore, '--tls-verify=false', '-q', name]).status).toBe(0);
    const result = ocits(['push', '--store', pulledStore, '--tls-verify=false', name, `${registries.none!.address}/copy/tiny:latest`]);
    expect(result.status).toBe(0);
    expect(result.stderr).toContain(`0 blobs sent, ${expectations.images.tiny.layers.length + 1} mounted, 0 already there`);
  });

  test.each(['basic', 'token'] as const)('with %s auth: refused without credentials, pushed with them', (auth) => {
    const registry = registries[auth]!;
    const destination = `${registry.address}/pushed/tiny:v1`;
    expectOneLineError(push(['localhost/test/tiny:latest', destination]), /authentication required/);
    const result = push(['--creds', registry.creds!, 'localhost/test/tiny:latest', destination]);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`${expectations.images.tiny.digest}\n`);
    const inspected = JSON.parse(skopeo(['inspect', '--tls-verify=false', '--creds', registry.creds!, `docker://${destination}`]));
    expect(inspected.Digest).toBe(expectations.images.tiny.digest);
  });

  test('a pull-only token user is refused with a one-line error', () => {
    const registry = registries.token!;
    expectOneLineError(push(['--creds', registry.readOnlyCreds!, 'localhost/test/tiny:latest', `${registry.address}/pushed/denied:v1`]), /denied|authentication|401|403/);
  });
});

describe('ocits push to ocits registry serve', () => {
  test('pushes deb and multi; skopeo sees the digests; a second push sends no blob (no upload in the access log)', async () => {
    for (const ref of ['deb', 'multi']) {
      const destination = `${target.address}/team/${ref}:1.0`;
      const result = push([`localhost/test/${ref}:latest`, destination]);
      expect(result.status).toBe(0);
      expect(result.stdout).toBe(`${expectations.images[ref].digest}\n`);
      const raw = skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${destination}`]);
      expect(`sha256:${crypto.createHash('sha256').update(raw).digest('hex')}`).toBe(expectations.images[ref].digest);
    }
    const uploadsBefore = ((await target.settledOutput()).match(/method=POST target=\/v2\/team\/deb\/blobs\/uploads/g) ?? []).length;
    const again = push(['localhost/test/deb:latest', `${target.address}/team/deb:1.0`]);
    expect(again.status).toBe(0);
    expect(again.stderr).toContain('0 blobs sent');
    expect(((await target.settledOutput()).match(/method=POST target=\/v2\/team\/deb\/blobs\/uploads/g) ?? []).length).toBe(uploadsBefore);
  });

  test('an image not in the store, or a bad destination, is a one-line error', () => {
    expectOneLineError(push(['nothing:1', `${target.address}/x/y`]), /is not in the store/);
    expectOneLineError(push(['localhost/test/tiny:latest', `${target.address}/Bad/Name`]), /invalid image reference/);
    expectOneLineError(push(['localhost/test/tiny:latest', `${target.address}/x@sha256:${'0'.repeat(64)}`]), /has digest sha256:/);
  });
});
