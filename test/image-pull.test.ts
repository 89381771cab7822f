// `ocits pull` against Debian's docker-registry in its three auth modes, and
// against a registry of our own for corrupt and interrupted downloads.
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ImageStore } from '../src/image/store';
import { ocits } from './helpers/cli';
import { startFakeRegistry, type FakeBlob, type FakeRegistry } from './helpers/fake-registry';
import { imageCorpus, ocitsAsync, startRegistry, stopRegistry, type Expectations, type RunningRegistry } from './helpers/registry';
import { tempDir } from './helpers/tmp';

let expectations: Expectations;
const registries: Partial<Record<'none' | 'basic' | 'token', RunningRegistry>> = {};
const fakes: FakeRegistry[] = [];

beforeAll(() => {
  expectations = imageCorpus().expectations;
  registries.none = startRegistry('none', ['deb', 'deb-zstd', 'tiny', 'multi']);
  registries.basic = startRegistry('basic', ['tiny']);
  registries.token = startRegistry('token', ['tiny']);
}, 300_000);

afterAll(async () => {
  for (const registry of Object.values(registries)) stopRegistry(registry);
  for (const fake of fakes) await fake.close();
});

function pull(store: string, args: string[], env?: NodeJS.ProcessEnv) {
  return ocits(['pull', '--store', store, '--tls-verify=false', ...args], env !== undefined ? { env } : {});
}

/** Checks a failed command: one line naming the thing, exit 1. */
function expectOneLineError(result: { status: number | null; stderr: string }, message: RegExp): void {
  expect(result.status).toBe(1);
  const lines = result.stderr.trim().split('\n');
  expect(lines[lines.length - 1]).toMatch(/^ocits: /);
  expect(lines[lines.length - 1]).toMatch(message);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

function storeEntries(store: string): string[] {
  return new ImageStore(store).references().map((r) => `${r.name} ${r.descriptor.digest}`);
}

describe('ocits pull from docker-registry', () => {
  test('pulls the Debian image: the last line is its manifest digest, and skopeo reads the store', () => {
    const store = tempDir();
    const reference = `${registries.none!.address}/test/deb:latest`;
    const result = pull(store, [`${registries.none!.address}/test/deb`]);
    expect(result.stderr).toContain(`pulling ${reference}`);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`${expectations.images.deb.digest}\n`);
    expect(storeEntries(store)).toEqual([`${reference} ${expectations.images.deb.digest}`]);
    for (const layer of expectations.images.deb.layers) {
      expect(fs.statSync(path.join(store, 'blobs', 'sha256', layer.digest.slice(7))).size).toBe(layer.size);
    }
    const inspected = spawnSync('skopeo', ['inspect', `oci:${store}:${reference}`], { encoding: 'utf8' });
    expect(inspected.status).toBe(0);
    expect(JSON.parse(inspected.stdout).Digest).toBe(expectations.images.deb.digest);
    expect(fs.readdirSync(path.join(store, '.ocits', 'ingest'))).toEqual([]);
  });

  test('pulls zstd layers', () => {
    const store = tempDir();
    const result = pull(store, ['--quiet', `${registries.none!.address}/test/deb-zstd`]);
    expect(result.status).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(`${expectations.images['deb-zstd'].digest}\n`);
  });

  test('--platform linux/arm64 selects the arm64 manifest of an index; the default is the host', () => {
    const store = tempDir();
    const reference = `${registries.none!.address}/test/multi`;
    expect(pull(store, ['-q', '--platform', 'linux/arm64', reference]).stdout).toBe(`${expectations.images.multi.platforms!['linux/arm64/v8'].digest}\n`);
    if (process.arch === 'x64') expect(pull(store, ['-q', reference]).stdout).toBe(`${expectations.images.multi.platforms!['linux/amd64'].digest}\n`);
  });

  test('an unknown platform lists the platforms the index has, and leaves nothing', () => {
    const store = path.join(tempDir(), 'store');
    const result = pull(store, ['--platform', 'linux/s390x', `${registries.none!.address}/test/multi`]);
    expectOneLineError(result, /has no manifest for platform linux\/s390x; it has linux\/amd64, linux\/arm64\/v8$/);
    expect(fs.existsSync(store)).toBe(false);
  });

  test('two pulls of one image at once both succeed and share the blobs', async () => {
    const store = tempDir();
    const reference = `${registries.none!.address}/test/deb`;
    const args = ['pull', '--store', store, '--tls-verify=false', '-q', reference];
    const [first, second] = await Promise.all([ocitsAsync(args), ocitsAsync(args)]);
    expect([first.status, second.status, first.stderr, second.stderr]).toEqual([0, 0, '', '']);
    expect(first.stdout).toBe(`${expectations.images.deb.digest}\n`);
    expect(second.stdout).toBe(first.stdout);
    expect(storeEntries(store)).toEqual([`${registries.none!.address}/test/deb:latest ${expectations.images.deb.digest}`]);
    expect(fs.readdirSync(path.join(store, '.ocits', 'ingest'))).toEqual([]);
  });

  describe('bad input: one line naming the thing, exit 1, nothing in the store', () => {
    test.each([
      ['an unknown image', () => `${registries.none!.address}/test/nothing-here`, /test\/nothing-here:latest: not found \(MANIFEST_UNKNOWN/],
      ['an unknown tag', () => `${registries.none!.address}/test/deb:nope`, /test\/deb:nope: not found/],
      ['a malformed reference', () => `${registries.none!.address}/Test//deb`, /invalid image reference/],
      ['an unreachable registry', () => '127.0.0.1:1/test/deb', /cannot reach the registry: connection refused/],
    ])('%s', (_what, reference, message) => {
      const store = path.join(tempDir(), 'store');
      expectOneLineError(pull(store, [reference()]), message);
      expect(storeEntries(store)).toEqual([]);
      expect(new ImageStore(store).listBlobs()).toEqual([]);
    });

    test('flags: --jobs 0 and a malformed --platform', () => {
      const store = path.join(tempDir(), 'store');
      expectOneLineError(pull(store, ['--jobs', '0', `${registries.none!.address}/test/tiny`]), /--jobs must be at least 1/);
      expectOneLineError(pull(store, ['--platform', 'linux', `${registries.none!.address}/test/tiny`]), /invalid platform "linux"/);
      expect(fs.existsSync(store)).toBe(false);
    });
  });
});

describe.each(['basic', 'token'] as const)('ocits pull with %s auth', (mode) => {
  const tiny = () => `${registries[mode]!.address}/test/tiny`;

  test('--creds', () => {
    const store = tempDir();
    const result = pull(store, ['-q', '--creds', registries[mode]!.creds!, tiny()]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(`${expectations.images.tiny.digest}\n`);
  });

  test('an auth file, given by --authfile and by REGISTRY_AUTH_FILE', () => {
    const store = tempDir();
    const authFile = path.join(tempDir(), 'auth.json');
    const auth = Buffer.from(registries[mode]!.creds!).toString('base64');
    fs.writeFileSync(authFile, JSON.stringify({ auths: { [registries[mode]!.address]: { auth } } }));
    expect(pull(store, ['-q', '--authfile', authFile, tiny()]).stdout).toBe(`${expectations.images.tiny.digest}\n`);
    const env = { ...process.env, REGISTRY_AUTH_FILE: authFile };
    expect(pull(tempDir(), ['-q', tiny()], env).stdout).toBe(`${expectations.images.tiny.digest}\n`);
  });

  test('docker config.json under $HOME, as the last source', () => {
    const home = tempDir();
    fs.mkdirSync(path.join(home, '.docker'));
    const auth = Buffer.from(registries[mode]!.creds!).toString('base64');
    fs.writeFileSync(path.join(home, '.docker', 'config.json'), JSON.stringify({ auths: { [`http://${registries[mode]!.address}`]: { auth } } }));
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_RUNTIME_DIR: tempDir() };
    delete env.REGISTRY_AUTH_FILE;
    delete env.DOCKER_CONFIG;
    expect(pull(tempDir(), ['-q', tiny()], env).stdout).toBe(`${expectations.images.tiny.digest}\n`);
  });

  test('no credentials and wrong credentials fail cleanly and leave nothing', () => {
    const store = path.join(tempDir(), 'store');
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: tempDir(), XDG_RUNTIME_DIR: tempDir() };
    delete env.REGISTRY_AUTH_FILE;
    expectOneLineError(pull(store, [tiny()], env), /test\/tiny:latest: authentication required/);
    expectOneLineError(pull(store, ['--creds', 'ocits:wrong', tiny()], env), /test\/tiny:latest: authentication failed: wrong credentials/);
    expect(fs.existsSync(store)).toBe(false);
  });

  test('a missing --authfile is named', () => {
    expectOneLineError(pull(tempDir(), ['--authfile', '/nonexistent/auth.json', tiny()]), /cannot read the auth file \/nonexistent\/auth.json/);
  });
});

/** A one-layer image whose layer is `size` random bytes. */
function syntheticImage(size: number) {
  const layer = crypto.randomBytes(size);
  const layerDigest = `sha256:${crypto.createHash('sha256').update(layer).digest('hex')}`;
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layerDigest] } }));
  const configDigest = `sha256:${crypto.createHash('sha256').update(config).digest('hex')}`;
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
    }),
  );
  const blobs = new Map<string, FakeBlob>([
    [configDigest, { data: config }],
    [layerDigest, { data: layer }],
  ]);
  return { manifest: { data: manifest, mediaType: 'application/vnd.oci.image.manifest.v1+json' }, blobs, layerDigest, layer };
}

describe('ocits pull from a registry that misbehaves', () => {
  test('a corrupted blob: the error names the digest, and neither blob nor partial is kept', async () => {
    const image = syntheticImage(200_000);
    image.blobs.get(image.layerDigest)!.corruptWith = crypto.randomBytes(200_000);
    const fake = await startFakeRegistry('test/corrupt', image.manifest, image.blobs);
    fakes.push(fake);
    const store = tempDir();
    const result = await ocitsAsync(['pull', '--store', store, '--tls-verify=false', '-q', `${fake.address}/test/corrupt`]);
    expectOneLineError(result, new RegExp(`blob ${image.layerDigest}: downloaded content has digest sha256:[0-9a-f]{64}; the partial blob was removed`));
    expect(new ImageStore(store).hasBlob(image.layerDigest)).toBe(false);
    expect(fs.readdirSync(path.join(store, '.ocits', 'ingest'))).toEqual([]);
    expect(storeEntries(store)).toEqual([]);
  });

  test('a pull killed half-way leaves a readable store; the next pull resumes with a Range request', async () => {
    const image = syntheticImage(3_000_000);
    const blob = image.blobs.get(image.layerDigest)!;
    blob.stallAfter = 1_000_000;
    const fake = await startFakeRegistry('test/resume', image.manifest, image.blobs);
    fakes.push(fake);
    const store = tempDir();
    const partial = path.join(store, '.ocits', 'ingest', `sha256-${image.layerDigest.slice(7)}`);
    const args = ['pull', '--store', store, '--tls-verify=false', '-q', `${fake.address}/test/resume`];
    const killed = await ocitsAsync(args, {
      onSpawn: (child) => {
        const poll = setInterval(() => {
          if (fs.existsSync(partial) && fs.statSync(partial).size >= 1_000_000) {
            clearInterval(poll);
            child.kill('SIGKILL');
          }
        }, 20);
      },
    });
    expect(killed.signal).toBe('SIGKILL');
    expect(fs.statSync(partial).size).toBe(1_000_000);
    expect(storeEntries(store)).toEqual([]);
    expect(ocits(['images', '--store', store]).status).toBe(0);

    delete blob.stallAfter;
    const resumed = await ocitsAsync(args);
    expect(resumed.stderr).toBe('');
    expect(resumed.status).toBe(0);
    expect(fake.requests.filter((r) => r.url.includes(image.layerDigest)).map((r) => r.range)).toEqual([undefined, 'bytes=1000000-']);
    expect(new ImageStore(store).readBlob(image.layerDigest).equals(image.layer)).toBe(true);
    expect(fs.existsSync(partial)).toBe(false);
  });
});
