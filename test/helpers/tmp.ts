// Temporary directories that are removed after the test file, even when a
// test fails half-way.
import * as fs from 'fs-extra';
import * as os from 'node:os';
import * as path from 'node:path';

const made: string[] = [];

export function tempDir(prefix = 'ocits-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/**
 * A temporary directory directly inside the checkout, for scripts bundled by
 * tests: like dist/, it sits one level below the checkout, where the code
 * looks for the addon.
 */
export function checkoutTempDir(): string {
  const dir = fs.mkdtempSync(path.join(__dirname, '..', '..', '.tmp-'));
  made.push(dir);
  return dir;
}

/**
 * A bundle directory with an empty rootfs/ and config.json holding exactly
 * this text (malformed JSON included).
 */
export function tempBundle(configText: string): string {
  const dir = tempDir('ocits-bundle-');
  fs.mkdirSync(path.join(dir, 'rootfs'));
  fs.writeFileSync(path.join(dir, 'config.json'), configText);
  return dir;
}

afterAll(() => {
  for (const dir of made.splice(0)) fs.removeSync(dir);
});
