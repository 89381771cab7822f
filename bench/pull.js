#!/usr/bin/env node
// Image pull and unpack against skopeo + umoci, from the same local registry
// in the same run:
//   ocits deb        `ocits pull` + `ocits bundle` of the Debian image (gzip)
//   ocits deb-zstd   the same for its zstd twin
//   skopeo+umoci     `skopeo copy docker://... oci:DIR:deb` + `umoci unpack`
//                    of the gzip image (umoci 0.4.7 cannot read zstd, so both
//                    ocits figures are compared with this one)
//   warm bundle      `ocits bundle` alone, the image already in the store
//   ... --overlay    the same with `bundle --overlay`: cold, it unpacks the
//                    image into the store and mounts an overlay over it;
//                    warm, the store already holds that copy
// Every cold run starts from fresh, empty directories (store, layout,
// bundle), so nothing is cached between runs; runs are interleaved so drift
// in machine load hits all alike, after one warm-up round. Prints median,
// min and p90 in seconds, the median CPU time (user + system of every
// process involved, which other load on the machine disturbs least), and the
// ratios of the medians next to the targets (cold pull+bundle at most 0.6x
// skopeo+umoci for gzip, 0.5x for zstd).
// Timing is informational: the script fails only when a command fails.
//
// The registry is ../shared/tools/images' docker-registry (no auth) with the
// corpus loaded; it is started here and stopped at the end by its PIDs.
//
// Usage (as root, after `npm run build`): node bench/pull.js [runs]   (default 5)
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const runs = Number(process.argv[2] ?? 5);
if (!Number.isInteger(runs) || runs < 1) {
  console.error('usage: node bench/pull.js [runs]');
  process.exit(2);
}
const TARGETS = { 'ocits deb': 0.6, 'ocits deb-zstd': 0.5 };

const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
for (const name of Object.keys(env)) if (name.startsWith('REGISTRY_')) delete env[name];

const ocits = path.join(__dirname, '..', 'bin', 'ocits');
const tools = path.resolve(__dirname, '..', '..', 'shared', 'tools', 'images');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ocits-bench-pull-'));
const registryDir = path.join(work, 'registry');

function run(argv, options = {}) {
  const result = spawnSync(argv[0], argv.slice(1), { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.error) throw new Error(`${argv.join(' ')}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${argv.join(' ')} exited ${result.status}\n${(result.stderr || '').trim().split('\n').slice(-10).join('\n')}`);
  return result.stdout;
}

/** CPU seconds (user + system) of the children this process has waited for: fields cutime and cstime of /proc/self/stat. */
function childCpuSeconds() {
  const fields = fs.readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /, '').split(' ');
  // After the command name, field 16 (cutime) and 17 (cstime) are at indexes 13 and 14; clock ticks are 100 a second on Linux.
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/** Wall time and CPU time in seconds of the commands run one after the other. */
function timed(commands) {
  const cpu = childCpuSeconds();
  const start = process.hrtime.bigint();
  for (const argv of commands) run(argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  return { wall: Number(process.hrtime.bigint() - start) / 1e9, cpu: childCpuSeconds() - cpu };
}

function fresh(name) {
  const dir = path.join(work, `${name}-${Math.random().toString(36).slice(2)}`);
  return dir;
}

/**
 * Removes what a run made, then waits for the file system to write the
 * removal out: otherwise the next run, whichever tool it times, pays for
 * this one's thousands of unlinks (and, on a disk mounted with discard,
 * their discards) in its own file creations.
 */
function cleanUp(...dirs) {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  spawnSync('sync', { stdio: 'ignore' });
}

/** Unmounts an overlay bundle's rootfs (if it was mounted), then removes the bundle. */
function cleanUpOverlay(bundle) {
  spawnSync('umount', [path.join(bundle, 'rootfs')], { stdio: 'ignore' });
  cleanUp(bundle);
}

function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { median: sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2, min: sorted[0], p90: at(0.9) };
}

function main() {
  run([path.join(tools, 'make-images.sh')]);
  const started = run([path.join(tools, 'registry.sh'), 'start', '--auth', 'none', '--workdir', registryDir]);
  const registry = /^REGISTRY=(.*)$/m.exec(started)[1];
  try {
    run([path.join(tools, 'registry.sh'), 'load', '--workdir', registryDir, '--only', 'deb,deb-zstd']);
    const cases = {
      'ocits deb': () => ocitsCold('deb'),
      'ocits deb-zstd': () => ocitsCold('deb-zstd'),
      'ocits deb --overlay': () => ocitsCold('deb', ['--overlay']),
      'skopeo+umoci': () => skopeoUmoci(),
    };
    const ocitsCold = (ref, flags = []) => {
      const store = fresh('store');
      const bundle = fresh('bundle');
      try {
        return timed([
          [ocits, 'pull', '--store', store, '--tls-verify=false', '-q', `${registry}/test/${ref}`],
          [ocits, 'bundle', '--store', store, ...flags, `${registry}/test/${ref}`, bundle],
        ]);
      } finally {
        cleanUpOverlay(bundle);
        cleanUp(store);
      }
    };
    const skopeoUmoci = () => {
      const layout = fresh('layout');
      const bundle = fresh('umoci');
      try {
        return timed([
          ['skopeo', '--insecure-policy', 'copy', '-q', '--src-tls-verify=false', `docker://${registry}/test/deb:latest`, `oci:${layout}:deb`],
          ['umoci', 'unpack', '--image', `${layout}:deb`, bundle],
        ]);
      } finally {
        cleanUp(layout, bundle);
      }
    };
    // The warm figure: the store already holds the image.
    const warmStore = fresh('warm-store');
    run([ocits, 'pull', '--store', warmStore, '--tls-verify=false', '-q', `${registry}/test/deb`]);
    cases['warm bundle (deb)'] = () => {
      const bundle = fresh('bundle');
      try {
        return timed([[ocits, 'bundle', '--store', warmStore, `${registry}/test/deb`, bundle]]);
      } finally {
        cleanUp(bundle);
      }
    };
    const primed = fresh('bundle');
    try {
      run([ocits, 'bundle', '--store', warmStore, '--overlay', `${registry}/test/deb`, primed]);
    } finally {
      cleanUpOverlay(primed);
    }
    cases['warm bundle --overlay'] = () => {
      const bundle = fresh('bundle');
      try {
        return timed([[ocits, 'bundle', '--store', warmStore, '--overlay', `${registry}/test/deb`, bundle]]);
      } finally {
        cleanUpOverlay(bundle);
      }
    };

    const names = Object.keys(cases);
    for (const name of names) cases[name](); // warm-up round, not counted
    const times = Object.fromEntries(names.map((name) => [name, []]));
    const cpus = Object.fromEntries(names.map((name) => [name, []]));
    for (let i = 0; i < runs; i++) {
      const order = i % 2 === 0 ? names : [...names].reverse();
      for (const name of order) {
        const { wall, cpu } = cases[name]();
        times[name].push(wall);
        cpus[name].push(cpu);
      }
    }
    const medians = {};
    const cpuMedians = {};
    console.log(`${runs} runs each, seconds (registry ${registry}, ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(1)})`);
    console.log(`${'case'.padEnd(24)} ${'median'.padStart(8)} ${'min'.padStart(8)} ${'p90'.padStart(8)} ${'cpu'.padStart(8)}`);
    for (const name of names) {
      const s = stats(times[name]);
      medians[name] = s.median;
      cpuMedians[name] = stats(cpus[name]).median;
      console.log(`${name.padEnd(24)} ${s.median.toFixed(2).padStart(8)} ${s.min.toFixed(2).padStart(8)} ${s.p90.toFixed(2).padStart(8)} ${cpuMedians[name].toFixed(2).padStart(8)}`);
    }
    // CPU time is the figure that other load on the machine disturbs least.
    const ratio = (name) => `${(medians[name] / medians['skopeo+umoci']).toFixed(2)}x (cpu ${(cpuMedians[name] / cpuMedians['skopeo+umoci']).toFixed(2)}x)`;
    for (const [name, target] of Object.entries(TARGETS)) console.log(`${name} / skopeo+umoci: ${ratio(name)}, target at most ${target}x`);
    console.log(`ocits deb --overlay / skopeo+umoci: ${ratio('ocits deb --overlay')}`);
    console.log(`warm bundle / skopeo+umoci: ${ratio('warm bundle (deb)')}`);
    console.log(`warm bundle --overlay / skopeo+umoci: ${ratio('warm bundle --overlay')}`);
  } finally {
    spawnSync(path.join(tools, 'registry.sh'), ['stop', '--workdir', registryDir], { stdio: 'ignore' });
    cleanUp(work);
  }
}

try {
  main();
} catch (error) {
  console.error(error.message);
  process.exitCode = 1;
}
