// The Node half of bin/ocits, which the compiled launcher
// (launcher/launcher.c) runs on a sealed copy of Node. Every engine
// operation starts a new Node, so we load the bundled
// CLI with the V8 code cache that the build wrote beside it: compiling the
// bundle from source is a large part of start-up. V8 checks the cache against
// the source and its own version and silently compiles afresh when it does
// not match, so a stale cache costs time, never correctness.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const file = path.join(__dirname, '..', 'dist', 'ocits.js');
const cacheFile = `${file}.cache`;
// Set by scripts/build.js to a JSON list of warm-up command lines: they run
// in turn, and the cache then holds every function they compiled.
const warmUp = process.env.OCITS_WRITE_CODE_CACHE;
const writeCache = warmUp !== undefined;

let cachedData;
if (!writeCache) {
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    // No cache (not built by scripts/build.js): compile from source.
  }
}
const script = new vm.Script(Module.wrap(fs.readFileSync(file, 'utf8')), { filename: file, cachedData });
const bundle = new Module(file, module);
bundle.filename = file;
bundle.paths = Module._nodeModulePaths(path.dirname(file));
script.runInThisContext().call(bundle.exports, bundle.exports, (id) => bundle.require(id), bundle, file, path.dirname(file));

if (writeCache) {
  (async () => {
    for (const argv of JSON.parse(warmUp)) await bundle.exports.main(argv);
    fs.writeFileSync(cacheFile, script.createCachedData());
  })();
} else {
  bundle.exports.main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
