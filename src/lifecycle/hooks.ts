// Hooks that run in the runtime's namespaces: prestart, createRuntime,
// poststart and poststop. (createContainer and startContainer run inside the
// container; the addon forks those.) Each hook gets the container state on
// stdin, runs with exactly the argv and environment the config gives, and may
// be killed after its timeout. Whether a failure aborts the operation is the
// caller's choice: runHooks throws, runHooksWarningOnFailure logs and goes on.
import type { SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OcitsError, isErrno, messageOf, systemErrorText } from '../errors';
import { logWarning, tracer } from '../log';
import type { Hook } from '../spec/types';

const trace = tracer('hooks');

export type RuntimeHookKind = 'prestart' | 'createRuntime' | 'poststart' | 'poststop';

/** How much of a failed hook's output its one-line error quotes. */
const QUOTED_LINES = 3;
const QUOTED_BYTES = 4096;

/**
 * Runs the hooks in order, each to completion. The first failure throws, e.g.
 * `createRuntime hook #0 (/usr/bin/h) failed: exit status 3: <its stderr>`.
 */
export function runHooks(kind: RuntimeHookKind, hooks: Hook[] | undefined, state: HookState): void {
  const input = JSON.stringify(state);
  (hooks ?? []).forEach((hook, index) => runHook(kind, index, hook, input, workingDirectory(state)));
}

/** The state document a hook reads on stdin; only its bundle matters here. */
interface HookState {
  bundle: string;
  [field: string]: unknown;
}

/**
 * runc runs create's and run's hooks from the bundle directory, where it has
 * changed directory; hooks written for it may name files relative to that.
 * A bundle removed by now (an engine's cleanup before delete) leaves the
 * caller's directory.
 */
function workingDirectory(state: HookState): string | undefined {
  return fs.existsSync(state.bundle) ? state.bundle : undefined;
}

/**
 * Runs every hook in order; a failure is logged as a warning and the
 * remaining hooks still run. The spec asks this of poststop hooks ("the
 * runtime MUST log a warning, but the remaining hooks and lifecycle continue
 * as if the hook had succeeded"); a failed poststart hook is an error there.
 */
export function runHooksWarningOnFailure(kind: RuntimeHookKind, hooks: Hook[] | undefined, state: HookState): void {
  const input = JSON.stringify(state);
  (hooks ?? []).forEach((hook, index) => {
    try {
      runHook(kind, index, hook, input, workingDirectory(state));
    } catch (error) {
      logWarning(messageOf(error));
    }
  });
}

function runHook(kind: RuntimeHookKind, index: number, hook: Hook, input: string, cwd: string | undefined): void {
  const label = `${kind} hook #${index} (${hook.path})`;
  const failure = (reason: string) => new OcitsError(`${label} failed: ${reason}`);
  // The schema requires this; without it spawn would search $PATH.
  if (!path.isAbsolute(hook.path)) throw failure('its path is not absolute');
  // As in Go's exec.Cmd, which runc uses: no args means argv is [path].
  const argv = hook.args !== undefined && hook.args.length > 0 ? hook.args : [hook.path];
  // runc leaves exec.Cmd.Env nil when the hook has no env, and Go then passes
  // the runtime's own environment; engines rely on that (PATH, for one).
  const env = hook.env === undefined ? process.env : exactEnvironment(hook.env, failure);

  let output: CaptureFiles;
  try {
    output = openCaptureFiles();
  } catch (error) {
    throw failure(`cannot capture its output: ${messageOf(error)}`);
  }
  try {
    trace('running %s with argv %j', label, argv);
    let result: SpawnSyncReturns<Buffer>;
    try {
      // Loaded here, not at the top: node:child_process brings the stream and
      // net modules (8 ms), which every command importing this module would
      // pay for although most containers have no hooks.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
      result = spawnSync(hook.path, argv.slice(1), {
        argv0: argv[0],
        cwd,
        env,
        input,
        stdio: ['pipe', output.stdout, output.stderr],
        timeout: hook.timeout !== undefined && hook.timeout > 0 ? hook.timeout * 1000 : undefined,
        killSignal: 'SIGKILL',
      });
    } catch (error) {
      // spawnSync throws (rather than reporting) arguments it cannot pass,
      // such as a string holding a NUL byte.
      throw failure(messageOf(error));
    }
    const reason = failureReason(result, hook.timeout);
    if (reason === undefined) {
      trace('%s succeeded', label);
      return;
    }
    const quoted = lastLines(output.stderr) || lastLines(output.stdout);
    throw failure(quoted === '' ? reason : `${reason}: ${quoted}`);
  } finally {
    fs.closeSync(output.stdout);
    fs.closeSync(output.stderr);
  }
}

/** The env array as spawn wants it; a repeated name keeps its last value, as in Go. */
function exactEnvironment(entries: string[], failure: (reason: string) => OcitsError): NodeJS.ProcessEnv {
  // No prototype, so an entry named __proto__ is just a variable.
  const env: NodeJS.ProcessEnv = Object.create(null) as NodeJS.ProcessEnv;
  for (const entry of entries) {
    const equals = entry.indexOf('=');
    if (equals < 0) throw failure(`env entry ${JSON.stringify(entry)} is not of the form KEY=value`);
    env[entry.slice(0, equals)] = entry.slice(equals + 1);
  }
  return env;
}

/** Why the hook failed, or undefined when it exited with status 0. */
function failureReason(result: SpawnSyncReturns<Buffer>, timeout: number | undefined): string | undefined {
  const error = result.error;
  if (error !== undefined) {
    if (isErrno(error, 'ETIMEDOUT')) return `timed out after ${timeout} s`;
    // A hook may exit without reading its stdin; Go's exec ignores that too.
    if (!isErrno(error, 'EPIPE')) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      return `cannot execute it: ${systemErrorText(code) ?? messageOf(error)}`;
    }
  }
  if (result.signal !== null) return `killed by ${result.signal}`;
  if (result.status !== 0) return `exit status ${result.status}`;
  return undefined;
}

interface CaptureFiles {
  stdout: number;
  stderr: number;
}

/**
 * Two unlinked temporary files for the hook's stdout and stderr. Files, not
 * pipes: spawnSync reads a pipe until EOF, so a hook that leaves a background
 * process holding its stdout would block us until that process exits; and a
 * file has no size limit at which a chatty hook would be killed.
 */
function openCaptureFiles(): CaptureFiles {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocits-hook-'));
  try {
    const stdout = openUnlinked(path.join(dir, 'stdout'));
    try {
      return { stdout, stderr: openUnlinked(path.join(dir, 'stderr')) };
    } catch (error) {
      fs.closeSync(stdout);
      throw error;
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function openUnlinked(file: string): number {
  const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
  fs.unlinkSync(file);
  return fd;
}

/** The last few non-empty lines a hook wrote, joined into one line. */
function lastLines(fd: number): string {
  const size = fs.fstatSync(fd).size;
  const length = Math.min(size, QUOTED_BYTES);
  const buffer = Buffer.alloc(length);
  fs.readSync(fd, buffer, 0, length, size - length);
  const lines = buffer.toString('utf8').split('\n');
  if (length < size) lines.shift(); // cut off at its start
  return lines
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .slice(-QUOTED_LINES)
    .join('; ');
}
