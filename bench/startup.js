#!/usr/bin/env node
// Start-up cost of the CLI: every engine operation pays for one Node start,
// so we compare `ocits --version` and `ocits state <unknown id>` with a bare
// `node -e 0` in the same run. Prints medians in milliseconds.
//
// Usage: node bench/startup.js [runs]   (default 40)
'use strict';
const { spawnSync } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');

const runs = Number(process.argv[2] ?? 40);
const ocits = path.join(__dirname, '..', 'bin', 'ocits');
const root = path.join(os.tmpdir(), `ocits-bench-${process.pid}`); // never created: state finds nothing

// A CA bundle loaded at start costs tens of milliseconds and is not ours to measure.
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;

const cases = [
  { name: 'node -e 0', argv: [process.execPath, '-e', '0'], status: 0 },
  { name: 'ocits --version', argv: [ocits, '--version'], status: 0 },
  { name: 'ocits state nosuchid', argv: [ocits, '--root', root, 'state', 'nosuchid'], status: 1 },
];

function timeOnce({ argv, status }) {
  const start = process.hrtime.bigint();
  const result = spawnSync(argv[0], argv.slice(1), { env, stdio: 'ignore' });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== status) throw new Error(`${argv.join(' ')} exited ${result.status}, expected ${status}`);
  return elapsed;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const samples = new Map(cases.map((c) => [c.name, []]));
for (const c of cases) timeOnce(c); // warm the page cache
// Interleave the cases so drift in machine load hits all of them alike.
for (let i = 0; i < runs; i++) for (const c of cases) samples.get(c.name).push(timeOnce(c));

const baseline = median(samples.get('node -e 0'));
console.log(`startup medians over ${runs} runs (ms)`);
for (const c of cases) {
  const m = median(samples.get(c.name));
  console.log(`${c.name.padEnd(24)} ${m.toFixed(1).padStart(7)}   x${(m / baseline).toFixed(2)} of node -e 0`);
}
