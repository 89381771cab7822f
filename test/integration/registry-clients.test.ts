// Real clients against `ocits registry serve`: skopeo and podman push the
// corpus of ../shared/tools/images and pull it back byte for byte, over HTTP
// anonymously and over TLS with htpasswd; containerd's ctr pulls over plain
// HTTP. Each client keeps its state in a private directory.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO } from '../helpers/cli';
import { imageCorpus, type Expectations } from '../helpers/registry';
import { rawRequest, serveRegistry, type ServedRegistry } from '../helpers/registry-server';
import { tempDir } from '../helpers/tmp';

const ENGINES = path.resolve(REPO, '..', 'shared', 'tools', 'engines');
const USER = 'pusher';
const PASSWORD = 'secret-of-pusher';

let layout: string;
let expectations: Expectations;
let plain: ServedRegistry;
let secure: ServedRegistry;
let certDir: string;
let containerdWork: string | undefined;

function run(program: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(program, args, { encoding: 'utf8', timeout: 10 * 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function mustRun(program: string, args: string[]): string {
  const result = run(program, args);
  if (result.status !== 0) throw new Error(`${program} ${args.join(' ')} failed (${result.status}):\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** The digests of every blob an OCI layout's ref reaches, read from the layout itself. */
function layoutDigests(dir: string, ref: string): string[] {
  const raw = mustRun('skopeo', ['inspect', '--raw', `oci:${dir}:${ref}`]);
  const document = JSON.parse(raw) as { manifests?: Array<{ digest: string }>; config?: { digest: string }; layers?: Array<{ digest: string }> };
  const blobs = [...(document.manifests ?? []).map((m) => m.digest), ...(document.config ? [document.config.digest] : []), ...(document.layers ?? []).map((l) => l.digest)];
  return blobs.sort();
}

beforeAll(async () => {
  ({ layout, expectations } = imageCorpus());
  plain = await serveRegistry(tempDir('ocits-registry-plain-'));
  certDir = tempDir('ocits-registry-certs-');
  mustRun('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(certDir, 'registry.key'), '-out', path.join(certDir, 'registry.crt'),
  ]);
  // skopeo and podman read a CA from a directory of *.crt files.
  fs.mkdirSync(path.join(certDir, 'ca'));
  fs.copyFileSync(path.join(certDir, 'registry.crt'), path.join(certDir, 'ca', 'ca.crt'));
  const htpasswd = path.join(certDir, 'htpasswd');
  fs.writeFileSync(htpasswd, mustRun('htpasswd', ['-Bbn', USER, PASSWORD]));
  secure = await serveRegistry(tempDir('ocits-registry-secure-'), [
    '--tls-cert', path.join(certDir, 'registry.crt'), '--tls-key', path.join(certDir, 'registry.key'), '--htpasswd', htpasswd,
  ]);
}, 300_000);

afterAll(() => {
  if (containerdWork === undefined) return;
  // Not a tempDir: those go in an afterAll that runs before this one, with the daemon's pid file.
  spawnSync('bash', [path.join(ENGINES, 'containerd-ctl.sh'), 'stop', containerdWork], { stdio: 'ignore' });
  fs.rmSync(containerdWork, { recursive: true, force: true });
});

describe('skopeo', () => {
  test.each(['tiny', 'multi', 'deb'])('copies %s in and back out over HTTP with the same digests', (ref) => {
    mustRun('skopeo', ['copy', '--all', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout}:${ref}`, `docker://${plain.address}/test/${ref}:latest`]);
    const inspected = JSON.parse(mustRun('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${plain.address}/test/${ref}:latest`]));
    expect(inspected.schemaVersion).toBe(2);
    const back = tempDir('ocits-registry-back-');
    mustRun('skopeo', ['copy', '--all', '--src-tls-verify=false', `docker://${plain.address}/test/${ref}:latest`, `oci:${back}:${ref}`]);
    const index = JSON.parse(fs.readFileSync(path.join(back, 'index.json'), 'utf8'));
    expect(index.manifests[0].digest).toBe(expectations.images[ref].digest);
    expect(layoutDigests(back, ref)).toEqual(layoutDigests(layout, ref));
    for (const digest of layoutDigests(layout, ref)) {
      const [algorithm, hex] = digest.split(':');
      expect(fs.readFileSync(path.join(back, 'blobs', algorithm, hex)).equals(fs.readFileSync(path.join(layout, 'blobs', algorithm, hex)))).toBe(true);
    }
  });

  test('over TLS with htpasswd: refused without or with wrong credentials, byte for byte with them', () => {
    const ca = path.join(certDir, 'ca');
    const target = `docker://${secure.address}/test/tiny:latest`;
    const anonymous = run('skopeo', ['copy', '--dest-cert-dir', ca, `oci:${layout}:tiny`, target]);
    expect(anonymous.status).not.toBe(0);
    expect(anonymous.stderr).toMatch(/unauthorized|authentication required/i);
    const wrong = run('skopeo', ['copy', '--dest-cert-dir', ca, '--dest-creds', `${USER}:nope`, `oci:${layout}:tiny`, target]);
    expect(wrong.status).not.toBe(0);
    mustRun('skopeo', ['copy', '--preserve-digests', '--dest-cert-dir', ca, '--dest-creds', `${USER}:${PASSWORD}`, `oci:${layout}:tiny`, target]);
    const back = tempDir('ocits-registry-back-');
    mustRun('skopeo', ['copy', '--src-cert-dir', ca, '--src-creds', `${USER}:${PASSWORD}`, target, `oci:${back}:tiny`]);
    expect(layoutDigests(back, 'tiny')).toEqual(layoutDigests(layout, 'tiny'));
  });

  test('plain HTTP to the TLS server fails, and /v2/ over TLS without credentials is 401 with a Basic challenge', async () => {
    const response = await rawRequest(secure.url, 'GET', '/v2/', { ca: fs.readFileSync(path.join(certDir, 'registry.crt')) });
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Basic realm="ocits-registry"');
    expect(response.json().errors[0].code).toBe('UNAUTHORIZED');
    await expect(rawRequest(`http://${secure.address}`, 'GET', '/v2/')).rejects.toThrow();
  });
});

describe('podman', () => {
  test('pulls from the registry, pushes back to it, over HTTP and over TLS with htpasswd', () => {
    const storage = tempDir('ocits-registry-podman-');
    const podman = (args: string[]): string =>
      mustRun('podman', ['--root', path.join(storage, 'root'), '--runroot', path.join(storage, 'run'), '--storage-driver', 'vfs', ...args]);
    try {
      mustRun('skopeo', ['copy', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout}:tiny`, `docker://${plain.address}/test/tiny:latest`]);
      podman(['pull', '--tls-verify=false', `${plain.address}/test/tiny:latest`]);
      const digest = podman(['image', 'inspect', '--format', '{{.Digest}}', `${plain.address}/test/tiny:latest`]).trim();
      expect(digest).toBe(expectations.images.tiny.digest);
      podman(['push', '--tls-verify=false', `${plain.address}/test/tiny:latest`, `docker://${plain.address}/podman/tiny:pushed`]);
      const pushed = JSON.parse(mustRun('skopeo', ['inspect', '--tls-verify=false', `docker://${plain.address}/podman/tiny:pushed`]));
      expect(pushed.Layers).toHaveLength(expectations.images.tiny.layers.length);

      const ca = path.join(certDir, 'ca');
      podman(['push', '--cert-dir', ca, '--creds', `${USER}:${PASSWORD}`, `${plain.address}/test/tiny:latest`, `docker://${secure.address}/podman/tiny:tls`]);
      podman(['rmi', '--all', '--force']);
      podman(['pull', '--cert-dir', ca, '--creds', `${USER}:${PASSWORD}`, `${secure.address}/podman/tiny:tls`]);
      expect(podman(['images', '--format', '{{.Repository}}:{{.Tag}}'])).toContain(`${secure.address}/podman/tiny:tls`);
    } finally {
      spawnSync('podman', ['--root', path.join(storage, 'root'), '--runroot', path.join(storage, 'run'), '--storage-driver', 'vfs', 'rmi', '--all', '--force'], {
        stdio: 'ignore',
      });
    }
  });
});

describe('containerd', () => {
  test('ctr images pull --plain-http pulls the multi-platform image', () => {
    containerdWork = fs.mkdtempSync(path.join(os.tmpdir(), 'ocits-registry-containerd-'));
    mustRun('bash', [path.join(ENGINES, 'containerd-ctl.sh'), 'start', containerdWork]);
    const socket = path.join(containerdWork, 'containerd.sock');
    mustRun('skopeo', ['copy', '--all', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout}:multi`, `docker://${plain.address}/test/multi:latest`]);
    mustRun('ctr', ['--address', socket, 'images', 'pull', '--plain-http', `${plain.address}/test/multi:latest`]);
    const listed = mustRun('ctr', ['--address', socket, 'images', 'list']);
    expect(listed).toContain(`${plain.address}/test/multi:latest`);
    expect(listed).toContain(expectations.images.multi.digest);
  });
});
