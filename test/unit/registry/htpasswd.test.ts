import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import bcrypt from 'bcryptjs';
import { Htpasswd } from '../../../src/registry/htpasswd';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocits-htpasswd-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function file(text: string): string {
  const name = path.join(dir, `f${Math.random().toString(36).slice(2)}`);
  fs.writeFileSync(name, text);
  return name;
}

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

test('bcrypt entries authenticate their users, and nothing else does', async () => {
  const htpasswd = new Htpasswd(file(`# users\nalice:${bcrypt.hashSync('wonder:land', 4)}\n\nbob:${bcrypt.hashSync('builder', 4).replace('$2b$', '$2y$')}\n`));
  expect(await htpasswd.authenticate(basic('alice', 'wonder:land'))).toBe('alice');
  // Remembered: the same header again.
  expect(await htpasswd.authenticate(basic('alice', 'wonder:land'))).toBe('alice');
  expect(await htpasswd.authenticate(basic('bob', 'builder'))).toBe('bob');
  expect(await htpasswd.authenticate(basic('alice', 'wrong'))).toBeUndefined();
  expect(await htpasswd.authenticate(basic('carol', 'builder'))).toBeUndefined();
  expect(await htpasswd.authenticate(undefined)).toBeUndefined();
  expect(await htpasswd.authenticate('Bearer abc')).toBeUndefined();
  expect(await htpasswd.authenticate('Basic !!!')).toBeUndefined();
});

test.each([
  ['an MD5 entry', 'alice:$apr1$abc$def\n', /:1: not "user:bcrypt-hash"/],
  ['a line without a colon', 'alice\n', /:1: not "user:bcrypt-hash"/],
  ['no users', '# nobody\n', /has no users/],
])('%s is refused in one line', (_what, text, message) => {
  expect(() => new Htpasswd(file(text))).toThrow(message);
});

test('a missing file is named', () => {
  expect(() => new Htpasswd(path.join(dir, 'absent'))).toThrow(/cannot read the htpasswd file .*absent: no such file or directory \(ENOENT\)/);
});
