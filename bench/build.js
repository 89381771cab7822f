#!/usr/bin/env node
// `ocits build` against `buildah bud` (1.28, overlay storage, chroot
// isolation, --layers for its cache) on the same Dockerfile: the corpus's
// Debian image as base, five RUN steps, and a COPY of a context with 1,000
// files.
//   cold     into a fresh store (buildah: fresh storage): importing the base
//            (skopeo copy from the corpus layout: blobs for ocits's OCI
//            store, blobs and their unpacking for buildah's storage) and
//            the build, which unpacks it for ocits; so both pay one unpack
//   cached   the same build again in that store: every step from the cache
// Neither side pulls from a registry. Runs are interleaved after
// one warm-up round; prints medians, min and p90 in seconds, and the ratios
// of the medians next to issue 15's targets (cold at most 1.0x buildah,
// cached at most 0.5x). Informational: fails only when a command fails.
//
// Usage (as root, after `npm run build`): node bench/build.js [runs] [--ocits BIN]   (default 3)
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { env, ocitsFromArgs, median, percentile, printTable, loadLine } = require('./measure');

const { ocits, rest } = ocitsFromArgs(process.argv.slice(2));
const runs = Number(rest[0] ?? 3);
if (!Number.isInteger(runs) || runs < 1) {
  console.error('usage: node bench/build.js [runs] [--ocits BIN]');
  process.exit(2);
}
const TARGETS = { cold: 1.0, cached: 0.5 };
const tools = path.resolve(__dirname, '..', '..', 'shared', 'tools', 'images');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ocits-bench-build-'));

const DOCKERFILE = `FROM localhost/deb
USER root
RUN echo one > /one
RUN useradd -m benchuser
RUN for i in $(seq 1 200); do echo $i > /tmp/f$i; done
RUN mkdir -p /opt/x && cp -r /etc /opt/x/
RUN rm -rf /opt/x/etc/apt /usr/share/doc
COPY files/ /files/
`;

function run(argv) {
  const result = spawnSync(argv[0], argv.slice(1), { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.error) throw new Error(`${argv.join(' ')}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${argv.join(' ')} exited ${result.status}\n${(result.stderr || '').trim().split('\n').slice(-10).join('\n')}`);
  return result.stdout;
}

function seconds(argv) {
  const start = process.hrtime.bigint();
  run(argv);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function makeContext() {
  const context = path.join(work, 'context');
  for (let i = 0; i < 1000; i++) {
    const dir = path.join(context, 'files', `d${i % 20}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `f${i}`), `file ${i}\n`.repeat(1 + (i % 50)));
  }
  fs.writeFileSync(path.join(context, 'Dockerfile'), DOCKERFILE);
  return context;
}

let counter = 0;

/** One cold build then one cached build in a fresh store; returns both times. */
function ocitsRound(layout, context) {
  const store = path.join(work, `store-${++counter}`);
  try {
    const base = seconds(['skopeo', 'copy', '-q', `oci:${layout}:deb`, `oci:${store}:localhost/deb:latest`]);
    const build = () => seconds([ocits, 'build', '--store', store, '--progress', 'quiet', '-t', 'localhost/bench:1', context]);
    return { cold: base + build(), cached: build() };
  } finally {
    fs.rmSync(store, { recursive: true, force: true });
  }
}

function buildahRound(layout, context) {
  const root = path.join(work, `buildah-${++counter}`);
  const storage = ['--root', path.join(root, 'root'), '--runroot', path.join(root, 'runroot'), '--storage-driver', 'overlay'];
  try {
    const base = seconds(['skopeo', 'copy', '-q', `oci:${layout}:deb`, `containers-storage:[overlay@${path.join(root, 'root')}+${path.join(root, 'runroot')}]localhost/deb:latest`]);
    const build = () => seconds(['buildah', ...storage, 'bud', '--isolation', 'chroot', '--layers', '-q', '-t', 'localhost/bench:1', context]);
    return { cold: base + build(), cached: build() };
  } finally {
    spawnSync('buildah', [...storage, 'rmi', '--all', '--force'], { stdio: 'ignore' });
    spawnSync('umount', ['--recursive', '--lazy', path.join(root, 'root', 'overlay')], { stdio: 'ignore' });
    fs.rmSync(root, { recursive: true, force: true });
  }
}

function main() {
  run([path.join(tools, 'make-images.sh')]);
  const layout = path.join(process.env.OCITS_IMAGES || '/tmp/ocits-images', 'oci');
  const context = makeContext();
  const rounds = { ocits: ocitsRound, buildah: buildahRound };
  for (const round of Object.values(rounds)) round(layout, context); // warm-up, not counted
  const times = { ocits: { cold: [], cached: [] }, buildah: { cold: [], cached: [] } };
  for (let i = 0; i < runs; i++) {
    const order = i % 2 === 0 ? ['ocits', 'buildah'] : ['buildah', 'ocits'];
    for (const name of order) {
      const { cold, cached } = rounds[name](layout, context);
      times[name].cold.push(cold);
      times[name].cached.push(cached);
    }
  }
  console.log(`${runs} runs each, seconds; ${loadLine()}`);
  const rows = [['case', 'median', 'min', 'p90', 'ratio', 'target']];
  for (const phase of ['cold', 'cached']) {
    for (const name of ['ocits', 'buildah']) {
      const values = times[name][phase];
      const ratio = name === 'ocits' ? `${(median(values) / median(times.buildah[phase])).toFixed(2)}x` : '';
      rows.push([`${name} ${phase}`, median(values).toFixed(2), Math.min(...values).toFixed(2), percentile(values, 90).toFixed(2), ratio, name === 'ocits' ? `<= ${TARGETS[phase]}x` : '']);
    }
  }
  printTable(rows);
}

try {
  main();
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
