// Image references are read as docker and podman read them.
import { formatReference, normalizeReference, parseReference, registryHost } from '../../../src/image/reference';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('normalizeReference', () => {
  test.each([
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['library/busybox', 'docker.io/library/busybox:latest'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['index.docker.io/library/busybox', 'docker.io/library/busybox:latest'],
    ['user/app', 'docker.io/user/app:latest'],
    ['quay.io/podman/stable', 'quay.io/podman/stable:latest'],
    ['localhost/app', 'localhost/app:latest'],
    ['localhost:5000/app:v1', 'localhost:5000/app:v1'],
    ['127.0.0.1:5000/test/deb', '127.0.0.1:5000/test/deb:latest'],
    ['[::1]:5000/test/deb:x', '[::1]:5000/test/deb:x'],
    ['Registry.Example.com/team/app:1.4', 'Registry.Example.com/team/app:1.4'],
    [`busybox@${DIGEST}`, `docker.io/library/busybox@${DIGEST}`],
    [`busybox:1.36@${DIGEST}`, `docker.io/library/busybox:1.36@${DIGEST}`],
    ['a/b/c/d_e__f-g.h', 'docker.io/a/b/c/d_e__f-g.h:latest'],
  ])('%s -> %s', (text, normalized) => {
    expect(normalizeReference(text)).toBe(normalized);
    // Normalizing is idempotent: the store's names parse back to themselves.
    expect(normalizeReference(normalized)).toBe(normalized);
  });
});

describe('parseReference', () => {
  test('splits domain, path, tag and digest', () => {
    expect(parseReference('127.0.0.1:5000/test/deb:latest')).toEqual({ domain: '127.0.0.1:5000', path: 'test/deb', tag: 'latest' });
    expect(parseReference(`x@${DIGEST}`)).toEqual({ domain: 'docker.io', path: 'library/x', digest: DIGEST });
    expect(formatReference({ domain: 'a.b', path: 'c', tag: 't' })).toBe('a.b/c:t');
  });

  test('docker.io is served by registry-1.docker.io', () => {
    expect(registryHost(parseReference('busybox'))).toBe('registry-1.docker.io');
    expect(registryHost(parseReference('127.0.0.1:5000/x'))).toBe('127.0.0.1:5000');
  });

  test.each([
    ['', /empty/],
    ['Busybox', /must be lowercase/],
    ['busybox:', /invalid tag/],
    ['busybox:a b', /invalid tag/],
    [`busybox:${'t'.repeat(129)}`, /invalid tag/],
    ['busybox@sha256:abc', /invalid sha256 digest/],
    [`busybox@md5:${'a'.repeat(32)}`, /unsupported digest algorithm "md5"/],
    ['busybox@', /invalid digest/],
    ['a//b', /invalid repository name/],
    ['-a/b', /invalid repository name/],
    ['a..b', /invalid repository name/],
    ['exa_mple.com/a', /invalid registry host/],
    ['bad::ref', /invalid/],
    [`${'a'.repeat(250)}/${'b'.repeat(10)}`, /longer than 255/],
  ])('%j is refused', (text, message) => {
    expect(() => parseReference(text)).toThrow(message);
  });
});
