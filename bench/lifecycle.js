#!/usr/bin/env node
// Container lifecycle cost against runc, on the same busybox bundle in the
// same run:
//   run                  `run --bundle B ID` of /bin/true (run deletes the
//                        container when it exits, in ocits and in runc alike:
//                        checked after every run)
//   create/state/start/delete  each command's own wall time, and
//                        create+start+delete their sum. state reads the
//                        created container. Between start and delete we wait,
//                        untimed, for /bin/true to exit by polling
//                        /proc/PID/stat (PID from --pid-file).
//   kill                 `kill ID KILL` of another created container (made
//                        and deleted untimed)
// plus the bare start of the runtime ocits runs on as the floor: every ocits
// command pays for one. Runs are interleaved (ocits, runc, then runc, ocits,
// ...) so drift in machine load hits both runtimes alike; a couple of warm-up
// rounds are not counted. Prints median, min and p90 in milliseconds and the
// ratio ocits/runc of the medians next to the targets (issue 17), ocits's
// median less the floor once per command it runs (the container work), and
// then each command's peak RSS against runc's, from a few more rounds run
// through /usr/bin/time (the Debian package "time"), untimed.
// Timing is informational: the script fails only when a command fails.
//
// The bundle is made locally: rootfs/bin/busybox copied from /bin/busybox,
// rootfs/bin/true a symlink to it, config.json from `ocits spec` (runc 1.1.5
// accepts its ociVersion 1.3.0) with process.terminal false and args
// ["/bin/true"]. Both state roots live on /dev/shm when it is there (tmpfs),
// else under the temp dir. Everything is removed at the end; containers left
// by a failure are force-deleted.
//
// Usage (as root, after `npm run build`):
//   node bench/lifecycle.js [runs] [--ocits BIN]   (default 20 runs; BIN: another build's bin/ocits)
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { env, ocitsFromArgs, runtimeFloor, peakRss, median, percentile, printTable, loadLine } = require('./measure');

const { ocits: ocitsBin, rest } = ocitsFromArgs(process.argv.slice(2));
const runs = Number(rest[0] ?? 20);
if (!Number.isInteger(runs) || runs < 1) {
  console.error('usage: node bench/lifecycle.js [runs] [--ocits BIN]');
  process.exit(2);
}
const WARMUP = 2;
const RSS_ROUNDS = 5;
// issue 17: run and create+start+delete within 1.2x of runc, each of start,
// state, kill and delete within 2x; peak RSS of state and start within 2x.
const TARGETS = { run: 1.2, 'create+start+delete': 1.2, start: 2, state: 2, kill: 2, delete: 2 };
const RSS_TARGETS = { state: 2, start: 2 };

const floorCommand = runtimeFloor(ocitsBin);
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
function timed(argv, commandEnv = env) {
  fs.ftruncateSync(errFd, 0);
  const start = process.hrtime.bigint();
  const result = spawnSync(argv[0], argv.slice(1), { env: commandEnv, stdio: ['ignore', 'ignore', errFd] });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.error) throw new Error(`${argv.join(' ')}: ${result.error.message}`);
  if (result.status !== 0) {
    const how = result.signal ? `was killed by ${result.signal}` : `exited ${result.status}`;
    throw new Error(`${argv.join(' ')} ${how}${lastError()}`);
  }
  return elapsed;
}

// Peak RSS of one command in kB, the same way failing as timed().
function measuredRss(argv) {
  fs.ftruncateSync(errFd, 0);
  try {
    return peakRss(argv, { stdio: ['ignore', 'ignore', errFd] });
  } catch (error) {
    throw new Error(`${error.message}${lastError()}`);
  }
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

// Each flow takes `measure`: timed (ms) or measuredRss (kB).
let seq = 0;
function benchRun(rt, measure) {
  const id = `run${seq++}`;
  live.set(`${rt.name} ${id}`, rt);
  const value = measure([...rt.argv, 'run', '--bundle', bundle, id]);
  if (fs.existsSync(path.join(rt.argv[2], id))) throw new Error(`${rt.name} run ${id} left its container behind`);
  live.delete(`${rt.name} ${id}`);
  return { run: value };
}

function createContainer(rt, measure) {
  const id = `life${seq++}`;
  const pidFile = path.join(work, `${id}.pid`);
  live.set(`${rt.name} ${id}`, rt);
  const create = measure([...rt.argv, 'create', '--bundle', bundle, '--pid-file', pidFile, id]);
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  fs.rmSync(pidFile);
  return { id, pid, create };
}

function deleteContainer(rt, id, measure) {
  const value = measure([...rt.argv, 'delete', id]);
  live.delete(`${rt.name} ${id}`);
  return value;
}

function benchLifecycle(rt, measure) {
  const { id, pid, create } = createContainer(rt, measure);
  const state = measure([...rt.argv, 'state', id]);
  const start = measure([...rt.argv, 'start', id]);
  waitExit(pid); // not measured
  const del = deleteContainer(rt, id, measure);
  return { create, state, start, delete: del, 'create+start+delete': create + start + del };
}

function benchKill(rt, measure) {
  const { id, pid } = createContainer(rt, timed);
  const kill = measure([...rt.argv, 'kill', id, 'KILL']);
  waitExit(pid); // not measured
  deleteContainer(rt, id, timed);
  return { kill };
}

const FLOWS = [benchRun, benchLifecycle, benchKill];

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

const OPS = ['run', 'create', 'state', 'start', 'kill', 'delete', 'create+start+delete'];
// How many runtime starts each operation pays for: its floor.
const RUNTIME_STARTS = { run: 1, create: 1, state: 1, start: 1, kill: 1, delete: 1, 'create+start+delete': 3 };
const RSS_OPS = OPS.filter((op) => op !== 'create+start+delete');

function verdict(ratio, target) {
  return target ? `<= ${target.toFixed(1)}x ${ratio <= target ? 'met' : 'MISSED'}` : '';
}

function report(samples, floor, rss) {
  const f = (x) => x.toFixed(1);
  const spread = (v) => `${f(Math.min(...v))} / ${f(percentile(v, 90))}`;
  console.log(`lifecycle of /bin/true in a busybox bundle, ${runs} runs each, wall time in ms; ${loadLine()}`);
  const rows = [['operation', 'ocits med', 'runc med', 'ocits/runc', 'target', 'ocits - floor', 'ocits min / p90', 'runc min / p90']];
  for (const op of OPS) {
    const o = samples.ocits[op];
    const r = samples.runc[op];
    const ratio = median(o) / median(r);
    const work = median(o) - RUNTIME_STARTS[op] * median(floor);
    rows.push([op, f(median(o)), f(median(r)), `${ratio.toFixed(2)}x`, verdict(ratio, TARGETS[op]), f(work), spread(o), spread(r)]);
  }
  rows.push([`${floorCommand.name} (floor)`, f(median(floor)), '', '', '', '', spread(floor), '']);
  printTable(rows);
  console.log('create+start+delete is the sum of the three commands; the wait for /bin/true to exit is not counted.');
  console.log("ocits - floor: ocits's median less one floor per command it runs (three for create+start+delete):");
  console.log("the work beyond starting the runtime, to hold against runc's whole time.");
  console.log('');
  console.log(`peak RSS in MB (median of ${RSS_ROUNDS} runs; the largest process of the command and the children it waited for)`);
  const rssRows = [['operation', 'ocits', 'runc', 'ocits/runc', 'target']];
  for (const op of RSS_OPS) {
    const o = median(rss.ocits[op]) / 1024;
    const r = median(rss.runc[op]) / 1024;
    rssRows.push([op, f(o), f(r), `${(o / r).toFixed(2)}x`, verdict(o / r, RSS_TARGETS[op])]);
  }
  rssRows.push([`${floorCommand.name} (floor)`, f(median(rss.floor) / 1024), '', '', '']);
  printTable(rssRows);
}

// Signal handlers run only when the event loop turns, and the measuring loop
// is synchronous: it yields at a checkpoint between commands, and stops there.
let interrupted = '';
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => (interrupted = signal));
async function checkpoint() {
  await new Promise(setImmediate);
  if (interrupted) throw new Error(`interrupted by ${interrupted}`);
}

const emptySamples = (ops) => Object.fromEntries(runtimes.map((rt) => [rt.name, Object.fromEntries(ops.map((op) => [op, []]))]));

// One round: every flow on both runtimes, in `order`. Values go to
// `samples` unless it is undefined (a warm-up round).
async function round(order, measure, samples) {
  for (const flow of FLOWS) {
    for (const rt of order) {
      await checkpoint();
      const values = flow(rt, measure);
      if (samples) for (const [op, value] of Object.entries(values)) samples[rt.name][op]?.push(value);
    }
  }
}

async function main() {
  timed(['runc', '--version']);
  makeBundle();
  const samples = emptySamples(OPS);
  const floor = [];
  for (let i = -WARMUP; i < runs; i++) {
    // Alternate which runtime goes first so order effects cancel out.
    const order = i % 2 ? [...runtimes].reverse() : runtimes;
    await checkpoint();
    const floorMs = timed(floorCommand.argv, floorCommand.env);
    if (i >= 0) floor.push(floorMs);
    await round(order, timed, i >= 0 ? samples : undefined);
  }
  const rss = emptySamples(RSS_OPS);
  for (let i = 0; i < RSS_ROUNDS; i++) await round(i % 2 ? [...runtimes].reverse() : runtimes, measuredRss, rss);
  rss.floor = Array.from({ length: RSS_ROUNDS }, () => peakRss(floorCommand.argv, { env: floorCommand.env }));
  report(samples, floor, rss);
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
