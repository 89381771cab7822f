#!/usr/bin/env node
// Container lifecycle cost against runc, on the same busybox bundle in the
// same run:
//   run                  `run --bundle B ID` of /bin/true (run deletes the
//                        container when it exits, in ocits and in runc alike:
//                        checked after every run)
//   create/start/delete  each command's own wall time, and their sum. Between
//                        start and delete we wait, untimed, for /bin/true to
//                        exit by polling /proc/PID/stat (PID from --pid-file).
// plus `node -e 0` as the floor: every ocits command pays for one Node start.
// Runs are interleaved (ocits, runc, then runc, ocits, ...) so drift in
// machine load hits both runtimes alike; a couple of warm-up rounds are not
// counted. Prints median, min and p90 in milliseconds and the ratio
// ocits/runc of the medians next to the targets (run 1.2x, lifecycle 1.5x),
// and ocits's median less Node's start-up once per command it runs: the
// container work, which must cost less than runc's whole operation.
// Timing is informational: the script fails only when a command fails.
//
// The bundle is made locally: rootfs/bin/busybox copied from /bin/busybox,
// rootfs/bin/true a symlink to it, config.json from `ocits spec` (runc 1.1.5
// accepts its ociVersion 1.3.0) with process.terminal false and args
// ["/bin/true"]. Both state roots live on /dev/shm when it is there (tmpfs),
// else under the temp dir. Everything is removed at the end; containers left
// by a failure are force-deleted.
//
// Usage (as root, after `npm run build`): node bench/lifecycle.js [runs]   (default 20)
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const runs = Number(process.argv[2] ?? 20);
if (!Number.isInteger(runs) || runs < 1) {
  console.error('usage: node bench/lifecycle.js [runs]');
  process.exit(2);
}
const WARMUP = 2;
const TARGETS = { run: 1.2, 'create+start+delete': 1.5 };

// A CA bundle loaded at start costs tens of milliseconds and is not ours to measure.
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;

const ocitsBin = path.join(__dirname, '..', 'bin', 'ocits');
const stateParent = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ocits-bench-lifecycle-'));
const roots = fs.mkdtempSync(path.join(stateParent, 'ocits-bench-roots-'));
const bundle = path.join(work, 'bundle');
// stderr of the timed commands goes to a file: as cheap as /dev/null, and a
// failure can say why. (A pipe would keep spawnSync waiting on `create`, whose
// container process inherits it.)
const errFile = path.join(work, 'stderr');
const errFd = fs.openSync(errFile, 'w+');

const runtimes = [
  { name: 'ocits', argv: [ocitsBin, '--root', path.join(roots, 'ocits')] },
  { name: 'runc', argv: ['runc', '--root', path.join(roots, 'runc')] },
];
const live = new Map(); // "runtime id" -> runtime: containers to force-delete on failure

function lastError() {
  const size = fs.fstatSync(errFd).size;
  const text = size ? fs.readFileSync(errFile, 'utf8').trim().split('\n').slice(-20).join('\n') : '';
  return text ? `\n${text}` : '';
}

// Wall time of one command in milliseconds; throws if it does not exit 0.
function timed(argv) {
  fs.ftruncateSync(errFd, 0);
  const start = process.hrtime.bigint();
  const result = spawnSync(argv[0], argv.slice(1), { env, stdio: ['ignore', 'ignore', errFd] });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.error) throw new Error(`${argv.join(' ')}: ${result.error.message}`);
  if (result.status !== 0) {
    const how = result.signal ? `was killed by ${result.signal}` : `exited ${result.status}`;
    throw new Error(`${argv.join(' ')} ${how}${lastError()}`);
  }
  return elapsed;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
// Until the process has exited (gone, or a zombie waiting for its reaper).
function waitExit(pid) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return;
    }
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return;
    if (Date.now() > deadline) throw new Error(`container process ${pid} still running after 10 s`);
    Atomics.wait(sleepCell, 0, 0, 1);
  }
}

let seq = 0;
function benchRun(rt) {
  const id = `run${seq++}`;
  live.set(`${rt.name} ${id}`, rt);
  const ms = timed([...rt.argv, 'run', '--bundle', bundle, id]);
  if (fs.existsSync(path.join(rt.argv[2], id))) throw new Error(`${rt.name} run ${id} left its container behind`);
  live.delete(`${rt.name} ${id}`);
  return ms;
}

function benchLifecycle(rt) {
  const id = `life${seq++}`;
  const pidFile = path.join(work, `${id}.pid`);
  live.set(`${rt.name} ${id}`, rt);
  const create = timed([...rt.argv, 'create', '--bundle', bundle, '--pid-file', pidFile, id]);
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  fs.rmSync(pidFile);
  const start = timed([...rt.argv, 'start', id]);
  waitExit(pid); // not timed
  const del = timed([...rt.argv, 'delete', id]);
  live.delete(`${rt.name} ${id}`);
  return { create, start, delete: del, 'create+start+delete': create + start + del };
}

function makeBundle() {
  fs.mkdirSync(path.join(bundle, 'rootfs', 'bin'), { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(bundle, 'rootfs', 'bin', 'busybox'));
  fs.chmodSync(path.join(bundle, 'rootfs', 'bin', 'busybox'), 0o755);
  fs.symlinkSync('busybox', path.join(bundle, 'rootfs', 'bin', 'true'));
  timed([ocitsBin, 'spec', '--bundle', bundle]);
  const configFile = path.join(bundle, 'config.json');
  const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
  config.process.terminal = false;
  config.process.args = ['/bin/true'];
  fs.writeFileSync(configFile, `${JSON.stringify(config, null, '\t')}\n`);
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
// Nearest-rank percentile.
function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const OPS = ['run', 'create', 'start', 'delete', 'create+start+delete'];
// How many Node starts each operation pays for: its floor.
const NODE_STARTS = { run: 1, create: 1, start: 1, delete: 1, 'create+start+delete': 3 };

function report(samples, floor) {
  const f = (x) => x.toFixed(1);
  const spread = (v) => `${f(Math.min(...v))} / ${f(percentile(v, 90))}`;
  const rows = [['operation', 'ocits med', 'runc med', 'ocits/runc', 'target', 'ocits - floor', 'ocits min / p90', 'runc min / p90']];
  for (const op of OPS) {
    const o = samples.ocits[op];
    const r = samples.runc[op];
    const ratio = median(o) / median(r);
    const target = TARGETS[op] ? `<= ${TARGETS[op].toFixed(1)}x ${ratio <= TARGETS[op] ? 'met' : 'MISSED'}` : '';
    const work = median(o) - NODE_STARTS[op] * median(floor);
    rows.push([op, f(median(o)), f(median(r)), `${ratio.toFixed(2)}x`, target, f(work), spread(o), spread(r)]);
  }
  rows.push(['node -e 0 (floor)', f(median(floor)), '', '', '', '', spread(floor), '']);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const line = (row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join(' | ');
  console.log(`lifecycle of /bin/true in a busybox bundle, ${runs} runs each, wall time in ms (${os.cpus().length} CPUs, ${os.release()})`);
  console.log(line(rows[0]));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const row of rows.slice(1)) console.log(line(row));
  console.log('create+start+delete is the sum of the three commands; the wait for /bin/true to exit is not counted.');
  console.log("ocits - floor: ocits's median less one median `node -e 0` per command it runs (three for");
  console.log('create+start+delete): the work beyond starting Node, to hold against runc\'s whole time.');
}

// Signal handlers run only when the event loop turns, and the timing loop is
// synchronous: it yields at a checkpoint between commands, and stops there.
let interrupted = '';
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => (interrupted = signal));
async function checkpoint() {
  await new Promise(setImmediate);
  if (interrupted) throw new Error(`interrupted by ${interrupted}`);
}

async function main() {
  timed(['runc', '--version']);
  makeBundle();
  const samples = Object.fromEntries(runtimes.map((rt) => [rt.name, Object.fromEntries(OPS.map((op) => [op, []]))]));
  const floor = [];
  for (let i = -WARMUP; i < runs; i++) {
    // Alternate which runtime goes first so order effects cancel out.
    const order = i % 2 ? [...runtimes].reverse() : runtimes;
    await checkpoint();
    const nodeMs = timed([process.execPath, '-e', '0']);
    for (const rt of order) {
      await checkpoint();
      const runMs = benchRun(rt);
      if (i >= 0) samples[rt.name].run.push(runMs);
    }
    for (const rt of order) {
      await checkpoint();
      const life = benchLifecycle(rt);
      if (i >= 0) for (const [op, ms] of Object.entries(life)) samples[rt.name][op].push(ms);
    }
    if (i >= 0) floor.push(nodeMs);
  }
  report(samples, floor);
}

function cleanUp() {
  for (const [key, rt] of live) {
    const id = key.slice(key.indexOf(' ') + 1);
    spawnSync(rt.argv[0], [...rt.argv.slice(1), 'delete', '--force', id], { env, stdio: 'ignore' });
  }
  fs.closeSync(errFd);
  fs.rmSync(work, { recursive: true, force: true });
  fs.rmSync(roots, { recursive: true, force: true });
}

main()
  .then(
    () => 0,
    (err) => {
      console.error(`lifecycle bench failed: ${err.message}`);
      return 1;
    },
  )
  .then((code) => {
    cleanUp();
    process.exitCode = code;
  });
