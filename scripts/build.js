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
const { execFileSync, spawnSync } = require('node:child_process');
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
  // Warm-up commands on the paths engines call most, so that the functions
  // they compile land in the cache: state of a container that cannot exist,
  // validation of the default config, and create of it as far as create
  // goes before it makes anything. Its --root is a regular file, so create
  // validates and plans the container and then cannot claim the id.
  const os = require('node:os');
  // The Node half of bin/ocits, run directly: the warm-up makes no container,
  // so it needs no sealed Node (launcher/launcher.c).
  const ocits = path.join(top, 'bin', 'ocits.js');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ocits-build-'));
  try {
    const bundleDir = path.join(work, 'bundle');
    fs.mkdirSync(path.join(bundleDir, 'rootfs'), { recursive: true });
    execFileSync(process.execPath, [ocits, 'spec', '--bundle', bundleDir], { stdio: 'ignore' });
    const configFile = path.join(bundleDir, 'config.json');
    const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
    config.process.terminal = false;
    fs.writeFileSync(configFile, JSON.stringify(config));
    const notADirectory = path.join(work, 'root');
    fs.writeFileSync(notADirectory, '');
    const warmUp = [
      ['--root', notADirectory, 'state', 'warm-up'],
      ['validate', '--bundle', bundleDir],
      ['--root', notADirectory, 'create', '--bundle', bundleDir, 'warm-up'],
    ];
    const result = spawnSync(process.execPath, [ocits], {
      env: { ...process.env, OCITS_WRITE_CODE_CACHE: JSON.stringify(warmUp) },
      encoding: 'utf8',
    });
    // create must have stopped at the claim; anything else is a build error.
    if (result.status !== 0 || !result.stderr.includes(`cannot make the state directory ${notADirectory}`)) {
      throw new Error(`code cache warm-up did not go as planned:\n${result.stderr}`);
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

compileSchemas();
writeBuildInfo();
bundle();
writeCodeCache();
