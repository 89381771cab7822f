// Hooks in the runtime namespace: state on stdin, exact argv and environment,
// timeouts, and errors that quote what the hook said.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as output from '../../../src/output';
import { runHooks, runHooksWarningOnFailure } from '../../../src/lifecycle/hooks';
import type { Hook } from '../../../src/spec/types';
import { tempDir } from '../../helpers/tmp';

const STATE = { ociVersion: '1.3.0', id: 'c1', status: 'creating', pid: 42, bundle: '/bundle' };

/** An executable shell script in a fresh temporary directory. */
function script(body: string): string {
  const file = path.join(tempDir('ocits-hook-test-'), 'hook.sh');
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

/** A hook that runs node with this program; args[0] is `argv0`. */
function nodeHook(program: string, fields: Partial<Hook> = {}): Hook {
  return { path: process.execPath, args: ['node', '-e', program], ...fields };
}

function messageOfFailure(kind: Parameters<typeof runHooks>[0], hooks: Hook[]): string {
  try {
    runHooks(kind, hooks, STATE);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('the hooks did not fail');
}

describe('runHooks', () => {
  it('passes the state as JSON on stdin', () => {
    const out = path.join(tempDir(), 'stdin');
    runHooks('createRuntime', [{ path: script(`cat > ${out}`) }], STATE);
    expect(JSON.parse(fs.readFileSync(out, 'utf8'))).toStrictEqual(STATE);
  });

  it('runs args as the whole argv, argv[0] included', () => {
    const out = path.join(tempDir(), 'cmdline');
    const program = `const fs = require('fs'); fs.writeFileSync(${JSON.stringify(out)}, fs.readFileSync('/proc/self/cmdline'))`;
    runHooks('prestart', [{ path: process.execPath, args: ['not-the-path', '-e', program, 'x y'] }], STATE);
    expect(fs.readFileSync(out, 'utf8').split('\0')).toStrictEqual(['not-the-path', '-e', program, 'x y', '']);
  });

  it('runs the path alone when there are no args', () => {
    // Node with no arguments would read its program from stdin, so a
    // preloaded module records the argv and exits first.
    const dir = tempDir();
    const out = path.join(dir, 'cmdline');
    const preload = path.join(dir, 'preload.js');
    fs.writeFileSync(preload, `const fs = require('fs'); fs.writeFileSync(${JSON.stringify(out)}, fs.readFileSync('/proc/self/cmdline')); process.exit(0);\n`);
    runHooks('poststart', [{ path: process.execPath, env: [`NODE_OPTIONS=--require ${preload}`] }], STATE);
    expect(fs.readFileSync(out, 'utf8').split('\0')).toStrictEqual([process.execPath, '']);
  });

  it('gives a hook with env exactly that environment; a repeated name keeps its last value', () => {
    const out = path.join(tempDir(), 'env');
    const hook = nodeHook(`require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.env))`, {
      env: ['A=1', 'B=x=y', 'EMPTY=', 'A=2'],
    });
    runHooks('createRuntime', [hook], STATE);
    expect(JSON.parse(fs.readFileSync(out, 'utf8'))).toStrictEqual({ A: '2', B: 'x=y', EMPTY: '' });
  });

  it('gives a hook without env the runtime\'s environment, as runc does', () => {
    const out = path.join(tempDir(), 'env');
    process.env.OCITS_HOOK_TEST = 'inherited';
    try {
      runHooks('poststop', [nodeHook(`require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.env))`)], STATE);
    } finally {
      delete process.env.OCITS_HOOK_TEST;
    }
    const env = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(env.OCITS_HOOK_TEST).toBe('inherited');
    expect(env.PATH).toBe(process.env.PATH);
  });

  it('refuses an env entry that is not KEY=value', () => {
    expect(messageOfFailure('prestart', [{ path: '/bin/true', env: ['A=1', 'NOEQUALS'] }])).toBe(
      'prestart hook #0 (/bin/true) failed: env entry "NOEQUALS" is not of the form KEY=value',
    );
  });

  it('kills a hook that outlives its timeout', () => {
    const hook = script('echo waiting >&2; exec sleep 30');
    expect(messageOfFailure('createRuntime', [{ path: hook, timeout: 1 }])).toBe(
      `createRuntime hook #0 (${hook}) failed: timed out after 1 s: waiting`,
    );
  });

  it('does not wait for a background process the hook leaves behind', () => {
    const pidFile = path.join(tempDir(), 'pid');
    // Were the hook's output a pipe, the orphan would hold it open for 60 s.
    runHooks('poststart', [{ path: script(`sleep 60 & echo $! > ${pidFile}; echo started`) }], STATE);
    process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGKILL');
  });

  it('quotes the last lines of stderr when a hook exits non-zero', () => {
    const hook = script('echo on stdout; for n in 1 2 3 4; do echo "line $n" >&2; done; echo >&2; exit 3');
    expect(messageOfFailure('createRuntime', [{ path: hook }])).toBe(
      `createRuntime hook #0 (${hook}) failed: exit status 3: line 2; line 3; line 4`,
    );
  });

  it('quotes stdout when stderr is empty', () => {
    const hook = script('echo "no network"; exit 1');
    expect(messageOfFailure('prestart', [{ path: hook }])).toBe(`prestart hook #0 (${hook}) failed: exit status 1: no network`);
  });

  it('reports a hook killed by a signal', () => {
    const hook = script('kill -TERM $$');
    expect(messageOfFailure('prestart', [{ path: hook }])).toBe(`prestart hook #0 (${hook}) failed: killed by SIGTERM`);
  });

  it('succeeds when a hook exits without reading its stdin', () => {
    runHooks('createRuntime', [{ path: script('exit 0') }], { ...STATE, annotations: { big: 'x'.repeat(1 << 20) } });
  });

  it('reports a missing hook', () => {
    const missing = path.join(tempDir(), 'missing');
    expect(messageOfFailure('createRuntime', [{ path: missing }])).toBe(
      `createRuntime hook #0 (${missing}) failed: cannot execute it: no such file or directory`,
    );
  });

  it('reports a hook that is not executable', () => {
    const hook = script('exit 0');
    fs.chmodSync(hook, 0o644);
    expect(messageOfFailure('createRuntime', [{ path: hook }])).toBe(
      `createRuntime hook #0 (${hook}) failed: cannot execute it: permission denied`,
    );
  });

  it('runs hooks in order and stops at the first failure', () => {
    const out = path.join(tempDir(), 'order');
    const hooks = ['first', 'second', 'fails', 'never'].map((name) => ({
      path: script(`echo ${name} >> ${out}${name === 'fails' ? '; exit 1' : ''}`),
    }));
    expect(messageOfFailure('createRuntime', hooks)).toMatch(/^createRuntime hook #2 \(.*\) failed: exit status 1$/);
    expect(fs.readFileSync(out, 'utf8')).toBe('first\nsecond\nfails\n');
  });

  it('does nothing without hooks', () => {
    runHooks('prestart', undefined, STATE);
    runHooks('prestart', [], STATE);
  });
});

describe('runHooksWarningOnFailure', () => {
  it('logs a warning for a failed hook and runs the remaining ones', () => {
    const out = path.join(tempDir(), 'order');
    const failing = script(`echo one >> ${out}; echo "cleanup failed" >&2; exit 2`);
    const missing = path.join(tempDir(), 'missing');
    const last = script(`echo three >> ${out}`);
    const stderr = jest.spyOn(output, 'writeStderr').mockImplementation(() => {});
    try {
      runHooksWarningOnFailure('poststop', [{ path: failing }, { path: missing }, { path: last }], STATE);
      expect(stderr.mock.calls.map(([text]) => text)).toStrictEqual([
        `ocits: warning: poststop hook #0 (${failing}) failed: exit status 2: cleanup failed\n`,
        `ocits: warning: poststop hook #1 (${missing}) failed: cannot execute it: no such file or directory\n`,
      ]);
    } finally {
      stderr.mockRestore();
    }
    expect(fs.readFileSync(out, 'utf8')).toBe('one\nthree\n');
  });
});
