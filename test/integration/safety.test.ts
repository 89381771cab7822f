// DESIGN.md's rules of safety, each observed with a real container: mount
// destinations resolve inside the rootfs even through symlinks that point at
// host paths; the init is not dumpable until execve; no fd of the caller's
// reaches the container unless --preserve-fds (or LISTEN_FDS) passes it.
import { spawnSync } from 'node:child_process';
import * as fs from 'fs-extra';
import * as path from 'node:path';
import { OCITS } from '../helpers/cli';
import { Runtime, busyboxBundle } from '../helpers/busybox';
import { tempDir } from '../helpers/tmp';

const runtime = new Runtime();
afterAll(() => runtime.cleanUp());

let counter = 0;
const nextId = (): string => `c${process.pid}-${++counter}`;

function hostMountsUnder(dir: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => line.split(' ')[4]?.startsWith(dir));
}

describe('proc and sysfs on a symlink in the rootfs', () => {
  it.each([
    ['/proc', 0, 'proc'],
    ['/sys', 5, 'sys'],
  ])('%s as a symlink is refused, as runc refuses it, and nothing is made where it leads', (destination, index, name) => {
    const bundle = busyboxBundle();
    const rootfs = path.join(bundle, 'rootfs');
    fs.symlinkSync('elsewhere', path.join(rootfs, name));
    const result = runtime.run(['run', '--bundle', bundle, nextId()]);
    expect(result.stderr).toBe(
      `ocits: container init failed: mount target /mounts/${index} (${destination}): must be an ordinary directory, not reached through a symlink\n`,
    );
    expect(result.status).toBe(1);
    expect(fs.existsSync(path.join(rootfs, 'elsewhere'))).toBe(false);
  });
});

describe('a mount destination that is a symlink to a host path', () => {
  // A host directory the symlinks name; it must stay exactly as it is.
  const host = tempDir('ocits-host-');
  fs.writeFileSync(path.join(host, 'marker'), 'host\n');
  const source = tempDir('ocits-source-');
  fs.writeFileSync(path.join(source, 'file'), 'from the bind source\n');

  it.each([
    ['an absolute symlink', (rootfs: string) => fs.symlinkSync(host, path.join(rootfs, 'mnt'))],
    ['a relative symlink climbing with ../', (rootfs: string) => fs.symlinkSync(`../../../../../../..${host}`, path.join(rootfs, 'mnt'))],
    ['a symlinked parent directory', (rootfs: string) => {
      fs.symlinkSync(path.dirname(host), path.join(rootfs, 'mnt-parent'));
      fs.symlinkSync(`mnt-parent/${path.basename(host)}`, path.join(rootfs, 'mnt'));
    }],
  ])('resolves %s inside the rootfs; the host is untouched', (_, makeLink) => {
    const bundle = busyboxBundle((config) => {
      config.process.args = ['sh', '-c', 'echo inside > /mnt/tmpfs/written; cat /mnt/bind/file; ls /mnt'];
      config.mounts.push(
        { destination: '/mnt/tmpfs', type: 'tmpfs', source: 'tmpfs', options: ['nosuid'] },
        { destination: '/mnt/bind', type: 'bind', source, options: ['rbind'] },
      );
    });
    makeLink(path.join(bundle, 'rootfs'));
    const { stdout, stderr, status } = runtime.run(['run', '--bundle', bundle, nextId()]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toBe('from the bind source\nbind\ntmpfs\n');
    // The directories were made under the rootfs, where the link leads when
    // the rootfs is the root.
    expect(fs.existsSync(path.join(bundle, 'rootfs', host.slice(1), 'tmpfs'))).toBe(true);
    expect(fs.readdirSync(host)).toEqual(['marker']);
    expect(fs.readFileSync(path.join(host, 'marker'), 'utf8')).toBe('host\n');
    expect(hostMountsUnder(host)).toEqual([]);
  });

  it('resolves a file bind\'s destination that is a dangling symlink to a host file inside the rootfs', () => {
    const hostFile = path.join(host, 'marker');
    const bundle = busyboxBundle((config) => {
      config.process.args = ['cat', '/etc/linked'];
      config.mounts.push({ destination: '/etc/linked', type: 'bind', source: path.join(source, 'file'), options: ['bind'] });
    });
    fs.mkdirSync(path.join(bundle, 'rootfs', 'etc'));
    fs.symlinkSync(hostFile, path.join(bundle, 'rootfs', 'etc', 'linked'));
    const { stdout, stderr, status } = runtime.run(['run', '--bundle', bundle, nextId()]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toBe('from the bind source\n');
    expect(fs.statSync(path.join(bundle, 'rootfs', hostFile.slice(1))).isFile()).toBe(true);
    expect(fs.readFileSync(hostFile, 'utf8')).toBe('host\n');
    expect(hostMountsUnder(host)).toEqual([]);
  });
});

describe('PR_SET_DUMPABLE', () => {
  // The files in /proc/PID of a process that is not dumpable belong to root
  // whatever its uid, and another process of the same uid cannot read its
  // memory or environment.
  const ownerOf = (pid: number): number => fs.statSync(`/proc/${pid}/fd`).uid;
  const readEnvironAs1000 = (pid: number) =>
    spawnSync('setpriv', ['--reuid', '1000', '--regid', '1000', '--clear-groups', 'cat', `/proc/${pid}/environ`], { encoding: 'utf8' });

  it('is 0 while the init waits in created state, and the process is dumpable after execve', () => {
    const bundle = busyboxBundle((config) => {
      config.process.args = ['sleep', '60'];
      config.process.user = { uid: 1000, gid: 1000 };
      config.process.env.push('SECRET_MARKER=x');
      // Without capabilities only dumpability keeps a same-uid reader out
      // (ptrace access also wants the reader to hold the target's capabilities).
      config.process.capabilities = { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] };
    });
    const id = nextId();
    runtime.ok(['create', '--bundle', bundle, id]);
    const pid = runtime.state(id).pid as number;
    expect(fs.readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(/^Uid:\s+1000\s/m);
    expect(ownerOf(pid)).toBe(0);
    const before = readEnvironAs1000(pid);
    expect(before.status).not.toBe(0);
    expect(before.stderr).toContain('Permission denied');

    runtime.ok(['start', id]);
    expect(ownerOf(pid)).toBe(1000);
    const after = readEnvironAs1000(pid);
    expect(after.status).toBe(0);
    expect(after.stdout).toContain('SECRET_MARKER=x');
    runtime.ok(['kill', id, 'KILL']);
  });
});

describe('file descriptors', () => {
  const file = path.join(tempDir('ocits-fds-'), 'data');
  fs.writeFileSync(file, 'passed\n');
  // The shell (pid 1) looks at its own fds with builtins only: a pipeline or
  // a redirection would open fds of its own while ls looked.
  const fdsOfInit = 'i=0; while [ $i -lt 64 ]; do [ -e /proc/1/fd/$i ] && echo -n "$i "; i=$((i+1)); done; true';

  function runWithFds(extraArgs: string[], script: string, count: number) {
    const bundle = busyboxBundle((config) => {
      config.process.args = ['sh', '-c', script];
    });
    const fds = Array.from({ length: count }, () => fs.openSync(file, 'r'));
    try {
      return runtime.run(['run', ...extraArgs, '--bundle', bundle, nextId()], { stdio: ['pipe', 'pipe', 'pipe', ...fds] });
    } finally {
      for (const fd of fds) fs.closeSync(fd);
    }
  }

  it('closes every fd the caller opened but 0-2', () => {
    const { stdout, stderr, status } = runWithFds([], fdsOfInit, 3);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toBe('0 1 2 ');
  });

  it('passes fds 3 .. 3+N-1 with --preserve-fds N and closes the rest', () => {
    const { stdout, stderr, status } = runWithFds(['--preserve-fds', '2'], `${fdsOfInit}; cat <&3; cat <&4`, 3);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toBe('0 1 2 3 4 passed\npassed\n');
  });

  it('passes systemd socket-activation fds with LISTEN_FDS and LISTEN_PID=1, then the preserved ones', () => {
    const bundle = busyboxBundle((config) => {
      config.process.args = ['sh', '-c', `${fdsOfInit}; echo "$LISTEN_FDS $LISTEN_PID"; cat <&3`];
    });
    const fds = [fs.openSync(file, 'r'), fs.openSync(file, 'r'), fs.openSync(file, 'r')];
    try {
      // LISTEN_PID must be ocits's own pid: the shell execs it in its place.
      const result = spawnSync(
        'sh',
        ['-c', 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@"', OCITS, '--root', runtime.root, 'run', '--preserve-fds', '1', '--bundle', bundle, nextId()],
        { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe', ...fds] },
      );
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(result.stdout).toBe('0 1 2 3 4 1 1\npassed\n');
    } finally {
      for (const fd of fds) fs.closeSync(fd);
    }
  });

  it('ignores LISTEN_FDS meant for another process', () => {
    const bundle = busyboxBundle((config) => {
      config.process.args = ['sh', '-c', `${fdsOfInit}; echo "[$LISTEN_FDS]"`];
    });
    const fd = fs.openSync(file, 'r');
    try {
      const result = spawnSync(OCITS, ['--root', runtime.root, 'run', '--bundle', bundle, nextId()], {
        encoding: 'utf8',
        stdio: ['pipe', 'pipe', 'pipe', fd],
        env: { ...process.env, LISTEN_FDS: '1', LISTEN_PID: '1' },
      });
      expect(result.stderr).toBe('');
      expect(result.stdout).toBe('0 1 2 []\n');
    } finally {
      fs.closeSync(fd);
    }
  });

  it('refuses --preserve-fds that is not a count', () => {
    const bundle = busyboxBundle();
    const id = nextId();
    const { stderr, status } = runtime.run(['create', '--preserve-fds', '-1', '--bundle', bundle, id]);
    expect(status).toBe(1);
    expect(stderr).toMatch(/--preserve-fds/);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(runtime.run(['state', id]).status).toBe(1);
  });
});
