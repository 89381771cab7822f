import { checkDigest, checkManifestReference, checkRepositoryName, repositoryNameOf, storeRepositoryOf } from '../../../src/registry/names';
import { RegistryError } from '../../../src/registry/errors';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof RegistryError ? `${error.status} ${error.code}` : String(error);
  }
}

describe('repository names', () => {
  test.each(['a', 'team/app', 'a.b/c_d/e__f/g-h--i', 'x'.repeat(255)])('%s is valid', (name) => {
    expect(checkRepositoryName(name)).toBe(name);
  });
  test.each(['', '..', 'a/../b', '%2e%2e/a', 'A', 'a//b', '/a', 'a/', 'a_', '-a', 'a/.b', 'x'.repeat(256)])('%s is NAME_INVALID', (name) => {
    expect(codeOf(() => checkRepositoryName(name))).toBe('400 NAME_INVALID');
  });
});

describe('digests and references', () => {
  test('sha256 and sha512 of the right length are taken', () => {
    expect(checkDigest(`sha256:${'a'.repeat(64)}`).algorithm).toBe('sha256');
    expect(checkDigest(`sha512:${'b'.repeat(128)}`).algorithm).toBe('sha512');
  });
  test.each([`sha256:${'a'.repeat(63)}`, `sha512:${'a'.repeat(64)}`, `md5:${'a'.repeat(32)}`, `sha256:${'A'.repeat(64)}`, 'sha256:', ':'])(
    '%s is DIGEST_INVALID',
    (digest) => expect(codeOf(() => checkDigest(digest))).toBe('400 DIGEST_INVALID'),
  );
  test('a reference with a colon is a digest, else a tag of at most 128 characters', () => {
    expect(checkManifestReference('v1.0_rc-1')).toEqual({ tag: 'v1.0_rc-1' });
    expect(checkManifestReference(`sha256:${'c'.repeat(64)}`)).toEqual({ digest: `sha256:${'c'.repeat(64)}` });
    expect(codeOf(() => checkManifestReference('x'.repeat(129)))).toBe('400 MANIFEST_INVALID');
    expect(codeOf(() => checkManifestReference('.hidden'))).toBe('400 MANIFEST_INVALID');
  });
});

describe('repositories and store names', () => {
  test.each([
    ['team/app', 'localhost/team/app'],
    ['app', 'localhost/app'],
    ['localhost/app', 'localhost/app'],
    ['docker.io/library/busybox', 'docker.io/library/busybox'],
    ['quay.io/org/x', 'quay.io/org/x'],
    ['127.0.0.1_5000/test/deb', '127.0.0.1:5000/test/deb'],
    ['localhost_5000/x', 'localhost:5000/x'],
    ['under_score/x', 'localhost/under_score/x'],
  ])('%s is stored as %s, and served under that name again', (name, stored) => {
    expect(storeRepositoryOf(name)).toBe(stored);
    expect(storeRepositoryOf(repositoryNameOf(stored)!)).toBe(stored);
  });
  test('local repositories are served by their short name', () => {
    expect(repositoryNameOf('localhost/team/app')).toBe('team/app');
    expect(repositoryNameOf('127.0.0.1:5000/test/deb')).toBe('127.0.0.1_5000/test/deb');
    expect(repositoryNameOf('localhost/a.b/c')).toBe('localhost/a.b/c');
  });
  test('a store name no repository name can spell is not served', () => {
    expect(repositoryNameOf('[::1]:5000/x')).toBeUndefined();
    expect(repositoryNameOf('Registry.Example/x')).toBeUndefined();
  });
});
