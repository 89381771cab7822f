#!/usr/bin/env node
// Many containers in a row, against runc in the same run: N `create`s of a
// busybox `sleep` (all left created, as an engine starting a pod's worth of
// containers would), then `delete --force` of every one. The two runtimes
// take turns in blocks of ten, so drift in machine load hits both alike.
// Prints the total and median of each phase, the ratio ocits/runc, and the
// median of the first and last quarter of creates: a create that gets
// slower as containers accumulate shows there. The floor is the bare start
// of the runtime ocits runs on (see measure.js), which every command pays.
// Timing is informational: the script fails only when a command fails.
//
// Usage (as root, after `npm run build`):
//   node bench/many.js [N] [--ocits BIN]   (default 200)
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { env, ocitsFromArgs, runtimeFloor, median, printTable, loadLine } = require('./measure');

const { ocits: ocitsBin, rest } = ocitsFromArgs(process.argv.slice(2));
const count = Number(rest[0] ?? 200);
if (!Number.isInteger(count) || count < 4) {
  console.error('usage: node bench/many.js [N >= 4] [--ocits BIN]');
  process.exit(2);
}
const BLOCK = 10;

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ocits-bench-many-'));
const stateParent = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
const roots = fs.mkdtempSync(path.join(stateParent, 'ocits-bench-roots-'));
const bundle = path.join(work, 'bundle');
const runtimes = [
  { name: 'ocits', argv: [ocitsBin, '--root', path.join(roots, 'ocits')], creates: [], deletes: [], made: [] },
  { name: 'runc', argv: ['runc', '--root', path.join(roots, 'runc')], creates: [], deletes: [], made: [] },
];

// Wall time in milliseconds; throws if the command fails. stdio is not piped:
// a created container's process inherits it and would hold a pipe open.
function timed(argv, commandEnv = env) {
  const start = process.hrtime.bigint();
  const result = spawnSync(argv[0], argv.slice(1), { env: commandEnv, stdio: 'ignore' });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${argv.join(' ')} exited ${result.status ?? result.signal}`);
  return elapsed;
}

function makeBundle() {
  const bin = path.join(bundle, 'rootfs', 'bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(bin, 'busybox'));
  fs.chmodSync(path.join(bin, 'busybox'), 0o755);
  fs.symlinkSync('busybox', path.join(bin, 'sleep'));
  timed([ocitsBin, 'spec', '--bundle', bundle]);
  const file = path.join(bundle, 'config.json');
  const config = JSON.parse(fs.readFileSync(file, 'utf8'));
  config.process.terminal = false;
  config.process.args = ['sleep', '1000'];
  fs.writeFileSync(file, JSON.stringify(config));
}

// Each runtime's ids are its own: a default cgroupsPath is /ID in both.
function phase(name, step) {
  for (let first = 0; first < count; first += BLOCK) {
    for (const rt of runtimes) {
      for (let i = first; i < Math.min(first + BLOCK, count); i++) step(rt, `${rt.name}-${i}`);
    }
  }
  process.stderr.write(`${name} done\n`);
}

const ms = (value) => value.toFixed(1);
try {
  makeBundle();
  console.log(loadLine());
  const floor = runtimeFloor(ocitsBin);
  const floors = Array.from({ length: 20 }, () => timed(floor.argv, floor.env));
  phase('create', (rt, id) => {
    rt.creates.push(timed([...rt.argv, 'create', '--bundle', bundle, id]));
    rt.made.push(id);
  });
  phase('delete', (rt, id) => {
    rt.deletes.push(timed([...rt.argv, 'delete', '--force', id]));
    rt.made.splice(rt.made.indexOf(id), 1);
  });
  const [ocits, runc] = runtimes;
  const quarter = Math.floor(count / 4);
  const sum = (values) => values.reduce((a, b) => a + b, 0);
  const row = (label, of) => [label, ms(of(ocits)), ms(of(runc)), `${(of(ocits) / of(runc)).toFixed(2)}x`];
  printTable([
    [`${count} containers (ms)`, 'ocits', 'runc', 'ratio'],
    row('create, total', (rt) => sum(rt.creates)),
    row('create, median', (rt) => median(rt.creates)),
    row(`create, median of the first ${quarter}`, (rt) => median(rt.creates.slice(0, quarter))),
    row(`create, median of the last ${quarter}`, (rt) => median(rt.creates.slice(-quarter))),
    row('delete --force, total', (rt) => sum(rt.deletes)),
    row('delete --force, median', (rt) => median(rt.deletes)),
  ]);
  console.log(`floor (${floor.name}): median ${ms(median(floors))} ms`);
} finally {
  for (const rt of runtimes) {
    for (const id of rt.made) spawnSync(rt.argv[0], [...rt.argv.slice(1), 'delete', '--force', id], { stdio: 'ignore' });
  }
  fs.rmSync(work, { recursive: true, force: true });
  fs.rmSync(roots, { recursive: true, force: true });
}
