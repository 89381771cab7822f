#!/usr/bin/env node
// Build step run by `npm ci` (prepare) and before tests:
//  1. compile schemas/*.schema.json to standalone validator code (ajv), so no
//     schema is compiled when a command runs;
//  2. record the version and git commit for `ocits --version`;
//  3. bundle the CLI into dist/ocits.js with esbuild: one file to load, and
//     commands pull in their modules lazily through dynamic import();
//  4. record a V8 code cache for the bundle (dist/ocits.js.cache), which
//     bin/ocits loads so that a command does not compile the bundle again.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const Ajv = require('ajv');
const standaloneCode = require('ajv/dist/standalone').default;
const esbuild = require('esbuild');

const top = path.join(__dirname, '..');
const generated = path.join(top, 'generated');
fs.mkdirSync(generated, { recursive: true });

const SCHEMAS = { validateConfig: 'config', validateState: 'state', validateFeatures: 'features' };

function compileSchemas() {
  const ajv = new Ajv({ allErrors: true, strict: true, code: { source: true } });
  const exports = {};
  for (const [name, schema] of Object.entries(SCHEMAS)) {
    const document = JSON.parse(fs.readFileSync(path.join(top, 'schemas', `${schema}.schema.json`), 'utf8'));
    ajv.addSchema(document);
    exports[name] = document.$id;
  }
  fs.writeFileSync(path.join(generated, 'validators.js'), standaloneCode(ajv, exports));
  const declarations = Object.keys(SCHEMAS)
    .map((name) => `export declare const ${name}: (document: unknown) => boolean;`)
    .join('\n');
  fs.writeFileSync(path.join(generated, 'validators.d.ts'), declarations + '\n');
}

function writeBuildInfo() {
  const { version } = require(path.join(top, 'package.json'));
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: top, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    // Not a git checkout (an unpacked tarball): the commit stays unknown.
  }
  fs.writeFileSync(path.join(generated, 'build-info.json'), JSON.stringify({ version, commit }) + '\n');
}

function bundle() {
  esbuild.buildSync({
    entryPoints: [path.join(top, 'src', 'cli', 'main.ts')],
    outfile: path.join(top, 'dist', 'ocits.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'linked',
    // Loaded from node_modules only to render --help (src/cli/help.ts).
    external: ['yargs', 'yargs/*'],
    logLevel: 'warning',
  });
  // esbuild imports a module namespace (`import * as fs from 'node:fs'`)
  // through __toESM, which copies every export of the module, once for each
  // of the dozens of modules that import fs or path: 2-4 ms per command.
  // A builtin's exports object already is its namespace, and we never use
  // a default import of a builtin, so the bundle uses it directly.
  const out = path.join(top, 'dist', 'ocits.js');
  fs.writeFileSync(out, fs.readFileSync(out, 'utf8').replace(/__toESM\(require\("(node:[a-z_/]+)"\)\)/g, 'require("$1")'));
}

function writeCodeCache() {
  // A warm-up `state` of a container that cannot exist: the path engines
  // call most, so the functions it compiles land in the cache.
  const root = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'ocits-build-'));
  try {
    execFileSync(process.execPath, [path.join(top, 'bin', 'ocits'), '--root', root, 'state', 'warm-up'], {
      env: { ...process.env, OCITS_WRITE_CODE_CACHE: '1' },
      stdio: 'ignore',
    });
  } catch (error) {
    if (error.status !== 1) throw error; // 1 is the expected "does not exist"
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

compileSchemas();
writeBuildInfo();
bundle();
writeCodeCache();
