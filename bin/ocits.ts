// The entry point of the ocits program. scripts/build.js compiles it, with
// the CLI it imports, into one executable with Bun (dist/ocits): the runtime,
// the bundle and its bytecode in one file, which starts in a few
// milliseconds where Node needs tens, and every engine operation starts one.
// bin/ocits (launcher/launcher.c) runs it from a sealed copy.
import { main } from '../src/cli/main';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
