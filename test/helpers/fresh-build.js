// Jest's global setup: the tests run the built program (dist/ocits), the
// compiled addon and the launcher, so a build older than its sources would be
// tested in their place, silently. Refuse to start instead, saying what to run.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const REPO = path.resolve(__dirname, '..', '..');

/** The newest file below dir whose name passes keep, as { file, mtimeMs }. */
function newest(dir, keep) {
  let found = { file: undefined, mtimeMs: 0 };
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    const candidate = entry.isDirectory() ? newest(file, keep) : keep(entry.name) ? { file, mtimeMs: fs.statSync(file).mtimeMs } : found;
    if (candidate.mtimeMs > found.mtimeMs) found = candidate;
  }
  return found;
}

/** sources: [directory, which names count] pairs, or single files. */
function staleness(built, sources, command) {
  const target = path.join(REPO, built);
  if (!fs.existsSync(target)) return `${built} is missing: run \`${command}\``;
  const builtAt = fs.statSync(target).mtimeMs;
  const changed = sources
    .map((source) => {
      if (typeof source !== 'string') return newest(path.join(REPO, source[0]), source[1]);
      const file = path.join(REPO, source);
      return { file, mtimeMs: fs.statSync(file).mtimeMs };
    })
    .reduce((a, b) => (b.mtimeMs > a.mtimeMs ? b : a));
  if (changed.mtimeMs <= builtAt) return undefined;
  return `${built} is older than ${path.relative(REPO, changed.file)}: run \`${command}\``;
}

module.exports = async function checkBuildIsFresh() {
  const problems = [
    staleness('build/Release/ocits.node', [['addon', (name) => /\.(cc|h)$/.test(name)], 'binding.gyp'],
      'npx node-gyp rebuild && node scripts/build.js'),
    staleness('build/Release/ocits-launcher', [['launcher', (name) => /\.[ch]$/.test(name)], 'binding.gyp'],
      'npx node-gyp rebuild && node scripts/build.js'),
    staleness('dist/ocits', [['src', (name) => name.endsWith('.ts')], ['schemas', (name) => name.endsWith('.json')], 'bin/ocits.ts'],
      'node scripts/build.js'),
  ].filter((problem) => problem !== undefined);
  if (problems.length > 0) throw new Error(`the build is stale, so the tests would not test these sources:\n  ${problems.join('\n  ')}`);
};
