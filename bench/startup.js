#!/usr/bin/env node
// Start-up cost of the CLI against runc: every engine operation starts one
// ocits, so we time `--version` and `state <unknown id>` of both, and the
// bare start of the runtime ocits runs on (its floor), interleaved in the
// same run. Prints medians in milliseconds, the ratio to runc's same command,
// and each command's peak RSS next to runc's (from /usr/bin/time, the Debian
// package "time", in rounds of their own so that timing is not disturbed).
//
// Usage: node bench/startup.js [runs] [--ocits BIN]   (default 40 runs; BIN: another build's bin/ocits)
'use strict';
const { spawnSync } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');
const { env, ocitsFromArgs, runtimeFloor, peakRss, median, printTable, loadLine } = require('./measure');

const { ocits, rest } = ocitsFromArgs(process.argv.slice(2));
const runs = Number(rest[0] ?? 40);
if (!Number.isInteger(runs) || runs < 1) {
  console.error('usage: node bench/startup.js [runs] [--ocits BIN]');
  process.exit(2);
}
const RSS_RUNS = 5;
const root = path.join(os.tmpdir(), `ocits-bench-${process.pid}`); // never created: state finds nothing

const floor = runtimeFloor(ocits);
const cases = [
  { name: floor.name, argv: floor.argv, env: floor.env, status: 0 },
  { name: 'ocits --version', argv: [ocits, '--version'], status: 0, runc: 'runc --version' },
  { name: 'ocits state nosuchid', argv: [ocits, '--root', root, 'state', 'nosuchid'], status: 1, runc: 'runc state nosuchid' },
  { name: 'runc --version', argv: ['runc', '--version'], status: 0 },
  { name: 'runc state nosuchid', argv: ['runc', '--root', root, 'state', 'nosuchid'], status: 1 },
];

function timeOnce({ argv, status, env: caseEnv = env }) {
  const start = process.hrtime.bigint();
  const result = spawnSync(argv[0], argv.slice(1), { env: caseEnv, stdio: 'ignore' });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== status) throw new Error(`${argv.join(' ')} exited ${result.status}, expected ${status}`);
  return elapsed;
}

console.log(`startup over ${runs} runs; ${loadLine()}`);
const samples = new Map(cases.map((c) => [c.name, []]));
for (const c of cases) timeOnce(c); // warm the page cache
// Interleave the cases so drift in machine load hits all of them alike.
for (let i = 0; i < runs; i++) for (const c of cases) samples.get(c.name).push(timeOnce(c));
const rss = new Map(cases.map((c) => [c.name, []]));
for (let i = 0; i < RSS_RUNS; i++) for (const c of cases) rss.get(c.name).push(peakRss(c.argv, { status: c.status, env: c.env }));

const ms = (name) => median(samples.get(name));
const mb = (name) => median(rss.get(name)) / 1024;
const rows = [['command', 'median ms', 'vs runc', `peak RSS MB (median of ${RSS_RUNS})`, 'vs runc']];
for (const c of cases) {
  const versus = (value) => (c.runc ? `${(value(c.name) / value(c.runc)).toFixed(2)}x` : '');
  rows.push([c.name, ms(c.name).toFixed(1), versus(ms), mb(c.name).toFixed(1), versus(mb)]);
}
printTable(rows);
