// linux.seccomp with real containers: the filter compiled by libseccomp in
// the runtime, loaded by the init process, observed from inside (Seccomp: 2,
// errnos, signals) and, for SCMP_ACT_NOTIFY, from a seccomp agent that gets
// the notify fd and the container process state.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addon } from '../../src/addon';
import { Runtime, busyboxBundle } from '../helpers/busybox';
import { ocits, REPO } from '../helpers/cli';
import { tempDir } from '../helpers/tmp';

const runtime = new Runtime();
afterAll(() => runtime.cleanUp());

let counter = 0;
const nextId = (): string => `c${process.pid}-${++counter}`;

const SIGSYS_EXIT = 128 + 31;

type Change = (config: Record<string, any>) => void;

function bundleFor(script: string, seccomp: Record<string, unknown>, change: Change = () => {}): string {
  const bundle = busyboxBundle((config) => {
    config.process.args = ['sh', '-c', script];
    config.linux.seccomp = seccomp;
    // A writable root, so an errno can only come from the filter.
    config.root.readonly = false;
    change(config);
  });
  // chmod is an applet the shared helper does not link.
  fs.symlinkSync('busybox', path.join(bundle, 'rootfs', 'bin', 'chmod'));
  return bundle;
}

function runWith(script: string, seccomp: Record<string, unknown>, change: Change = () => {}) {
  const bundle = bundleFor(script, seccomp, change);
  const id = nextId();
  return { ...runtime.run(['run', '--bundle', bundle, id]), id, bundle };
}

const denyMkdir = (action: string, extra: Record<string, unknown> = {}) => ({
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [{ names: ['mkdir', 'mkdirat'], action, ...extra }],
});

describe('a seccomp filter', () => {
  it('is loaded in filter mode, without no_new_privs, and denies with the configured errno', () => {
    const { stdout, stderr, status } = runWith(
      'grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status; mkdir /made 2>/dev/null; echo "mkdir $?"; mkdir /made 2>&1',
      denyMkdir('SCMP_ACT_ERRNO', { errnoRet: 1 }),
      // The default capabilities lack CAP_SYS_ADMIN, which loading without
      // no_new_privs needs: the filter must go in before they are dropped.
      (config) => {
        config.process.noNewPrivileges = false;
      },
    );
    expect(stderr).toBe('');
    expect(status).toBe(1);
    expect(stdout).toMatch(/^NoNewPrivs:\s+0\nSeccomp:\s+2\nmkdir 1\nmkdir: can't create directory '\/made': Operation not permitted\n$/);
  });

  it('is loaded with no_new_privs for a user without capabilities', () => {
    const { stdout, status } = runWith(
      'grep -E "^(Seccomp|NoNewPrivs|CapEff):" /proc/self/status; id -u; mkdir /tmp/made 2>&1',
      denyMkdir('SCMP_ACT_ERRNO', { errnoRet: 13 }),
      (config) => {
        config.process.noNewPrivileges = true;
        config.process.user = { uid: 1000, gid: 1000 };
        config.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['mode=1777'] });
      },
    );
    expect(status).toBe(1);
    expect(stdout).toMatch(
      /^CapEff:\s+0+\nNoNewPrivs:\s+1\nSeccomp:\s+2\n1000\nmkdir: can't create directory '\/tmp\/made': Permission denied\n$/,
    );
  });

  it('gives SCMP_ACT_ERRNO EPERM when errnoRet is not set, as runc does', () => {
    const { stdout } = runWith('mkdir /made 2>&1', denyMkdir('SCMP_ACT_ERRNO'));
    expect(stdout).toContain('Operation not permitted');
  });

  it('returns defaultErrnoRet for every syscall no rule allows', () => {
    // Allow every syscall this architecture has except mkdir and mkdirat.
    const header = fs.readFileSync('/usr/include/x86_64-linux-gnu/asm/unistd_64.h', 'utf8');
    const names = [...header.matchAll(/^#define __NR_(\w+)\s+\d+$/gm)].map((match) => match[1]);
    expect(names).toContain('mkdirat');
    const allowed = names.filter((name) => name !== 'mkdir' && name !== 'mkdirat');
    const { stdout, status } = runWith('mkdir /made 2>&1; echo done', {
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 28,
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
      syscalls: [{ names: allowed, action: 'SCMP_ACT_ALLOW' }],
    });
    expect(status).toBe(0);
    expect(stdout).toBe("mkdir: can't create directory '/made': No space left on device\ndone\n");
  });

  it('matches syscall arguments with each operator', () => {
    // chmod(path, mode): mode is argument 1.
    const chmodRule = (op: string, value: number, valueTwo?: number) => ({
      names: ['chmod'],
      action: 'SCMP_ACT_ERRNO',
      errnoRet: 1,
      args: [{ index: 1, op, value, ...(valueTwo !== undefined ? { valueTwo } : {}) }],
    });
    const cases: Array<[ReturnType<typeof chmodRule>, string[], string[]]> = [
      [chmodRule('SCMP_CMP_EQ', 0o700), ['700'], ['755', '701']],
      [chmodRule('SCMP_CMP_NE', 0o700), ['755', '600'], ['700']],
      [chmodRule('SCMP_CMP_GT', 0o700), ['701', '755'], ['700', '600']],
      [chmodRule('SCMP_CMP_GE', 0o700), ['700', '755'], ['677']],
      [chmodRule('SCMP_CMP_LT', 0o700), ['677', '600'], ['700']],
      [chmodRule('SCMP_CMP_LE', 0o700), ['700', '600'], ['701']],
      // Denied when no group or other bit is set: (mode & 077) == 0.
      [chmodRule('SCMP_CMP_MASKED_EQ', 0o077, 0), ['700', '600'], ['750', '604']],
    ];
    for (const [rule, denied, allowed] of cases) {
      const script = [...denied, ...allowed].map((mode) => `chmod ${mode} /f 2>/dev/null; echo ${mode}=$?`).join('; ');
      const { stdout } = runWith(`touch /f; ${script}`, { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [rule] });
      const expected = [...denied.map((mode) => `${mode}=1`), ...allowed.map((mode) => `${mode}=0`)];
      expect({ op: rule.args[0].op, results: stdout.trim().split('\n') }).toEqual({ op: rule.args[0].op, results: expected });
    }
  });

  it('ORs conditions on the same argument, as runc does', () => {
    const { stdout } = runWith('touch /f; for m in 700 600 755; do chmod $m /f 2>/dev/null; echo $m=$?; done', {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{
        names: ['chmod'],
        action: 'SCMP_ACT_ERRNO',
        args: [{ index: 1, op: 'SCMP_CMP_EQ', value: 0o700 }, { index: 1, op: 'SCMP_CMP_EQ', value: 0o600 }],
      }],
    });
    expect(stdout).toBe('700=1\n600=1\n755=0\n');
  });

  it('skips syscall names libseccomp does not know and applies the rest', () => {
    const { stdout, stderr, status } = runWith('mkdir /made 2>&1', {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['no_such_syscall', 'mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
    });
    expect(stderr).toBe('');
    expect(status).toBe(1);
    expect(stdout).toContain('Operation not permitted');
  });

  it('carries out every action', () => {
    const outcomes: Array<[string, number, string]> = [
      ['SCMP_ACT_KILL', SIGSYS_EXIT, ''],
      ['SCMP_ACT_KILL_THREAD', SIGSYS_EXIT, ''],
      ['SCMP_ACT_KILL_PROCESS', SIGSYS_EXIT, ''],
      ['SCMP_ACT_TRAP', SIGSYS_EXIT, ''],
      // No tracer is attached, so the kernel fails the syscall with ENOSYS.
      ['SCMP_ACT_TRACE', 1, "mkdir: can't create directory '/made': Function not implemented\n"],
      ['SCMP_ACT_LOG', 0, ''],
      ['SCMP_ACT_ERRNO', 1, "mkdir: can't create directory '/made': Operation not permitted\n"],
    ];
    for (const [action, exitStatus, output] of outcomes) {
      const bundle = bundleFor('', denyMkdir(action), (config) => {
        config.process.args = ['mkdir', '/made'];
      });
      const result = runtime.run(['run', '--bundle', bundle, nextId()]);
      expect({ action, status: result.status, stderr: result.stderr }).toEqual({ action, status: exitStatus, stderr: output });
    }
  });

  it('accepts every flag the kernel supports', () => {
    const { stdout, status, stderr } = runWith('grep ^Seccomp: /proc/self/status; mkdir /made 2>&1', {
      ...denyMkdir('SCMP_ACT_ERRNO'),
      flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'],
    });
    expect(stderr).toBe('');
    expect(status).toBe(1);
    expect(stdout).toMatch(/^Seccomp:\s+2\n.*Operation not permitted\n$/);
  });
});

describe('exec into a container with a seccomp filter', () => {
  it('runs the process under the same filter, with and without no_new_privs', () => {
    for (const noNewPrivileges of [true, false]) {
      const bundle = bundleFor('', denyMkdir('SCMP_ACT_ERRNO', { errnoRet: 1 }), (config) => {
        config.process.args = ['sleep', '1000'];
        config.process.noNewPrivileges = noNewPrivileges;
      });
      const id = nextId();
      runtime.ok(['run', '--detach', '--bundle', bundle, id]);
      const result = runtime.run(['exec', id, 'sh', '-c', 'grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status; mkdir /made 2>&1']);
      runtime.ok(['delete', '--force', id]);
      expect(result.stdout).toMatch(
        new RegExp(`^NoNewPrivs:\\s+${noNewPrivileges ? 1 : 0}\nSeccomp:\\s+2\nmkdir: can't create directory '/made': Operation not permitted\n$`),
      );
      expect(result.status).toBe(1);
    }
  });
});

describe('a seccomp config the runtime refuses', () => {
  const refusals: Array<[string, Record<string, unknown>, string]> = [
    [
      'an unknown action',
      { defaultAction: 'SCMP_ACT_BOGUS' },
      'invalid config.json: /linux/seccomp/defaultAction: unknown seccomp action SCMP_ACT_BOGUS',
    ],
    [
      'an unknown rule action',
      { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOPE' }] },
      'invalid config.json: /linux/seccomp/syscalls/0/action: unknown seccomp action SCMP_ACT_NOPE',
    ],
    [
      'an unknown architecture',
      { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_VAX'] },
      'invalid config.json: /linux/seccomp/architectures/0: unknown seccomp architecture SCMP_ARCH_VAX',
    ],
    [
      'an architecture this libseccomp lacks',
      { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_LOONGARCH64'] },
      `/linux/seccomp/architectures/1: SCMP_ARCH_LOONGARCH64 is not supported by libseccomp ${addon().seccompVersion()}`,
    ],
    [
      'an unknown operator',
      { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['chmod'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 1, op: 'SCMP_CMP_SOMETIMES' }] }] },
      'invalid config.json: /linux/seccomp/syscalls/0/args/0/op: unknown seccomp operator SCMP_CMP_SOMETIMES',
    ],
    [
      'an argument index past the sixth',
      { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['chmod'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }] },
      'invalid config.json: /linux/seccomp/syscalls/0/args/0/index: must be <= 5, not 6',
    ],
    [
      'an unknown flag',
      { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_FAST'] },
      'invalid config.json: /linux/seccomp/flags/0: unknown seccomp flag SECCOMP_FILTER_FLAG_FAST',
    ],
    [
      'SCMP_ACT_NOTIFY as the default action',
      { defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: '/nonexistent.sock' },
      '/linux/seccomp/defaultAction: SCMP_ACT_NOTIFY cannot be the default action',
    ],
    [
      'SCMP_ACT_NOTIFY for sendmsg',
      { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/nonexistent.sock', syscalls: [{ names: ['sendmsg'], action: 'SCMP_ACT_NOTIFY' }] },
      '/linux/seccomp/syscalls/0: SCMP_ACT_NOTIFY cannot be used for sendmsg: the init process passes the notify fd with it',
    ],
    [
      'SCMP_ACT_NOTIFY without a listener',
      { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] },
      'invalid config.json: /linux/seccomp/listenerPath: SCMP_ACT_NOTIFY needs a listenerPath to send the notify fd to',
    ],
  ];

  it.each(refusals)('refuses %s with a message naming the field, and leaves nothing behind', (_, seccomp, message) => {
    const bundle = bundleFor('true', seccomp);
    const id = nextId();
    const result = runtime.run(['run', '--bundle', bundle, id]);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(`ocits: ${message}\n`);
    expect(runtime.run(['state', id]).status).toBe(1);
  });
});

describe('SCMP_ACT_NOTIFY', () => {
  async function startListener(socketPath: string, connections = 1) {
    const agent = spawn('/usr/bin/python3', [path.join(REPO, 'test', 'helpers', 'seccomp-listener.py'), socketPath, String(connections)]);
    let output = '';
    agent.stdout.on('data', (chunk) => (output += chunk));
    agent.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise<void>((resolve) => agent.on('exit', () => resolve()));
    while (!output.includes('listening\n') && agent.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 10));
    return { agent, exited, lines: () => output.split('\n').slice(1).filter((line) => line !== '') };
  }

  it('sends the notify fd and the container process state to the listener, which answers the syscall', async () => {
    const socketPath = path.join(tempDir('ocits-seccomp-'), 'agent.sock');
    const listener = await startListener(socketPath);
    try {
      const bundle = bundleFor('', {
        defaultAction: 'SCMP_ACT_ALLOW',
        listenerPath: socketPath,
        listenerMetadata: 'MKDIR=refuse',
        flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
      }, (config) => {
        config.process.args = ['mkdir', '/made'];
        config.annotations = { 'test.key': 'value' };
      });
      const id = nextId();
      const result = runtime.run(['run', '--bundle', bundle, id]);
      // The agent's answer is what the container saw. (Checked first: if
      // the agent never got the fd, it would wait for ever.)
      expect(result.stderr).toBe("mkdir: can't create directory '/made': Read-only file system\n");
      expect(result.status).toBe(1);
      await listener.exited;
      const [received, answered] = listener.lines().map((line) => JSON.parse(line));
      expect(received.fdCount).toBe(1);
      expect(received.fdTarget).toBe('anon_inode:seccomp notify');
      expect(received.state).toEqual({
        ociVersion: '1.3.0',
        fds: ['seccompFd'],
        pid: answered.pid,
        metadata: 'MKDIR=refuse',
        state: {
          ociVersion: '1.3.0',
          id,
          status: 'creating',
          pid: answered.pid,
          bundle,
          annotations: { 'test.key': 'value' },
        },
      });
      expect([addon().seccompSyscallNumber('mkdir'), addon().seccompSyscallNumber('mkdirat')]).toContain(answered.nr);
    } finally {
      listener.agent.kill();
    }
  });

  /** A container that sleeps, with mkdir notified to the agent at socketPath. */
  function sleeperNotifying(socketPath: string): string {
    return bundleFor('', {
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath: socketPath,
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
    }, (config) => {
      config.process.args = ['sleep', '1000'];
    });
  }

  it("sends an exec'd process's notify fd too, with its pid and the container's state", async () => {
    const socketPath = path.join(tempDir('ocits-seccomp-'), 'agent.sock');
    const listener = await startListener(socketPath, 2);
    try {
      const bundle = sleeperNotifying(socketPath);
      const id = nextId();
      runtime.ok(['run', '--detach', '--bundle', bundle, id]);
      const initPid = runtime.state(id).pid;
      const result = runtime.run(['exec', id, 'mkdir', '/made']);
      runtime.ok(['delete', '--force', id]);
      expect(result.stderr).toBe("mkdir: can't create directory '/made': Read-only file system\n");
      expect(result.status).toBe(1);
      await listener.exited;
      const [fromCreate, fromExec, answered] = listener.lines().map((line) => JSON.parse(line));
      expect(fromCreate.state.pid).toBe(initPid);
      expect(fromExec.fdTarget).toBe('anon_inode:seccomp notify');
      expect(fromExec.state).toEqual({
        ociVersion: '1.3.0',
        fds: ['seccompFd'],
        pid: answered.pid,
        state: { ociVersion: '1.3.0', id, status: 'running', pid: initPid, bundle, annotations: {} },
      });
      expect(answered.pid).not.toBe(initPid);
    } finally {
      listener.agent.kill();
    }
  });

  it('fails exec, without running its process, when the agent is gone', async () => {
    const socketPath = path.join(tempDir('ocits-seccomp-'), 'agent.sock');
    const listener = await startListener(socketPath);
    const bundle = sleeperNotifying(socketPath);
    const id = nextId();
    try {
      runtime.ok(['run', '--detach', '--bundle', bundle, id]);
    } finally {
      listener.agent.kill();
    }
    await listener.exited;
    const result = runtime.run(['exec', id, 'echo', 'ran']);
    runtime.ok(['delete', '--force', id]);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(new RegExp(`^ocits: /linux/seccomp/listenerPath: cannot connect to ${socketPath}: .*\n$`));
    expect(result.status).toBe(1);
  });

  it('fails create with the listener path when nobody listens, and leaves nothing behind', () => {
    const socketPath = path.join(tempDir('ocits-seccomp-'), 'nobody.sock');
    const bundle = bundleFor('true', {
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath: socketPath,
      syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }],
    });
    const id = nextId();
    const result = runtime.run(['create', '--bundle', bundle, id]);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      `ocits: /linux/seccomp/listenerPath: cannot connect to ${socketPath}: connect ${socketPath}: No such file or directory\n`,
    );
    expect(runtime.run(['state', id]).status).toBe(1);
  });
});

describe('ocits features', () => {
  it('lists the seccomp actions, operators, architectures and flags that work', () => {
    const seccomp = JSON.parse(ocits(['features']).stdout).linux.seccomp;
    expect(seccomp.enabled).toBe(true);
    expect(seccomp.actions).toEqual([
      'SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD',
      'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY', 'SCMP_ACT_TRACE', 'SCMP_ACT_TRAP',
    ]);
    expect(seccomp.operators).toEqual([
      'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_LE', 'SCMP_CMP_LT', 'SCMP_CMP_MASKED_EQ', 'SCMP_CMP_NE',
    ]);
    expect(seccomp.archs).toEqual(expect.arrayContaining(['SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64']));
    expect(seccomp.archs).not.toContain('SCMP_ARCH_LOONGARCH64');
    expect(seccomp.knownFlags).toEqual([
      'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_TSYNC',
      'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
    ]);
    // This kernel (5.19 or later) has them all.
    expect(seccomp.supportedFlags).toEqual(seccomp.knownFlags);
  });
});
