// ocits login and logout against Debian's docker-registry (Basic and token
// auth): credentials are checked before they are written, pull and push
// then read them, and logout removes them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expectOneLineError, ocits } from '../helpers/cli';
import { startRegistry, stopRegistry, type RunningRegistry } from '../helpers/registry';
import { tempDir } from '../helpers/tmp';

const registries: Partial<Record<'basic' | 'token', RunningRegistry>> = {};

beforeAll(() => {
  registries.basic = startRegistry('basic', ['tiny']);
  registries.token = startRegistry('token', ['tiny']);
}, 300_000);

afterAll(() => {
  for (const registry of Object.values(registries)) stopRegistry(registry);
});

function login(registry: RunningRegistry, creds: string, extra: string[], env: NodeJS.ProcessEnv = process.env) {
  const [user, password] = [creds.slice(0, creds.indexOf(':')), creds.slice(creds.indexOf(':') + 1)];
  return ocits(['login', '--tls-verify=false', '--username', user, '--password-stdin', ...extra, registry.address], { input: `${password}\n`, env });
}

test.each(['basic', 'token'] as const)('%s: a wrong password writes nothing; the right one is recorded, pull reads it, logout removes it', (auth) => {
  const registry = registries[auth]!;
  const authfile = path.join(tempDir('ocits-login-'), 'auth.json');
  const user = registry.creds!.split(':')[0];
  expectOneLineError(login(registry, `${user}:wrong`, ['--authfile', authfile]), /authentication failed: wrong credentials/);
  expect(fs.existsSync(authfile)).toBe(false);

  const result = login(registry, registry.creds!, ['--authfile', authfile]);
  expect(result.stderr).toBe('');
  expect(result.stdout).toBe('Login Succeeded!\n');
  expect(fs.statSync(authfile).mode & 0o777).toBe(0o600);
  const written = JSON.parse(fs.readFileSync(authfile, 'utf8'));
  expect(Buffer.from(written.auths[registry.address].auth, 'base64').toString()).toBe(registry.creds);

  const store = tempDir('ocits-login-store-');
  const pulled = ocits(['pull', '--store', store, '--tls-verify=false', '-q', '--authfile', authfile, `${registry.address}/test/tiny`]);
  expect(pulled.stderr).toBe('');
  expect(pulled.status).toBe(0);

  expect(ocits(['logout', '--authfile', authfile, registry.address]).stdout).toBe(`Removed login credentials for ${registry.address}\n`);
  expect(JSON.parse(fs.readFileSync(authfile, 'utf8')).auths).toEqual({});
  expectOneLineError(ocits(['logout', '--authfile', authfile, registry.address]), /not logged in to /);
});

test('without --authfile, login writes $XDG_RUNTIME_DIR/containers/auth.json and keeps its other entries', () => {
  const runtime = tempDir('ocits-login-runtime-');
  const file = path.join(runtime, 'containers', 'auth.json');
  fs.mkdirSync(path.dirname(file));
  fs.writeFileSync(file, JSON.stringify({ auths: { 'other.example': { auth: 'b3RoZXI6eA==' } } }));
  const env = { ...process.env, XDG_RUNTIME_DIR: runtime, REGISTRY_AUTH_FILE: '' };
  expect(login(registries.basic!, registries.basic!.creds!, [], env).status).toBe(0);
  expect(Object.keys(JSON.parse(fs.readFileSync(file, 'utf8')).auths).sort()).toEqual([registries.basic!.address, 'other.example'].sort());
});

test('bad arguments are one-line errors', () => {
  expectOneLineError(ocits(['login', '--password-stdin', '127.0.0.1:1'], { input: 'x' }), /give --username/);
  expectOneLineError(ocits(['login', '--username', 'u', '127.0.0.1:1']), /--password-stdin/);
  expectOneLineError(ocits(['login', '--username', 'u', '--password-stdin', 'not a host'], { input: 'x' }), /is not a registry host/);
  expectOneLineError(ocits(['login', '--username', 'u', '--password-stdin', '127.0.0.1:1'], { input: '\n' }), /password on standard input is empty/);
});
