// `ocits pull` against Debian's docker-registry in its three auth modes, and
// against a registry of our own for corrupt and interrupted downloads.
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ImageStore } from '../../src/image/store';
import { OCITS, expectOneLineError, ocits } from '../helpers/cli';
import { startFakeRegistry, type FakeBlob, type FakeRegistry } from '../helpers/fake-registry';
import { imageCorpus, ocitsAsync, startRegistry, stopRegistry, type Expectations, type RunningRegistry } from '../helpers/registry';
import { tempDir } from '../helpers/tmp';

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

  test('progress: a bar per layer on a terminal, plain lines otherwise; the last line is the digest', () => {
    const reference = `${registries.none!.address}/test/tiny`;
    const command = `${OCITS} pull --store ${tempDir()} --tls-verify=false ${reference}`;
    // script(1) gives the command a terminal.
    const onTerminal = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8' });
    expect(onTerminal.status).toBe(0);
    const layer = expectations.images.tiny.layers[0];
    expect(onTerminal.stdout).toMatch(new RegExp(`blob ${layer.digest.slice(0, 19)} \\[=+\\] [0-9.]+ [KM]iB / [0-9.]+ [KM]iB done`));
    expect(onTerminal.stdout.trimEnd().split(/\r?\n/).pop()).toBe(expectations.images.tiny.digest);
    const plain = pull(tempDir(), [reference]);
    expect(plain.stderr).toMatch(new RegExp(`^pulling ${reference}:latest\nblob ${layer.digest.slice(0, 19)}: done \\([0-9.]+ [KM]iB\\)\n$`));
    expect(plain.stdout).toBe(`${expectations.images.tiny.digest}\n`);
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

  test('a single-platform image for another platform is pulled with a warning, as podman does', () => {
    const result = pull(tempDir(), ['--platform', 'linux/arm64', `${registries.none!.address}/test/tiny`]);
    expect(result.status).toBe(0);
    expect(result.stderr).toContain(`warning: ${registries.none!.address}/test/tiny:latest is for linux/amd64, not linux/arm64`);
    expect(result.stdout).toBe(`${expectations.images.tiny.digest}\n`);
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

  test('a docker credential helper named by credHelpers', () => {
    const home = tempDir();
    const bin = tempDir();
    const [user, pass] = registries[mode]!.creds!.split(':');
    fs.writeFileSync(path.join(bin, 'docker-credential-ocitstest'), `#!/bin/sh\n[ "$1" = get ] || exit 1\nserver=$(cat)\necho '{"ServerURL":"'$server'","Username":"${user}","Secret":"${pass}"}'\n`, { mode: 0o755 });
    fs.mkdirSync(path.join(home, '.docker'));
    fs.writeFileSync(path.join(home, '.docker', 'config.json'), JSON.stringify({ credHelpers: { [registries[mode]!.address]: 'ocitstest' } }));
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_RUNTIME_DIR: tempDir(), PATH: `${bin}:${process.env.PATH}` };
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

const OCI_TYPES = { manifest: 'application/vnd.oci.image.manifest.v1+json', config: 'application/vnd.oci.image.config.v1+json', layer: 'application/vnd.oci.image.layer.v1.tar' };
const DOCKER_TYPES = { manifest: 'application/vnd.docker.distribution.manifest.v2+json', config: 'application/vnd.docker.container.image.v1+json', layer: 'application/vnd.docker.image.rootfs.diff.tar.gzip' };

/** A one-layer image whose layer is `size` random bytes (never unpacked: pull does not look inside). */
function syntheticImage(size: number, types = OCI_TYPES) {
  const layer = crypto.randomBytes(size);
  const layerDigest = `sha256:${crypto.createHash('sha256').update(layer).digest('hex')}`;
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layerDigest] } }));
  const configDigest = `sha256:${crypto.createHash('sha256').update(config).digest('hex')}`;
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: types.manifest,
      config: { mediaType: types.config, digest: configDigest, size: config.length },
      layers: [{ mediaType: types.layer, digest: layerDigest, size: layer.length }],
    }),
  );
  const blobs = new Map<string, FakeBlob>([
    [configDigest, { data: config }],
    [layerDigest, { data: layer }],
  ]);
  const manifestDigest = `sha256:${crypto.createHash('sha256').update(manifest).digest('hex')}`;
  return { manifest: { data: manifest, mediaType: types.manifest }, manifestDigest, blobs, layerDigest, layer };
}

async function fakeRegistry(...args: Parameters<typeof startFakeRegistry>): Promise<FakeRegistry> {
  const fake = await startFakeRegistry(...args);
  fakes.push(fake);
  return fake;
}

describe('manifest formats', () => {
  test('a Docker schema 2 manifest list and manifest, by tag and by digest', async () => {
    const amd64 = syntheticImage(1000, DOCKER_TYPES);
    const arm64 = syntheticImage(1000, DOCKER_TYPES);
    const list = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json',
        manifests: [
          { mediaType: DOCKER_TYPES.manifest, digest: amd64.manifestDigest, size: amd64.manifest.data.length, platform: { architecture: 'amd64', os: 'linux' } },
          { mediaType: DOCKER_TYPES.manifest, digest: arm64.manifestDigest, size: arm64.manifest.data.length, platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
        ],
      }),
    );
    const manifests = new Map([
      ['v1', { data: list, mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json' }],
      [amd64.manifestDigest, amd64.manifest],
      [arm64.manifestDigest, arm64.manifest],
    ]);
    const fake = await fakeRegistry('test/docker', manifests, new Map([...amd64.blobs, ...arm64.blobs]));
    const store = tempDir();
    // The fake registry answers from this process: the CLI runs without blocking it.
    const pullAsync = (args: string[]) => ocitsAsync(['pull', '--store', store, '--tls-verify=false', '-q', ...args]);
    expect((await pullAsync(['--platform', 'linux/arm64/v8', `${fake.address}/test/docker:v1`])).stdout).toBe(`${arm64.manifestDigest}\n`);
    expect((await pullAsync([`${fake.address}/test/docker@${amd64.manifestDigest}`])).stdout).toBe(`${amd64.manifestDigest}\n`);
    const stored = new ImageStore(store).references();
    expect(stored.map((r) => [r.name, r.descriptor.mediaType])).toEqual([
      [`${fake.address}/test/docker:v1`, DOCKER_TYPES.manifest],
      [`${fake.address}/test/docker@${amd64.manifestDigest}`, DOCKER_TYPES.manifest],
    ]);
  });

  test('a manifest whose content does not match the digest asked for is refused', async () => {
    const image = syntheticImage(100);
    const wrong = `sha256:${'0'.repeat(64)}`;
    const fake = await fakeRegistry('test/lying', new Map([[wrong, image.manifest]]), image.blobs);
    const store = path.join(tempDir(), 'store');
    expectOneLineError(await ocitsAsync(['pull', '--store', store, '--tls-verify=false', `${fake.address}/test/lying@${wrong}`]), new RegExp(`manifest .*@${wrong}: content has digest ${image.manifestDigest}`));
    expect(fs.existsSync(store)).toBe(false);
  });
});

describe('ocits pull from a registry that misbehaves', () => {
  test('a corrupted blob: the error names the digest, and neither blob nor partial is kept', async () => {
    const image = syntheticImage(200_000);
    image.blobs.get(image.layerDigest)!.corruptWith = crypto.randomBytes(200_000);
    const fake = await fakeRegistry('test/corrupt', image.manifest, image.blobs);
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
    const fake = await fakeRegistry('test/resume', image.manifest, image.blobs);
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

  test('503 and 429 answers are retried until the blob comes', async () => {
    const image = syntheticImage(10_000);
    image.blobs.get(image.layerDigest)!.failWith = [503, 429];
    const fake = await fakeRegistry('test/flaky', image.manifest, image.blobs);
    const result = await ocitsAsync(['pull', '--store', tempDir(), '--tls-verify=false', '-q', `${fake.address}/test/flaky`]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(`${image.manifestDigest}\n`);
    expect(fake.requests.filter((r) => r.url.includes(image.layerDigest))).toHaveLength(3);
  });

  test('a registry that ignores Range: the resumed download starts over and is still verified', async () => {
    const image = syntheticImage(2_000_000);
    const blob = image.blobs.get(image.layerDigest)!;
    blob.noRange = true;
    const fake = await fakeRegistry('test/norange', image.manifest, image.blobs);
    const store = new ImageStore(tempDir());
    const partial = (await store.beginIngest(image.layerDigest))!;
    fs.writeSync(partial.fd, image.layer.subarray(0, 500_000));
    store.abortIngest(partial, false);
    const result = await ocitsAsync(['pull', '--store', store.root, '--tls-verify=false', '-q', `${fake.address}/test/norange`]);
    expect(result.stderr).toBe('');
    expect(fake.requests.filter((r) => r.url.includes(image.layerDigest)).map((r) => r.range)).toEqual(['bytes=500000-']);
    expect(store.readBlob(image.layerDigest).equals(image.layer)).toBe(true);
  });

  test('HTTPS by default: an untrusted certificate is refused by name; --tls-verify=false accepts it over TLS', async () => {
    const dir = tempDir();
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { encoding: 'utf8' });
    expect(made.status).toBe(0);
    const image = syntheticImage(1000);
    const tls = { key: fs.readFileSync(path.join(dir, 'key.pem'), 'utf8'), cert: fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8') };
    const fake = await fakeRegistry('test/tls', image.manifest, image.blobs, tls);
    const store = path.join(tempDir(), 'store');
    const refused = await ocitsAsync(['pull', '--store', store, `${fake.address}/test/tls`]);
    expectOneLineError(refused, new RegExp(`TLS connection to ${fake.address} failed: self-signed certificate; for a registry without a trusted certificate give --tls-verify=false`));
    expect(fs.existsSync(store)).toBe(false);
    const served = fake.requests.length;
    const accepted = await ocitsAsync(['pull', '--store', store, '--tls-verify=false', '-q', `${fake.address}/test/tls`]);
    expect(accepted.stdout).toBe(`${image.manifestDigest}\n`);
    expect(fake.requests.length).toBeGreaterThan(served);
  });
});
