// What a container sees from inside, and what the host sees from outside,
// with real containers on a busybox rootfs.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OCITS } from '../helpers/cli';
import { Runtime, busyboxBundle, isAlive } from '../helpers/busybox';
import { listenForConsole } from '../helpers/console-socket';
import { tempDir } from '../helpers/tmp';

const runtime = new Runtime();
afterAll(() => runtime.cleanUp());

let counter = 0;
const nextId = (): string => `c${process.pid}-${++counter}`;

/** Runs a shell script as the container's process; returns stdout and the exit status. */
function runScript(
  script: string,
  change: (config: Record<string, any>) => void = () => {},
  extra: string[] = [],
  prepareRootfs: (rootfs: string) => void = () => {},
) {
  const bundle = busyboxBundle((config) => {
    config.process.args = ['sh', '-c', script];
    change(config);
  });
  prepareRootfs(path.join(bundle, 'rootfs'));
  const id = nextId();
  const result = runtime.run(['run', ...extra, '--bundle', bundle, id]);
  return { ...result, id, bundle };
}

function hostNamespace(type: string): string {
  return fs.readlinkSync(`/proc/self/ns/${type}`);
}

function memoryCgroupOfOurs(): string {
  const line = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => /:memory:/.test(l));
  return line!.split(':')[2];
}

describe('inside the container', () => {
  it('has new pid, mount, uts, ipc and network namespaces, and the host cgroup namespace by default', () => {
    const { stdout, status } = runScript('for n in pid mnt uts ipc net cgroup; do echo $n $(readlink /proc/1/ns/$n); done');
    expect(status).toBe(0);
    const inside = new Map(stdout.trim().split('\n').map((line) => line.split(' ') as [string, string]));
    for (const type of ['pid', 'mnt', 'uts', 'ipc', 'net']) expect(inside.get(type)).not.toBe(hostNamespace(type));
    expect(inside.get('cgroup')).toBe(hostNamespace('cgroup'));
  });

  it('gets a new cgroup namespace when asked, rooted at its own cgroup', () => {
    const { stdout, status } = runScript('readlink /proc/1/ns/cgroup; cat /proc/1/cgroup', (config) => {
      config.linux.namespaces.push({ type: 'cgroup' });
    });
    expect(status).toBe(0);
    const [namespace, ...cgroups] = stdout.trim().split('\n');
    expect(namespace).not.toBe(hostNamespace('cgroup'));
    for (const line of cgroups) expect(line).toMatch(/:\/$/);
  });

  it('is pid 1 and runs as the configured user, groups and umask, in a cwd made for it', () => {
    const { stdout, status } = runScript('echo $$; id; umask; pwd', (config) => {
      config.process.user = { uid: 1234, gid: 567, additionalGids: [20, 30], umask: 0o027 };
      config.process.cwd = '/made/for/me';
    });
    expect(status).toBe(0);
    expect(stdout.trim().split('\n')).toEqual(['1', 'uid=1234 gid=567 groups=20,30', '0027', '/made/for/me']);
  });

  it('has the hostname, domainname and environment of the config', () => {
    const { stdout } = runScript('hostname; cat /proc/sys/kernel/domainname; echo $GREETING', (config) => {
      config.hostname = 'box1';
      config.domainname = 'example.org';
      config.process.env.push('GREETING=hello there');
    });
    expect(stdout.trim().split('\n')).toEqual(['box1', 'example.org', 'hello there']);
  });

  it.each([[undefined], ['private'], ['rprivate'], ['slave'], ['rslave'], ['shared'], ['rshared']])(
    'mounts what runc mounts, with the same options and propagation (rootfsPropagation %s)',
    (rootfsPropagation) => {
      const script = 'cat /proc/self/mountinfo';
      const propagation = (config: Record<string, any>) => {
        if (rootfsPropagation !== undefined) config.linux.rootfsPropagation = rootfsPropagation;
      };
      const ours = runScript(script, propagation);
      expect(ours.status).toBe(0);
      const bundle = busyboxBundle((config) => {
        config.ociVersion = '1.0.2'; // runc 1.1 knows this version
        config.process.args = ['sh', '-c', script];
        propagation(config);
      });
      const runcRoot = tempDir('runc-root-');
      const runc = spawnSync('runc', ['--root', runcRoot, 'run', '--bundle', bundle, ours.id], { encoding: 'utf8' });
      expect(runc.status).toBe(0);
      // Mount ids, peer group numbers, device numbers and the rootfs's host path differ by nature.
      const normalise = (mountinfo: string): string[] =>
        mountinfo.trim().split('\n').map((line) => {
          const fields = line.split(' ');
          const root = fields[3].replace(/^\/tmp\/[^/]+\/rootfs$/, '<rootfs>');
          const optional = fields.slice(6, fields.indexOf('-')).map((tag) => tag.replace(/:\d+$/, ''));
          return [root, fields[4], fields[5], ...optional, ...fields.slice(fields.indexOf('-'))].join(' ');
        }).sort();
      expect(normalise(ours.stdout)).toEqual(normalise(runc.stdout));
    },
  );

  it.each([['unbindable'], ['runbindable']])('refuses rootfsPropagation %s as runc does: the rootfs cannot be bound', (rootfsPropagation) => {
    const result = runScript('true', (config) => {
      config.linux.rootfsPropagation = rootfsPropagation;
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^ocits: container init failed: rootfs: \/.*\/rootfs: invalid argument\n$/);
  });

  it('fills a tmpfs with tmpcopyup from the directory it covers, which stays untouched', () => {
    const script = 'cat /seed/a /seed/sub/b; readlink /seed/link; stat -c %a /seed; echo changed > /seed/a; cat /seed/a; ' +
      'grep -c " /seed .* - tmpfs " /proc/self/mountinfo; touch /frozen/x 2>&1; cat /frozen/a';
    const result = runScript(script, (config) => {
      config.root.readonly = false;
      config.mounts.push(
        { destination: '/seed', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'nosuid'] },
        { destination: '/frozen', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'ro'] },
      );
    }, [], (rootfs) => {
      fs.mkdirSync(path.join(rootfs, 'seed', 'sub'), { recursive: true });
      fs.chmodSync(path.join(rootfs, 'seed'), 0o750);
      fs.writeFileSync(path.join(rootfs, 'seed', 'a'), 'from the image\n');
      fs.writeFileSync(path.join(rootfs, 'seed', 'sub', 'b'), 'below\n');
      fs.symlinkSync('a', path.join(rootfs, 'seed', 'link'));
      fs.mkdirSync(path.join(rootfs, 'frozen'));
      fs.writeFileSync(path.join(rootfs, 'frozen', 'a'), 'read-only copy\n');
    });
    expect(result.stdout.split('\n')).toEqual([
      'from the image', 'below', 'a', '750', 'changed', '1',
      "touch: /frozen/x: Read-only file system", 'read-only copy', '',
    ]);
    expect(fs.readFileSync(path.join(result.bundle, 'rootfs', 'seed', 'a'), 'utf8')).toBe('from the image\n');
  });

  it('refuses tmpcopyup on anything but a tmpfs', () => {
    const result = runScript('true', (config) => {
      config.mounts.push({ destination: '/data', type: 'bind', source: '/tmp', options: ['rbind', 'tmpcopyup'] });
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^ocits: \/mounts\/\d+\/options: tmpcopyup applies only to a tmpfs mount\n$/);
  });

  it('creates runc\'s default devices and links, and the config\'s devices', () => {
    const { stdout, status } = runScript(
      'for f in null zero full random urandom tty mynull; do stat -c "%n %t:%T %a %F" /dev/$f; done; for l in ptmx fd stdin stdout stderr; do readlink /dev/$l; done; echo x > /dev/mynull',
      (config) => {
        config.linux.devices = [{ path: '/dev/mynull', type: 'c', major: 1, minor: 3, fileMode: 0o620 }];
      },
    );
    expect(status).toBe(0);
    expect(stdout.trim().split('\n')).toEqual([
      '/dev/null 1:3 666 character special file',
      '/dev/zero 1:5 666 character special file',
      '/dev/full 1:7 666 character special file',
      '/dev/random 1:8 666 character special file',
      '/dev/urandom 1:9 666 character special file',
      '/dev/tty 5:0 666 character special file',
      '/dev/mynull 1:3 620 character special file',
      'pts/ptmx', '/proc/self/fd', '/proc/self/fd/0', '/proc/self/fd/1', '/proc/self/fd/2',
    ]);
  });

  it('bind-mounts host directories, read-only when asked, creating the destination', () => {
    const shared = tempDir('ocits-shared-');
    fs.writeFileSync(path.join(shared, 'file'), 'from the host\n');
    const { stdout, status } = runScript('cat /data/file; cat /one/file; touch /data/new 2>&1 && echo wrote; true', (config) => {
      config.mounts.push({ destination: '/data', type: 'bind', source: shared, options: ['rbind', 'ro'] });
      config.mounts.push({ destination: '/one/file', type: 'bind', source: path.join(shared, 'file'), options: ['bind'] });
    });
    expect(status).toBe(0);
    expect(stdout).toMatch(/^from the host\nfrom the host\n.*Read-only file system/s);
    expect(stdout).not.toContain('wrote');
  });

  it('keeps a read-only root read-only', () => {
    const { stdout } = runScript('touch /x 2>&1; echo done', (config) => {
      config.root.readonly = true;
    });
    expect(stdout).toContain('Read-only file system');
  });

  it('works with --no-pivot (MS_MOVE and chroot)', () => {
    const result = runScript('ls /bin/busybox; readlink /proc/1/ns/mnt', () => {}, ['--no-pivot']);
    expect(result.stderr).toBe('');
    const { stdout, status } = result;
    expect(status).toBe(0);
    expect(stdout).toContain('/bin/busybox');
  });

  it('with --no-pivot, leaves no fully visible proc beneath the chroot for a new one to be mounted on (as runc)', () => {
    // The kernel allows a new proc in a user namespace only where one is
    // fully visible already: after MS_MOVE the host's would be, beneath the chroot.
    const script = 'unshare -mrpf sh -c "mount -t proc none /proc && echo mounted"';
    const result = runScript(script, (config) => {
      for (const set of ['bounding', 'permitted', 'effective']) config.process.capabilities[set].push('CAP_SETFCAP');
    }, ['--no-pivot']);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('mount: permission denied');
    expect(result.status).not.toBe(0);
    // The host's own /proc is untouched.
    expect(fs.existsSync('/proc/self/status')).toBe(true);
  });

  it('passes stdin through and returns the exit status, 128+N for signal N', () => {
    const bundle = busyboxBundle((config) => {
      config.process.args = ['sh', '-c', 'cat; exit 42'];
    });
    const piped = runtime.run(['run', '--bundle', bundle, nextId()], { input: 'through the pipe\n' });
    expect(piped.stdout).toBe('through the pipe\n');
    expect(piped.status).toBe(42);
  });

  it('exits 128+N when the container is killed by signal N', async () => {
    const bundle = busyboxBundle((config) => {
      config.process.args = ['sh', '-c', 'echo ready; exec sleep 100'];
    });
    const id = nextId();
    const child = spawn(OCITS, ['--root', runtime.root, 'run', '--bundle', bundle, id]);
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    const code = new Promise((resolve) => child.on('exit', resolve));
    while (!output.includes('ready')) await new Promise((resolve) => setTimeout(resolve, 10));
    runtime.ok(['kill', id, 'KILL']);
    expect(await code).toBe(137);
  });

  it('reports a missing executable at create, as runc does', () => {
    const result = runScript('true', (config) => {
      config.process.args = ['nosuchprogram'];
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe('ocits: container init failed: exec: "nosuchprogram": executable file not found in $PATH\n');
  });
});

describe('create and start', () => {
  it("records the caller's user name as the owner, as runc's list shows it, even without $USER", () => {
    const bundle = busyboxBundle((config) => (config.process.args = ['true']));
    const id = nextId();
    const { USER, LOGNAME, ...environment } = process.env;
    runtime.ok(['create', '--bundle', bundle, id], { env: environment, input: '' });
    const listed = JSON.parse(runtime.ok(['list', '--format', 'json'])).find((entry: { id: string }) => entry.id === id);
    runtime.ok(['delete', '--force', id]);
    expect(listed.owner).toBe('root');
  });

  it('goes created -> running -> stopped, with a pid file and no ocits process left behind', () => {
    const bundle = busyboxBundle((config) => {
      config.process.args = ['sh', '-c', 'read line < /dev/stdin; exit 0'];
      config.annotations = { 'org.example/key': 'value' };
    });
    const id = nextId();
    const work = tempDir('ocits-cwd-');
    runtime.ok(['create', '--bundle', bundle, '--pid-file', 'init.pid', id], { cwd: work, input: '' });
    const created = runtime.state(id);
    expect(created).toMatchObject({ ociVersion: '1.3.0', id, status: 'created', bundle, annotations: { 'org.example/key': 'value' } });
    const pid = created.pid as number;
    expect(fs.readFileSync(path.join(work, 'init.pid'), 'utf8')).toBe(String(pid));
    // create's own process has exited; nothing of ours is the container's parent.
    const parent = Number(/PPid:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
    expect(fs.readFileSync(`/proc/${parent}/cmdline`, 'utf8')).not.toContain('ocits');
    // Every hierarchy has the container in its own cgroup.
    const cgroups = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
    for (const line of cgroups) expect(line).toMatch(new RegExp(`/${id}$`));
    expect(cgroups.find((line) => line.includes(':memory:'))).toContain(`${memoryCgroupOfOurs()}/${id}`.replace('//', '/'));

    runtime.ok(['start', id]);
    // stdin was empty, so the process exits by itself.
    for (let i = 0; i < 500 && isAlive(pid); i++) spawnSync('sleep', ['0.01']);
    expect(runtime.state(id)).toMatchObject({ status: 'stopped', pid: 0 });
    runtime.ok(['delete', id]);
    expect(fs.existsSync(path.join(runtime.root, id))).toBe(false);
    expect(fs.existsSync(`/sys/fs/cgroup/pids/${id}`)).toBe(false);
  });

  it('reports running while the process runs, and kill stops it', () => {
    const bundle = busyboxBundle((config) => {
      config.process.args = ['sleep', '100'];
    });
    const id = nextId();
    runtime.ok(['create', '--bundle', bundle, id]);
    runtime.ok(['start', id]);
    const { pid, status } = runtime.state(id);
    expect(status).toBe('running');
    // The kernel shows the path as the container sees it.
    expect(fs.readlinkSync(`/proc/${pid}/exe`)).toBe('/bin/busybox');
    runtime.ok(['kill', id, 'KILL']);
    for (let i = 0; i < 500 && isAlive(pid); i++) spawnSync('sleep', ['0.01']);
    expect(runtime.state(id).status).toBe('stopped');
    runtime.ok(['delete', id]);
  });

  it('puts the container in linux.cgroupsPath', () => {
    const cgroupsPath = `/ocits-test-${process.pid}/inner`;
    const { stdout, status } = runScript('cat /proc/self/cgroup', (config) => {
      config.linux.cgroupsPath = cgroupsPath;
    });
    expect(status).toBe(0);
    expect(stdout).toContain(`:pids:${cgroupsPath}\n`);
    expect(fs.existsSync(`/sys/fs/cgroup/pids${cgroupsPath}`)).toBe(false);
    fs.rmSync(`/sys/fs/cgroup/pids/ocits-test-${process.pid}`, { recursive: true, force: true });
    for (const hierarchy of fs.readdirSync('/sys/fs/cgroup')) {
      const dir = `/sys/fs/cgroup/${hierarchy}/ocits-test-${process.pid}`;
      if (fs.existsSync(dir)) fs.rmdirSync(dir);
    }
  });
});

describe('hooks', () => {
  it('runs all six in the spec order, each with the state of its moment on stdin', () => {
    const work = tempDir('ocits-hooks-');
    const log = path.join(work, 'log');
    // Appends "<name> <state JSON>" to the file named by its second argument.
    const hook = path.join(work, 'hook.sh');
    fs.writeFileSync(hook, `#!/bin/sh\n{ printf '%s ' "$1"; cat; printf '\\n'; } >> "$2"\n`, { mode: 0o755 });
    const onHost = (name: string) => [{ path: hook, args: ['hook.sh', name, log] }];
    const bundle = busyboxBundle((config) => {
      config.root.readonly = false;
      config.hooks = {
        prestart: onHost('prestart'),
        createRuntime: onHost('createRuntime'),
        // Runs in the container's namespaces but before pivot_root: host paths still resolve.
        createContainer: onHost('createContainer'),
        // Runs inside the container, after pivot_root: the path is the container's.
        startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'cat > /start-state', 'sh'] }],
        poststart: onHost('poststart'),
        poststop: onHost('poststop'),
      };
      config.process.args = ['true'];
    });
    const id = nextId();
    expect(runtime.run(['run', '--bundle', bundle, id]).status).toBe(0);

    const entries = fs.readFileSync(log, 'utf8').trimEnd().split('\n').map((line) => {
      const space = line.indexOf(' ');
      return { name: line.slice(0, space), state: JSON.parse(line.slice(space + 1)) };
    });
    expect(entries.map((e) => [e.name, e.state.status])).toEqual([
      ['prestart', 'creating'],
      ['createRuntime', 'creating'],
      ['createContainer', 'creating'],
      ['poststart', 'running'],
      ['poststop', 'stopped'],
    ]);
    for (const { state } of entries) expect(state).toMatchObject({ ociVersion: '1.3.0', id, bundle });
    const hostPid = entries[0].state.pid;
    expect(hostPid).toBeGreaterThan(1);
    expect(entries.map((e) => e.state.pid)).toEqual([hostPid, hostPid, 1, hostPid, undefined]);
    // The container's own view: the pid in its pid namespace.
    const startState = JSON.parse(fs.readFileSync(path.join(bundle, 'rootfs', 'start-state'), 'utf8'));
    expect(startState).toMatchObject({ id, status: 'created', pid: 1, bundle });
  });
});

describe('a config with large annotations', () => {
  // Kubernetes allows 256 KB of annotations, and every hook's state carries
  // them: more than one socket message, and more than a pipe holds.
  it('creates the container, and each hook reads the whole state', () => {
    const work = tempDir('ocits-hooks-');
    const big = 'x'.repeat(200 * 1024);
    const count = (name: string) => [{ path: '/bin/sh', args: ['sh', '-c', `wc -c >> ${path.join(work, name)}`] }];
    const bundle = busyboxBundle((config) => {
      config.root.readonly = false;
      config.annotations = { 'org.example.big': big };
      config.hooks = {
        prestart: count('prestart'),
        createContainer: count('createContainer'),
        startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'wc -c > /start-state-size'] }],
        poststop: count('poststop'),
      };
      config.process.args = ['true'];
    });
    const id = nextId();
    const result = runtime.run(['run', '--bundle', bundle, id]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const size = (file: string) => Number(fs.readFileSync(file, 'utf8').trim());
    for (const name of ['prestart', 'createContainer', 'poststop']) expect(size(path.join(work, name))).toBeGreaterThan(big.length);
    expect(size(path.join(bundle, 'rootfs', 'start-state-size'))).toBeGreaterThan(big.length);
  });

  it('runs a hook that never reads its state without blocking or failing', () => {
    const bundle = busyboxBundle((config) => {
      config.annotations = { 'org.example.big': 'x'.repeat(200 * 1024) };
      config.hooks = { createContainer: [{ path: '/bin/true' }], startContainer: [{ path: '/bin/true' }] };
      config.process.args = ['true'];
    });
    const result = runtime.run(['run', '--bundle', bundle, nextId()]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});

describe('the process\'s working directory', () => {
  it('may be one the runtime can enter and the process\'s user cannot, as in runc', () => {
    const bundle = busyboxBundle((config) => {
      config.process.user = { uid: 1000, gid: 1000 };
      config.process.cwd = '/private';
      config.process.args = ['pwd'];
    });
    fs.mkdirSync(path.join(bundle, 'rootfs', 'private'), { mode: 0o700 });
    const result = runtime.run(['run', '--bundle', bundle, nextId()]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('/private\n');
    expect(result.status).toBe(0);
  });
});

describe('hooks\' working directory', () => {
  it('is the bundle for the runtime\'s hooks and the rootfs for createContainer hooks, as in runc', () => {
    const work = tempDir('ocits-hooks-');
    const log = path.join(work, 'log');
    const pwd = (name: string) => [{ path: '/bin/sh', args: ['sh', '-c', `echo ${name} $(pwd) >> ${log}`] }];
    const bundle = busyboxBundle((config) => {
      config.root.readonly = false;
      config.hooks = {
        prestart: pwd('prestart'),
        createRuntime: pwd('createRuntime'),
        // Before pivot_root: /bin/sh and /bin/touch are the host's, ./ is the rootfs.
        createContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'touch ./made-by-hook'] }],
        poststart: pwd('poststart'),
        poststop: pwd('poststop'),
      };
      config.process.args = ['true'];
    });
    // From elsewhere: the hooks must not see the caller's directory.
    expect(runtime.run(['run', '--bundle', bundle, nextId()], { cwd: '/' }).status).toBe(0);
    expect(fs.readFileSync(log, 'utf8')).toBe(['prestart', 'createRuntime', 'poststart', 'poststop'].map((name) => `${name} ${bundle}\n`).join(''));
    expect(fs.existsSync(path.join(bundle, 'rootfs', 'made-by-hook'))).toBe(true);
  });
});

describe('terminals', () => {
  it('sends the pty master to --console-socket', async () => {
    const bundle = busyboxBundle((config) => {
      config.process.terminal = true;
      config.process.args = ['sh', '-c', 'tty; echo hi'];
    });
    const console = await listenForConsole();
    const id = nextId();
    runtime.ok(['create', '--bundle', bundle, '--console-socket', console.socketPath, id]);
    runtime.ok(['start', id]);
    expect(await console.output()).toMatch(/^\/dev\/ptmx\n\/dev\/pts\/0\nhi\n/);
    runtime.ok(['delete', '--force', id]);
  });

  it('relays the terminal of a foreground run to its own stdio', () => {
    const bundle = busyboxBundle((config) => {
      config.process.terminal = true;
      config.process.args = ['sh', '-c', 'tty; exit 4'];
    });
    const result = runtime.run(['run', '--bundle', bundle, nextId()]);
    expect(result.stdout).toBe('/dev/pts/0\n');
    expect(result.status).toBe(4);
  });

  it('gives the pty process.consoleSize', async () => {
    const bundle = busyboxBundle((config) => {
      config.process.terminal = true;
      config.process.consoleSize = { height: 33, width: 111 };
      config.process.args = ['stty', 'size'];
    });
    const console = await listenForConsole();
    const id = nextId();
    runtime.ok(['create', '--bundle', bundle, '--console-socket', console.socketPath, id]);
    runtime.ok(['start', id]);
    expect(await console.output()).toMatch(/^\/dev\/ptmx\n33 111\n/);
    runtime.ok(['delete', '--force', id]);
  });

  it("gives a foreground run's pty the size of its own terminal", () => {
    const bundle = busyboxBundle((config) => {
      config.process.terminal = true;
      config.process.args = ['stty', 'size'];
    });
    // script(1) gives ocits a terminal of its own, here 22 rows by 99 columns.
    const command = `stty rows 22 cols 99; "${OCITS}" --root "${runtime.root}" run --bundle "${bundle}" ${nextId()}`;
    const result = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    // script echoes its own end of input (^@, ^D), before or after the
    // container's output depending on timing.
    expect(result.stdout.replace(/\r|\^[@D]/g, '')).toMatch(/^22 99\n/);
    expect(result.status).toBe(0);
  });

  it('refuses a terminal without a console socket when detached', () => {
    const bundle = busyboxBundle((config) => {
      config.process.terminal = true;
    });
    const result = runtime.run(['create', '--bundle', bundle, nextId()]);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe('ocits: process.terminal is true, so --console-socket is required\n');
  });
});

describe('run', () => {
  it('with --detach returns while the container runs; with --keep the stopped container stays', () => {
    const bundle = busyboxBundle((config) => {
      config.process.args = ['sleep', '100'];
    });
    const id = nextId();
    runtime.ok(['run', '--detach', '--bundle', bundle, id]);
    expect(runtime.state(id).status).toBe('running');
    runtime.ok(['delete', '--force', id]);

    const kept = runScript('exit 0', () => {}, ['--keep']);
    expect(kept.status).toBe(0);
    expect(runtime.state(kept.id).status).toBe('stopped');
    runtime.ok(['delete', kept.id]);
  });

  it('forwards SIGTERM to the container', async () => {
    const bundle = busyboxBundle((config) => {
      config.process.args = ['sh', '-c', 'trap "exit 9" TERM; echo ready; while true; do sleep 0.05; done'];
    });
    const child = spawn(OCITS, ['--root', runtime.root, 'run', '--bundle', bundle, nextId()]);
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    while (!output.includes('ready')) await new Promise((resolve) => setTimeout(resolve, 10));
    child.kill('SIGTERM');
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(9);
  });
});

describe('on a pure cgroup v2 host', () => {
  // A private mount namespace with cgroup2 over /sys/fs/cgroup looks like a
  // unified host to ocits (test/cgroups-v2.test.ts does the same); the full
  // v2 VM lane is ../shared/tools/cgv2-vm.
  it('puts the container in its own cgroup2 cgroup and mounts cgroup2 for it', () => {
    const bundle = busyboxBundle((config) => {
      config.process.args = ['sh', '-c', 'cat /proc/self/cgroup; grep " /sys/fs/cgroup " /proc/self/mountinfo'];
    });
    const id = nextId();
    const script = `mount -t cgroup2 none /sys/fs/cgroup && "${OCITS}" --root "${runtime.root}" run --bundle "${bundle}" ${id}; status=$?; ls /sys/fs/cgroup | grep -x ${id}; exit $status`;
    const result = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    // The kernel still lists its v1 hierarchies (at their roots: ocits no
    // longer sees them); the unified line has the container's cgroup. The
    // trailing `ls | grep` found nothing left once run deleted it.
    expect(result.stdout).toMatch(new RegExp(`^0::/(.+/)?${id}$`, 'm'));
    expect(result.stdout).toMatch(/ \/sys\/fs\/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw\n$/);
    expect(result.stdout).not.toMatch(/^\d+:pids:\/.+/m);
  });
});
