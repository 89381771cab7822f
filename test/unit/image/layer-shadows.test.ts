// Which entries of a lower layer a later layer's whiteouts, opaque markers
// and replacements remove.
import { LayerShadows } from '../../../src/image/layer-shadows';
import type { TarHeader } from '../../../src/image/tar-parser';

function header(name: string, type: TarHeader['type'] = 'file'): TarHeader {
  return { name, type, mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 0, linkname: '', devmajor: 0, devminor: 0, xattrs: new Map() };
}

/** Shadows recorded from layers given as entry lists, layer 1 onwards (layer 0 is the one asked about). */
function shadowsOf(...layers: Array<Array<[string, TarHeader['type']?]>>): LayerShadows {
  const shadows = new LayerShadows();
  layers.forEach((entries, index) => {
    const recorder = shadows.recorder(index + 1);
    for (const [name, type] of entries) recorder.entry(header(name, type));
  });
  return shadows;
}

test('nothing recorded hides nothing', () => {
  const shadows = shadowsOf([]);
  expect(shadows.empty).toBe(true);
  expect(shadows.hides(0, 'etc/passwd', false)).toBe(false);
});

test('a whiteout hides the path and everything below it, not its siblings or parent', () => {
  const shadows = shadowsOf([['usr/share/.wh.doc']]);
  expect(shadows.hides(0, 'usr/share/doc', true)).toBe(true);
  expect(shadows.hides(0, 'usr/share/doc/bash/README', false)).toBe(true);
  expect(shadows.hides(0, 'usr/share/docs', false)).toBe(false);
  expect(shadows.hides(0, 'usr/share', true)).toBe(false);
});

test('an opaque marker hides what is below the directory, not the directory', () => {
  const shadows = shadowsOf([['etc/apt/.wh..wh..opq']]);
  expect(shadows.hides(0, 'etc/apt', true)).toBe(false);
  expect(shadows.hides(0, 'etc/apt/sources.list', false)).toBe(true);
  expect(shadows.hides(0, 'etc/aptitude', false)).toBe(false);
  expect(shadowsOf([['.wh..wh..opq']]).hides(0, 'anything/at/all', false)).toBe(true);
});

test('a file replaces whatever was there; a directory replaces only what is not a directory', () => {
  const shadows = shadowsOf([
    ['bin', 'file'],
    ['lib', 'directory'],
  ]);
  expect(shadows.hides(0, 'bin', true)).toBe(true);
  expect(shadows.hides(0, 'bin/sh', false)).toBe(true);
  expect(shadows.hides(0, 'lib', false)).toBe(true);
  expect(shadows.hides(0, 'lib', true)).toBe(false);
  expect(shadows.hides(0, 'lib/libc.so', false)).toBe(false);
});

test('only later layers count', () => {
  // Layer 1 whites out a, layer 2 replaces b: layer 1 itself keeps its own b, and a is hidden from layer 0 only.
  const shadows = shadowsOf([['.wh.a']], [['b', 'file']]);
  expect(shadows.hides(0, 'a', false)).toBe(true);
  expect(shadows.hides(1, 'a', false)).toBe(false);
  expect(shadows.hides(1, 'b', false)).toBe(true);
  expect(shadows.hides(2, 'b', false)).toBe(false);
});

test('hostile names record nothing', () => {
  const shadows = shadowsOf([['../.wh.etc'], ['/etc', 'file']]);
  expect(shadows.empty).toBe(true);
});
