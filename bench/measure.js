// What the benches share: which ocits to measure, its runtime's bare start
// (the floor every ocits command pays), peak RSS, and the statistics.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

// A CA bundle loaded at start costs tens of milliseconds and is not ours to measure.
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;

/**
 * The ocits to measure: `--ocits BIN` among the arguments (another build's
 * bin/ocits, to hold a change against the one before it), else this
 * checkout's. Returns it and the other arguments.
 */
function ocitsFromArgs(args) {
  const at = args.indexOf('--ocits');
  if (at < 0) return { ocits: path.join(__dirname, '..', 'bin', 'ocits'), rest: args };
  if (args[at + 1] === undefined) throw new Error('--ocits needs a path');
  return { ocits: path.resolve(args[at + 1]), rest: [...args.slice(0, at), ...args.slice(at + 2)] };
}

/**
 * The bare start of the runtime an ocits build runs on: its program as Bun
 * (`bun -e 0`) when the build has dist/ocits, else Node, which builds before
 * the compiled program ran bin/ocits.js on.
 */
function runtimeFloor(ocits) {
  const program = path.join(fs.realpathSync(ocits), '..', '..', '..', 'dist', 'ocits');
  if (fs.existsSync(program)) {
    return { name: 'dist/ocits as bun -e 0', argv: [program, '-e', '0'], env: { ...env, BUN_BE_BUN: '1' } };
  }
  return { name: 'node -e 0', argv: [process.execPath, '-e', '0'], env };
}

const TIME = '/usr/bin/time';

/**
 * Peak resident set size in kB of the command: the largest of it and the
 * descendants it waited for (wait4's ru_maxrss, through GNU time), so for
 * `run` the container's process too. Shared pages count, such as the
 * runtime's own executable. Throws if the command does not exit `status`.
 */
function peakRss(argv, { stdio = 'ignore', status = 0, env: commandEnv = env } = {}) {
  if (!fs.existsSync(TIME)) throw new Error(`${TIME} is missing: install the Debian package "time"`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocits-bench-rss-'));
  try {
    const out = path.join(dir, 'rss');
    const result = spawnSync(TIME, ['-f', '%M', '-o', out, ...argv], { env: commandEnv, stdio });
    if (result.status !== status) throw new Error(`${argv.join(' ')} exited ${result.status}, expected ${status}`);
    return Number(fs.readFileSync(out, 'utf8').trim().split('\n').pop());
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
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

/** Prints rows as a Markdown-style table, the first column left-aligned. */
function printTable(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const line = (row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join(' | ');
  console.log(line(rows[0]));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const row of rows.slice(1)) console.log(line(row));
}

/** The machine's load when a bench starts: timings are only comparable within a run. */
function loadLine() {
  const [one, five] = os.loadavg();
  return `load average ${one.toFixed(2)} (1 min), ${five.toFixed(2)} (5 min) on ${os.cpus().length} CPUs, kernel ${os.release()}`;
}

module.exports = { env, ocitsFromArgs, runtimeFloor, peakRss, median, percentile, printTable, loadLine };
