#!/usr/bin/env node
// Build step run by `npm ci` (prepare) and before tests:
//  1. compile schemas/*.schema.json (the runtime's, and the image manifests the
//     registry server checks) to standalone validator code (ajv), so no
//     schema is compiled when a command runs;
//  2. record the version and git commit for `ocits --version`;
//  3. compile the CLI into one executable, dist/ocits, with Bun (the npm
//     package `bun`, a devDependency): Bun's runtime with the bundled CLI and
//     its bytecode. bin/ocits (launcher/launcher.c) runs it from a sealed
//     copy; the addon stays a file beside the launcher, which the program
//     loads from there.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const Ajv = require('ajv');
const standaloneCode = require('ajv/dist/standalone').default;

const top = path.join(__dirname, '..');
const generated = path.join(top, 'generated');
fs.mkdirSync(generated, { recursive: true });

const SCHEMAS = {
  validateConfig: 'config',
  validateState: 'state',
  validateFeatures: 'features',
  validateImageManifest: 'image-manifest',
  validateImageIndex: 'image-index',
};
// Schemas only referenced by the ones above.
const SHARED_SCHEMAS = ['image-descriptor'];

function compileSchemas() {
  const ajv = new Ajv({ allErrors: true, strict: true, code: { source: true } });
  const exports = {};
  for (const schema of SHARED_SCHEMAS) {
    ajv.addSchema(JSON.parse(fs.readFileSync(path.join(top, 'schemas', `${schema}.schema.json`), 'utf8')));
  }
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

// Bun's binary from its npm package. Its postinstall script moves the
// platform package's binary over the placeholder node_modules/bun/bin/bun.exe;
// where npm ran no install scripts, the platform package still holds it.
function bunBinary() {
  const candidates = [path.join(top, 'node_modules', 'bun', 'bin', 'bun.exe')];
  for (const libc of ['', '-musl']) {
    candidates.push(path.join(top, 'node_modules', '@oven', `bun-${process.platform}-${process.arch === 'arm64' ? 'aarch64' : process.arch}${libc}`, 'bin', 'bun'));
  }
  for (const candidate of candidates) {
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // A placeholder, another platform's binary, or none: try the next.
    }
  }
  throw new Error(`no runnable Bun binary in node_modules (looked at ${candidates.join(', ')}): run npm ci`);
}

function compileProgram() {
  const program = path.join(top, 'dist', 'ocits');
  fs.rmSync(path.join(top, 'dist'), { recursive: true, force: true });
  execFileSync(
    bunBinary(),
    [
      'build',
      path.join(top, 'bin', 'ocits.ts'),
      '--compile',
      // Bytecode compiled now, not at every start: parsing and compiling the
      // bundle took 50 ms of CPU of `state`'s 57 here, bytecode leaves 7.
      '--bytecode',
      // A command lives for milliseconds: compiling hot functions to machine
      // code on JIT threads costs it more than it saves (create woke threads
      // about 90 times and took 30 ms of CPU, with thresholds 100 times
      // higher 17 times and 24 ms), so tier-up comes much later. A long-lived
      // `run` or `events` still gets there.
      '--compile-jit-policy=100',
      // A runtime reads neither .env nor bunfig.toml from whatever directory
      // an engine runs it in.
      '--no-compile-autoload-dotenv',
      '--no-compile-autoload-bunfig',
      '--outfile',
      program,
    ],
    { cwd: top, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  // The program must start: a broken runtime fails the build, not the first container.
  const version = execFileSync(program, ['--version'], { encoding: 'utf8' });
  if (!version.startsWith('ocits version ')) throw new Error(`dist/ocits --version printed ${JSON.stringify(version)}`);
}

compileSchemas();
writeBuildInfo();
compileProgram();
