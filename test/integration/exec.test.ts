// `exec` into real busybox containers: namespaces, cgroup, process settings,
// exit statuses, detaching, fds, terminals and the states that refuse it.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from '../../src/cli/command';
import { execCommand } from '../../src/cli/commands/exec';
import { GLOBAL_FLAGS } from '../../src/cli/global-args';
import { parseCommandLine } from '../../src/cli/parse-args';
import { CAPABILITIES } from '../../src/spec/names';
import { OCITS } from '../helpers/cli';
import { Runtime, busyboxBundle, isAlive } from '../helpers/busybox';
import { listenForConsole } from '../helpers/console-socket';
import { tempDir } from '../helpers/tmp';

const runtime = new Runtime();
// Pids of detached exec'd processes, killed even when a test fails.
const strays = new Set<number>();
// Freezer files a test froze, thawed even when a test fails: a frozen
// container cannot be killed.
const frozen = new Set<string>();
afterAll(() => {
  for (const file of frozen) fs.writeFileSync(file, file.endsWith('freezer.state') ? 'THAWED' : '0');
  for (const pid of strays) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  runtime.cleanUp();
});

let counter = 0;
const nextId = (): string => `c${process.pid}-${++counter}`;

// The default config's process, which exec falls back to.
const CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

/** A running container whose process sleeps; returns its id and host pid. */
function startSleeper(change: (config: Record<string, any>) => void = () => {}): { id: string; pid: number; bundle: string } {
  const bundle = busyboxBundle((config) => {
    config.process.args = ['sleep', '1000'];
    change(config);
  });
  const id = nextId();
  runtime.ok(['run', '--detach', '--bundle', bundle, id]);
  return { id, pid: runtime.state(id).pid, bundle };
}

function capabilityMask(names: string[]): string {
  let mask = 0n;
  for (const name of names) mask |= 1n << BigInt(CAPABILITIES.get(name)!);
  return mask.toString(16).padStart(16, '0');
}

/** Fields of /proc/self/status as the exec'd process sees them. */
function statusFields(output: string): Record<string, string> {
  return Object.fromEntries(output.trim().split('\n').map((line) => line.split(/:\s+/) as [string, string]));
}

function writeJson(value: unknown): string {
  const file = path.join(tempDir('ocits-process-'), 'process.json');
  fs.writeFileSync(file, JSON.stringify(value));
  return file;
}

/** The file that freezes the cgroup of pid: v1 freezer, else cgroup v2. */
function freezerOf(pid: number): { file: string; frozen: string } {
  const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  const v1 = lines.find((line) => line.split(':')[1] === 'freezer');
  if (v1 !== undefined) return { file: `/sys/fs/cgroup/freezer${v1.split(':')[2]}/freezer.state`, frozen: 'FROZEN' };
  const v2 = lines.find((line) => line.startsWith('0::'))!.slice(3);
  const root = fs.existsSync('/sys/fs/cgroup/unified') ? '/sys/fs/cgroup/unified' : '/sys/fs/cgroup';
  return { file: `${root}${v2}/cgroup.freeze`, frozen: '1' };
}

let sleeper: { id: string; pid: number; bundle: string };
beforeAll(() => {
  sleeper = startSleeper((config) => {
    config.process.capabilities = { bounding: CAPS, effective: CAPS, permitted: CAPS };
    config.process.noNewPrivileges = true;
    config.process.oomScoreAdj = 123;
  });
});

describe('the exec process', () => {
  it("is in the container's pid namespace, with a pid above 1 that ps inside shows", () => {
    const result = runtime.run(['exec', sleeper.id, 'sh', '-c', 'echo $$; ps -o pid,args']);
    expect(result.status).toBe(0);
    const [ownPid, ...ps] = result.stdout.trim().split('\n');
    expect(Number(ownPid)).toBeGreaterThan(1);
    const listed = ps.slice(1).map((line) => line.trim().split(/\s+/));
    expect(listed).toContainEqual(['1', 'sleep', '1000']);
    expect(listed.map(([pid]) => pid)).toContain(ownPid);
  });

  it("joins every namespace of the container and its cgroup", () => {
    const types = ['pid', 'mnt', 'uts', 'ipc', 'net', 'cgroup'];
    const script = `for n in ${types.join(' ')}; do readlink /proc/self/ns/$n; done; cat /proc/self/cgroup`;
    const result = runtime.run(['exec', sleeper.id, 'sh', '-c', script]);
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines.slice(0, types.length)).toEqual(types.map((type) => fs.readlinkSync(`/proc/${sleeper.pid}/ns/${type}`)));
    expect(lines.slice(types.length).join('\n')).toBe(fs.readFileSync(`/proc/${sleeper.pid}/cgroup`, 'utf8').trim());
  });

  it('sees its cgroup as / in a container with its own cgroup namespace', () => {
    const own = startSleeper((config) => {
      config.linux.namespaces.push({ type: 'cgroup' });
    });
    const result = runtime.run(['exec', own.id, 'sh', '-c', 'readlink /proc/self/ns/cgroup; cat /proc/self/cgroup']);
    expect(result.status).toBe(0);
    const [namespace, ...cgroups] = result.stdout.trim().split('\n');
    expect(namespace).toBe(fs.readlinkSync(`/proc/${own.pid}/ns/cgroup`));
    for (const line of cgroups) expect(line).toMatch(/:\/$/);
    runtime.ok(['delete', '--force', own.id]);
  });

  it("gets the capabilities, no_new_privs and seccomp of the container's process spec", () => {
    const result = runtime.run(['exec', sleeper.id, 'grep', '-E', '^(CapEff|CapPrm|CapBnd|NoNewPrivs|Seccomp):', '/proc/self/status']);
    expect(result.status).toBe(0);
    expect(statusFields(result.stdout)).toEqual({
      CapEff: capabilityMask(CAPS),
      CapPrm: capabilityMask(CAPS),
      CapBnd: capabilityMask(CAPS),
      NoNewPrivs: '1',
      Seccomp: '0', // the spec asks for none
    });
  });

  it('gets those of a --process file instead, and --cap and --no-new-privs on top of the flags', () => {
    const processFile = writeJson({
      args: ['grep', '-E', '^(CapEff|CapBnd|NoNewPrivs):', '/proc/self/status'],
      cwd: '/',
      env: ['PATH=/bin'],
      capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] },
      noNewPrivileges: false,
    });
    const fromFile = runtime.run(['exec', '--process', processFile, sleeper.id]);
    expect(fromFile.stderr).toBe('');
    expect(statusFields(fromFile.stdout)).toEqual({ CapEff: capabilityMask(['CAP_KILL']), CapBnd: capabilityMask(['CAP_KILL']), NoNewPrivs: '0' });

    const flags = runtime.run(['exec', '--cap', 'CAP_CHOWN', '--no-new-privs=false', sleeper.id, 'grep', '-E', '^(CapEff|NoNewPrivs):', '/proc/self/status']);
    expect(statusFields(flags.stdout)).toEqual({ CapEff: capabilityMask([...CAPS, 'CAP_CHOWN']), NoNewPrivs: '0' });
  });

  it('runs as --user and --additional-gids in --cwd, with --env added to the environment', () => {
    const result = runtime.run(['exec', '-u', '1000:100', '-g', '5', '-g', '6', '-e', 'GREETING=hi there', '--cwd', '/bin', sleeper.id, 'sh', '-c', 'id; pwd; echo $GREETING; echo $PATH']);
    expect(result.status).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual([
      'uid=1000 gid=100 groups=5,6',
      '/bin',
      'hi there',
      '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', // the container's
    ]);
  });

  it('enters a --cwd the runtime may search but the --user may not, as runc does (chdir before the user switch)', () => {
    const dir = path.join(sleeper.bundle, 'rootfs', 'private');
    fs.mkdirSync(dir, { mode: 0o700 });
    const result = runtime.run(['exec', '-u', '1000', '--cwd', '/private', sleeper.id, 'sh', '-c', 'pwd; ls . || echo cannot list']);
    expect(result.stderr).toBe('ls: .: Permission denied\n');
    expect(result.stdout).toBe('/private\ncannot list\n');
    expect(result.status).toBe(0);
  });

  it("gets the container's oom_score_adj, or its --process file's", () => {
    expect(runtime.run(['exec', sleeper.id, 'cat', '/proc/self/oom_score_adj']).stdout).toBe('123\n');
    const processFile = writeJson({ args: ['cat', '/proc/self/oom_score_adj'], cwd: '/', env: ['PATH=/bin'], oomScoreAdj: 456 });
    expect(runtime.run(['exec', '--process', processFile, sleeper.id]).stdout).toBe('456\n');
  });

  it("passes the command's own flags through: options end at the container id", () => {
    const result = runtime.run(['exec', sleeper.id, 'sh', '-c', 'echo -t -d -e']);
    expect(result.stdout).toBe('-t -d -e\n');
    expect(runtime.run(['exec', sleeper.id, '--', 'echo', '-e', 'x']).stdout).toBe('x\n');
  });
});

describe('exit statuses', () => {
  it.each([
    ['exit 0', 0],
    ['exit 7', 7],
    ['kill -TERM $$', 128 + 15],
    ['kill -KILL $$', 128 + 9],
  ])('%s gives %d', (script, status) => {
    expect(runtime.run(['exec', sleeper.id, 'sh', '-c', script]).status).toBe(status);
  });
});

describe('in the foreground', () => {
  it('forwards the signals ocits gets to the process', async () => {
    const script = 'trap "exit 42" TERM; echo ready; while true; do sleep 0.1; done';
    const child = spawn(OCITS, ['--root', runtime.root, 'exec', sleeper.id, 'sh', '-c', script]);
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    while (!output.includes('ready')) await new Promise((resolve) => setTimeout(resolve, 10));
    child.kill('SIGTERM');
    expect(await exited).toBe(42);
  });
});

describe('--detach', () => {
  it('returns at once, as engines call it, with the host pid in --pid-file', () => {
    const pidFile = path.join(tempDir('ocits-pid-'), 'exec.pid');
    const processFile = writeJson({ args: ['sleep', '100'], cwd: '/', env: ['PATH=/bin'], user: { uid: 0, gid: 0 } });
    // spawnSync returning while `sleep 100` runs is what shows exec did not wait.
    const result = runtime.run(['exec', '--process', processFile, '--detach', '--pid-file', pidFile, sleeper.id]);
    expect(result).toEqual({ status: 0, stdout: '', stderr: '' });
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    strays.add(pid);
    expect(isAlive(pid)).toBe(true);
    expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toBe('sleep\x00100\x00');
    // Host pid first, then its pid in the container's namespace.
    const nspid = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^NSpid:\s+(\d+)\s+(\d+)$/m);
    expect(Number(nspid![1])).toBe(pid);
    expect(Number(nspid![2])).toBeGreaterThan(1);
    process.kill(pid, 'SIGKILL');
  });

  it('with the flag form too', () => {
    const pidFile = path.join(tempDir('ocits-pid-'), 'exec.pid');
    const result = runtime.run(['exec', '-d', '--pid-file', pidFile, sleeper.id, 'sleep', '100']);
    expect(result.status).toBe(0);
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    strays.add(pid);
    expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toBe('sleep\x00100\x00');
    process.kill(pid, 'SIGKILL');
  });
});

describe('file descriptors', () => {
  /** Runs exec with fd 3 open on a marker file; returns the targets of the process's fds. */
  function fdTargets(extra: string[]): string[] {
    const marker = path.join(tempDir('ocits-fd-'), 'marker');
    fs.writeFileSync(marker, 'x');
    const fd = fs.openSync(marker, 'r');
    try {
      const result = spawnSync(OCITS, ['--root', runtime.root, 'exec', ...extra, sleeper.id, 'sh', '-c', 'for f in /proc/$$/fd/*; do readlink $f; done'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe', fd],
      });
      expect(result.stderr).toBe('');
      return result.stdout.trim().split('\n').map((target) => (target === marker ? 'MARKER' : target));
    } finally {
      fs.closeSync(fd);
    }
  }

  it("does not pass the caller's other fds to the process", () => {
    const targets = fdTargets([]);
    expect(targets).not.toContain('MARKER');
    expect(targets).toHaveLength(3);
  });

  it('passes fds 3 and up with --preserve-fds', () => {
    expect(fdTargets(['--preserve-fds', '1'])).toContain('MARKER');
  });
});

describe('terminals', () => {
  it('sends the pty master to --console-socket with --tty --detach', async () => {
    const console = await listenForConsole();
    runtime.ok(['exec', '--tty', '--detach', '--console-socket', console.socketPath, sleeper.id, 'sh', '-c', 'tty; echo hi']);
    expect(await console.output()).toMatch(/^\/dev\/ptmx\n\/dev\/pts\/\d+\nhi\n/);
  });

  it('relays the terminal of a foreground exec to its own stdio', () => {
    const result = runtime.run(['exec', '-t', sleeper.id, 'sh', '-c', 'tty; exit 4']);
    expect(result.stdout).toMatch(/^\/dev\/pts\/\d+\n$/);
    expect(result.status).toBe(4);
  });

  it('refuses a detached terminal without a console socket, and a console socket without one', () => {
    expect(runtime.run(['exec', '-t', '-d', sleeper.id, 'true']).stderr).toBe(
      'ocits: cannot allocate tty if ocits will detach without setting console socket\n',
    );
    expect(runtime.run(['exec', '--console-socket', '/nonexistent', sleeper.id, 'true']).stderr).toBe(
      'ocits: cannot use console socket if ocits will not detach or allocate tty\n',
    );
  });
});

describe('refusals', () => {
  it('refuses an unknown container, a stopped one and a paused one, as runc does', () => {
    const unknown = runtime.run(['exec', 'no-such-container', 'true']);
    expect(unknown).toEqual({ status: 1, stdout: '', stderr: 'ocits: container no-such-container does not exist\n' });

    const paused = startSleeper();
    const freezer = freezerOf(paused.pid);
    frozen.add(freezer.file);
    fs.writeFileSync(freezer.file, freezer.frozen);
    const refused = runtime.run(['exec', paused.id, 'true']);
    fs.writeFileSync(freezer.file, freezer.file.endsWith('freezer.state') ? 'THAWED' : '0');
    frozen.delete(freezer.file);
    expect(refused).toEqual({ status: 1, stdout: '', stderr: 'ocits: cannot exec in a paused container (use --ignore-paused to override)\n' });

    runtime.ok(['kill', paused.id, 'KILL']);
    while (runtime.state(paused.id).status !== 'stopped') spawnSync('sleep', ['0.01']);
    const stopped = runtime.run(['exec', paused.id, 'true']);
    expect(stopped).toEqual({ status: 1, stdout: '', stderr: 'ocits: cannot exec in a stopped container\n' });
    runtime.ok(['delete', paused.id]);
  });

  it('refuses a created container that has not been started', () => {
    const bundle = busyboxBundle((config) => {
      config.process.args = ['sleep', '1000'];
    });
    const id = nextId();
    runtime.ok(['create', '--bundle', bundle, id]);
    const result = runtime.run(['exec', id, 'true']);
    expect(result).toEqual({ status: 1, stdout: '', stderr: 'ocits: cannot exec in a created container: start it first\n' });
    runtime.ok(['delete', '--force', id]);
  });

  it('refuses a missing command, a bad process file, and LSM labels, naming the problem', () => {
    const cases: Array<[string[], string]> = [
      [['exec', sleeper.id], 'process args cannot be empty'],
      [['exec', '--process', '/nonexistent.json', sleeper.id], '--process /nonexistent.json: no such file'],
      [['exec', '--process', writeJson({ args: ['true'], cwd: 'relative' }), sleeper.id], '/cwd: must be an absolute path, not "relative"'],
      [['exec', '--process', writeJson({ args: [], cwd: '/' }), sleeper.id], '/args: must have at least 1 entry'],
      [['exec', '--user', 'root', sleeper.id, 'true'], '--user uid: "root" is not a number'],
      // This host has neither module (test/integration/lsm.test.ts covers the refusals).
      [['exec', '--apparmor', 'profile', sleeper.id, 'true'], '--apparmor: AppArmor is not enabled on this host'],
      [['exec', '--process-label', 'label', sleeper.id, 'true'], '--process-label: SELinux is not enabled on this host'],
      [['exec', sleeper.id, 'no-such-program'], 'exec: "no-such-program": executable file not found in $PATH'],
      [['exec', '--cwd', '/no/such/dir', sleeper.id, 'true'], 'chdir: /no/such/dir: no such file or directory'],
    ];
    for (const [args, message] of cases) {
      const result = runtime.run(args);
      expect({ args, status: result.status, stderr: result.stderr }).toEqual({ args, status: 1, stderr: expect.stringContaining(message) });
      expect(result.stderr.split('\n')).toHaveLength(2); // one line
    }
  });
});

describe('the command line', () => {
  it.each([
    [['exec', 'id', 'sh', '-c', 'x'], ['id', 'sh', '-c', 'x']],
    [['--root', '/r', 'exec', '-u', '1', '--tty', '-e', 'A=b', 'id', 'ls', '-l'], ['id', 'ls', '-l']],
    [['exec', '--cwd=/x', 'id', 'ls', '--cwd'], ['id', 'ls', '--cwd']],
    [['exec', 'id', '--', 'ls'], ['id', '--', 'ls']],
    [['exec', '-p', 'p.json', 'id'], ['id']],
  ])('ends the flags of %j at the container id', (argv, args) => {
    expect(parseCommandLine(argv, GLOBAL_FLAGS, [execCommand as unknown as Command])).toMatchObject({ kind: 'command', args });
  });
});
