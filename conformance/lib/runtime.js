// The runtime under test, driven only through its command line, as an engine
// would: a private --root, one process per operation. Every container created
// through it is remembered so that cleanUp() can force-delete it even when a
// case failed half-way.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

/** Blocks the (single-threaded) suite for `ms` without spinning. */
function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Polls `test` every 20 ms until it returns a truthy value or `ms` pass. */
function waitUntil(test, ms = 10000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = test();
    if (value) return value;
    if (Date.now() > deadline) return value;
    sleep(20);
  }
}

class Runtime {
  /**
   * @param {string} bin the runtime's executable
   * @param {string} root its private state directory
   * @param {string} outputDir where detached containers' stdout/stderr go
   */
  constructor(bin, root, outputDir) {
    this.bin = bin;
    this.root = root;
    this.outputDir = outputDir;
    this.ids = new Set();
    this.name = this.identify();
  }

  /** 'runc', 'ocits', ...: the first word of `--version`, for known deviations. */
  identify() {
    const result = spawnSync(this.bin, ['--version'], { encoding: 'utf8' });
    if (result.error) throw new Error(`cannot run ${this.bin}: ${result.error.message}`);
    return (result.stdout.split(/\s/)[0] || path.basename(this.bin)).toLowerCase();
  }

  /** Runs an operation that does not leave a process behind; output through pipes. */
  run(args, options = {}) {
    const result = spawnSync(this.bin, ['--root', this.root, ...args], {
      encoding: 'utf8',
      cwd: options.cwd,
      input: options.input ?? '',
      timeout: options.timeout ?? 30000,
    });
    if (result.error) throw new Error(`${this.bin} ${args.join(' ')}: ${result.error.message}`);
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  /**
   * `create --bundle BUNDLE ID`. The container inherits the runtime's stdio,
   * so stdout and stderr are files (pipes would keep us waiting until the
   * container exits): `output(id)` reads what the container wrote.
   */
  create(id, bundle, options = {}) {
    this.ids.add(id);
    const out = path.join(this.outputDir, `${id}.out`);
    const err = path.join(this.outputDir, `${id}.err`);
    const fds = [fs.openSync('/dev/null', 'r'), fs.openSync(out, 'w'), fs.openSync(err, 'w')];
    try {
      const result = spawnSync(this.bin, ['--root', this.root, 'create', '--bundle', bundle, id], {
        cwd: options.cwd,
        stdio: fds,
        timeout: options.timeout ?? 30000,
      });
      if (result.error) throw new Error(`${this.bin} create ${id}: ${result.error.message}`);
      return { status: result.status, stdout: fs.readFileSync(out, 'utf8'), stderr: fs.readFileSync(err, 'utf8') };
    } finally {
      fds.forEach((fd) => fs.closeSync(fd));
    }
  }

  /** What the container wrote to its stdout and stderr so far. */
  output(id) {
    const read = (suffix) => {
      try {
        return fs.readFileSync(path.join(this.outputDir, `${id}.${suffix}`), 'utf8');
      } catch {
        return '';
      }
    };
    return { stdout: read('out'), stderr: read('err') };
  }

  /** The parsed state, or undefined when `state` fails (no such container). */
  tryState(id) {
    const result = this.run(['state', id]);
    if (result.status !== 0) return undefined;
    try {
      return JSON.parse(result.stdout);
    } catch {
      return undefined;
    }
  }

  /** The parsed state; throws when the runtime cannot give it. */
  state(id) {
    const result = this.run(['state', id]);
    if (result.status !== 0) throw new Error(`state ${id} exited ${result.status}: ${result.stderr.trim()}`);
    try {
      return JSON.parse(result.stdout);
    } catch {
      throw new Error(`state ${id} printed no JSON: ${JSON.stringify(result.stdout)}`);
    }
  }

  /** Waits until the container reports `status`; returns the last state seen. */
  waitForStatus(id, status, ms = 10000) {
    let last;
    // A container whose state cannot be read will not come back: stop there.
    waitUntil(() => {
      last = this.tryState(id);
      return last === undefined || last.status === status;
    }, ms);
    if (last?.status !== status) throw new Error(`${id} did not become ${status} (last state: ${JSON.stringify(last)})`);
    return last;
  }

  /** Checks a result succeeded; returns it. */
  ok(what, result) {
    if (result.status !== 0) throw new Error(`${what} exited ${result.status}: ${result.stderr.trim()}`);
    return result;
  }

  /**
   * create, start, wait for the program to exit, delete: the common way to
   * observe a configuration from inside. Returns the container's output and
   * the states seen on the way.
   */
  runToCompletion(id, bundle) {
    this.ok(`create ${id}`, this.create(id, bundle));
    const created = this.state(id);
    this.ok(`start ${id}`, this.run(['start', id]));
    const stopped = this.waitForStatus(id, 'stopped');
    const output = this.output(id);
    this.ok(`delete ${id}`, this.run(['delete', id]));
    return { ...output, created, stopped };
  }

  /** Force-deletes every container made through this object. */
  cleanUp() {
    for (const id of this.ids) {
      if (this.tryState(id) !== undefined) this.run(['delete', '--force', id]);
    }
    this.ids.clear();
  }
}

module.exports = { Runtime, sleep, waitUntil };
