// Values from a user that reach a system call are checked against what the
// kernel takes before anything is made (issue 18, items 2, 5 and 6): ids
// that would be -1 to the kernel, documents that are not regular files or
// too large, integers that would wrap on the way to C, strings with a NUL
// byte, and the errors of a create that fails on the way (a memory limit too
// low to start, a pid file that cannot be written, a full state directory).
// Each case gives one line on stderr with exit status 1, and a refused
// create leaves no state directory behind.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MAX_DOCUMENT_BYTES } from '../../src/spec/json';
import { Runtime, busyboxBundle } from '../helpers/busybox';
import { OCITS, ocits, type CliResult } from '../helpers/cli';
import { tempDir } from '../helpers/tmp';

const runtime = new Runtime();
/** tmpfs mounts the tests made (not tempDirs, which go before they are unmounted), unmounted and removed even when a test fails. */
const mounts: string[] = [];
afterAll(() => {
  runtime.cleanUp();
  for (const mountPoint of mounts) {
    spawnSync('umount', ['-l', mountPoint]);
    fs.rmSync(mountPoint, { recursive: true, force: true });
  }
});

let counter = 0;
const nextId = (): string => `bounds-${process.pid}-${++counter}`;

/** stderr is exactly one line "ocits: ..." matching expected; exit status 1. */
function expectOneLineError(result: CliResult, expected: string | RegExp): void {
  expect({ status: result.status, stderr: result.stderr }).toEqual({
    status: 1,
    stderr: expect.stringMatching(/^ocits: [^\n]*\n$/),
  });
  if (typeof expected === 'string') expect(result.stderr).toContain(expected);
  else expect(result.stderr).toMatch(expected);
}

/** The problems `ocits validate` prints for the default config with change applied. */
function validateProblems(change: (config: Record<string, any>) => void): string[] {
  const bundle = busyboxBundle(change);
  const result = ocits(['validate', '--bundle', bundle]);
  return result.stdout.split('\n').filter(Boolean);
}

/** A create that must be refused with this message, leaving no state directory. */
function expectCreateRefused(bundle: string, expected: string | RegExp, extra: string[] = []): void {
  const id = nextId();
  // A time limit, so that a create that hangs (on a FIFO) fails rather than stalls the run.
  expectOneLineError(runtime.run(['create', ...extra, '--bundle', bundle, id], { timeout: 60_000 }), expected);
  expect(fs.existsSync(path.join(runtime.root, id))).toBe(false);
}

describe('ids that are -1 to the kernel (item 2)', () => {
  // setresuid(2) and setgroups(2) read (uid_t)-1 as "leave unchanged": the
  // process would keep ocits' root.
  it.each([
    ['/process/user/uid', (c: any) => (c.process.user.uid = 4294967295)],
    ['/process/user/gid', (c: any) => (c.process.user.gid = 4294967295)],
    ['/process/user/additionalGids/1', (c: any) => (c.process.user.additionalGids = [5, 4294967295])],
    ['/linux/devices/0/uid', (c: any) => (c.linux.devices = [{ path: '/dev/x', type: 'c', major: 1, minor: 3, uid: 4294967295 }])],
    ['/linux/devices/0/gid', (c: any) => (c.linux.devices = [{ path: '/dev/x', type: 'c', major: 1, minor: 3, gid: 4294967295 }])],
  ])('refuses 4294967295 at %s', (pointer, change) => {
    expect(validateProblems(change)).toEqual([`${pointer}: must be at most 4294967294 (4294967295 is -1 to the kernel: "leave unchanged"), not 4294967295`]);
    expectCreateRefused(busyboxBundle(change), `invalid config.json: ${pointer}: must be at most 4294967294`);
  });

  it('refuses id mappings whose range reaches -1, in the user namespace and on an idmapped mount', () => {
    let mount = 0;
    expect(
      validateProblems((c) => {
        c.linux.namespaces.push({ type: 'user' });
        c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        c.linux.gidMappings = [{ containerID: 0, hostID: 0, size: 0 }];
        mount = c.mounts.push({ destination: '/mnt', source: '/tmp', type: 'bind', options: ['bind', 'idmap'], uidMappings: [{ containerID: 4294967290, hostID: 0, size: 6 }], gidMappings: [{ containerID: 0, hostID: 0, size: 1 }] }) - 1;
      }),
    ).toEqual([
      '/linux/gidMappings/0/size: must be >= 1, not 0',
      `/mounts/${mount}/uidMappings/0: containerID 4294967290 + size 6 reaches 4294967295, past the last id 4294967294`,
    ]);
    expect(
      validateProblems((c) => {
        c.linux.namespaces.push({ type: 'user' });
        c.linux.uidMappings = [{ containerID: 0, hostID: 4294967000, size: 296 }];
        c.linux.gidMappings = [{ containerID: 4294967295, hostID: 0, size: 1 }];
      }),
    ).toEqual([
      '/linux/gidMappings/0/containerID: must be at most 4294967294 (4294967295 is -1 to the kernel: "leave unchanged"), not 4294967295',
      '/linux/uidMappings/0: hostID 4294967000 + size 296 reaches 4294967295, past the last id 4294967294',
    ]);
  });

  describe('in exec', () => {
    let id: string;
    beforeAll(() => {
      id = nextId();
      runtime.ok(['run', '--detach', '--bundle', busyboxBundle((c) => (c.process.args = ['sleep', '1000'])), id]);
    });

    it.each([
      // 4294967296 wraps to 0 on the way to C: root's group.
      [['-g', '4294967296'], 'invalid value "4294967296" for flag --additional-gids: not a group id (0 to 4294967294)'],
      [['-g', '4294967295'], 'invalid value "4294967295" for flag --additional-gids: not a group id (0 to 4294967294)'],
      [['-u', '4294967295'], '--user uid: "4294967295" is not a number'],
      [['-u', '1000:4294967295'], '--user gid: "4294967295" is not a number'],
    ])('refuses %j', (flags, message) => {
      expectOneLineError(runtime.run(['exec', ...flags, id, 'id']), message);
    });

    it('refuses a --preserve-fds count that would wrap as an int (4294967296 became 0)', () => {
      expectOneLineError(runtime.run(['exec', '--preserve-fds', '4294967296', id, 'true']), /preserved fd \d+ \(--preserve-fds 4294967296\) is not open/);
    });

    it('refuses a --process file whose user is 4294967295', () => {
      const file = path.join(tempDir(), 'process.json');
      fs.writeFileSync(file, JSON.stringify({ args: ['id', '-u'], cwd: '/', user: { uid: 4294967295, gid: 0 } }));
      expectOneLineError(runtime.run(['exec', '--process', file, id]), `--process ${file}: /user/uid: must be at most 4294967294`);
    });
  });
});

describe('documents that are not regular files, or too large (item 5)', () => {
  const bundleWithConfig = (make: (file: string) => void): string => {
    const bundle = busyboxBundle();
    const file = path.join(bundle, 'config.json');
    fs.rmSync(file);
    make(file);
    return bundle;
  };
  const fifo = (file: string) => execFileSync('mkfifo', [file]);
  const sparse = (file: string) => {
    fs.writeFileSync(file, '');
    fs.truncateSync(file, MAX_DOCUMENT_BYTES + 1);
  };

  it.each([
    ['a symlink to /dev/zero', (file: string) => fs.symlinkSync('/dev/zero', file), 'is a character device, not a regular file'],
    ['a FIFO', fifo, 'is a FIFO, not a regular file'],
    ['a directory', (file: string) => fs.mkdirSync(file), 'is a directory, not a JSON file'],
    ['over the limit', sparse, 'larger than 16 MiB, the most ocits reads'],
    ['not UTF-8', (file: string) => fs.writeFileSync(file, Buffer.from('{"ociVersion": "1.0.0", "root": {"path": "r\xff"}}', 'latin1')), 'is not valid UTF-8 (at byte 43)'],
  ])('refuses a config.json that is %s, before reading it', (_, make, message) => {
    const bundle = bundleWithConfig(make);
    const validate = spawnSync(OCITS, ['validate', '--bundle', bundle], { encoding: 'utf8', timeout: 20_000 });
    expectOneLineError({ status: validate.status, stdout: validate.stdout, stderr: validate.stderr }, `${bundle}/config.json: ${message}`);
    expectCreateRefused(bundle, `${bundle}/config.json: ${message}`);
  });

  it('follows a symlinked config.json to a regular file, as runc does', () => {
    const bundle = busyboxBundle();
    const real = path.join(tempDir(), 'real.json');
    fs.renameSync(path.join(bundle, 'config.json'), real);
    fs.symlinkSync(real, path.join(bundle, 'config.json'));
    expect(ocits(['validate', '--bundle', bundle])).toMatchObject({ status: 0, stderr: '' });
  });

  it('refuses the same for exec --process and update --resources', () => {
    const id = nextId();
    runtime.ok(['create', '--bundle', busyboxBundle((c) => (c.process.args = ['sleep', '1000'])), id]);
    const dir = tempDir();
    fifo(path.join(dir, 'fifo'));
    expectOneLineError(runtime.run(['update', '--resources', '/dev/zero', id]), '--resources /dev/zero: is a character device, not a regular file');
    expectOneLineError(runtime.run(['update', '-r', path.join(dir, 'fifo'), id]), 'is a FIFO, not a regular file');
    runtime.ok(['start', id]);
    expectOneLineError(runtime.run(['exec', '--process', path.join(dir, 'fifo'), id]), `--process ${dir}/fifo: is a FIFO, not a regular file`);
    expectOneLineError(runtime.run(['exec', '--process', '/dev/zero', id]), '--process /dev/zero: is a character device, not a regular file');
    // update's document is checked as /linux/resources, with the same bounds.
    const resources = path.join(dir, 'resources.json');
    fs.writeFileSync(resources, JSON.stringify({ memory: { swappiness: 1000 } }));
    expectOneLineError(runtime.run(['update', '-r', resources, id]), `--resources ${resources}: /memory/swappiness: must be <= 100, not 1000`);
  });
});

describe('integers bounded by the type the kernel takes (item 6)', () => {
  it.each([
    // SCMP_ACT_ERRNO keeps 16 bits: 2^32 would be errno 0, a syscall that "succeeds" without running.
    ['/linux/seccomp/syscalls/0/errnoRet', 'must be <= 4095, not 4294967296', (c: any) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 4294967296 }] })],
    ['/linux/seccomp/defaultErrnoRet', 'must be <= 4095, not 65537', (c: any) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 65537 })],
    ['/linux/seccomp/syscalls/0/args/0/index', 'must be <= 5, not 6', (c: any) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }] })],
    // mknod(2)'s dev_t has 12 bits of major and 20 of minor.
    ['/linux/devices/0/major', 'must be <= 4095, not 1e+30', (c: any) => (c.linux.devices = [{ path: '/dev/x', type: 'c', major: 1e30, minor: 1 }])],
    ['/linux/devices/0/minor', 'must be <= 1048575, not 1048576', (c: any) => (c.linux.devices = [{ path: '/dev/x', type: 'c', major: 1, minor: 1048576 }])],
    ['/linux/devices/0/fileMode', 'must be <= 4095, not 4096', (c: any) => (c.linux.devices = [{ path: '/dev/x', type: 'c', major: 1, minor: 3, fileMode: 4096 }])],
    ['/process/oomScoreAdj', 'must be <= 1000, not 5000', (c: any) => (c.process.oomScoreAdj = 5000)],
    ['/process/oomScoreAdj', 'must be >= -1000, not -1001', (c: any) => (c.process.oomScoreAdj = -1001)],
    ['/process/rlimits/0/hard', 'must be <= 18446744073709552000, not 1e+30', (c: any) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1, hard: 1e30 }])],
    ['/process/consoleSize/height', 'must be <= 65535, not 65536', (c: any) => (c.process.consoleSize = { height: 65536, width: 80 })],
    ['/process/scheduler/nice', 'must be >= -20, not -21', (c: any) => (c.process.scheduler = { policy: 'SCHED_OTHER', nice: -21 })],
    ['/process/scheduler/runtime', 'must be <= 9223372036854776000, not 1e+30', (c: any) => (c.process.scheduler = { policy: 'SCHED_DEADLINE', runtime: 1e30 })],
    ['/hooks/prestart/0/timeout', 'must be <= 2147483647, not 4294967296', (c: any) => (c.hooks = { prestart: [{ path: '/bin/true', timeout: 4294967296 }] })],
    ['/linux/timeOffsets/monotonic/nanosecs', 'must be <= 999999999, not 1000000000', (c: any) => { c.linux.namespaces.push({ type: 'time' }); c.linux.timeOffsets = { monotonic: { secs: 1, nanosecs: 1e9 } }; }],
    ['/linux/resources/memory/limit', 'must be >= -1, not -2', (c: any) => (c.linux.resources = { memory: { limit: -2 } })],
    ['/linux/resources/cpu/shares', 'must be <= 18446744073709552000, not 1e+30', (c: any) => (c.linux.resources = { cpu: { shares: 1e30 } })],
    ['/linux/resources/devices/0/major', 'must be <= 4294967295, not 4294967296', (c: any) => (c.linux.resources = { devices: [{ allow: true, type: 'c', major: 4294967296, access: 'r' }] })],
  ])('refuses %s out of range', (pointer, message, change) => {
    expect(validateProblems(change)).toEqual([`${pointer}: ${message}`]);
  });

  it('says why a memory limit too low to start the container fails', () => {
    expectCreateRefused(
      busyboxBundle((c) => (c.linux.resources = { memory: { limit: 1 } })),
      "/linux/resources/memory/limit: the container's init process was killed by the OOM killer while it was set up: 1 bytes is too little memory to start it",
    );
  });
});

describe('strings with a NUL byte (item 6)', () => {
  // C reads each of these up to the NUL: "/pr\0oc/kcore" would mask "/pr".
  it.each([
    ['/linux/maskedPaths/0', (c: any) => (c.linux.maskedPaths[0] = '/pr\u0000oc/kcore')],
    ['/linux/readonlyPaths/0', (c: any) => (c.linux.readonlyPaths[0] = '/proc/b\u0000us')],
    ['/mounts/0/source', (c: any) => (c.mounts[0].source = 'pr\u0000oc')],
    ['/mounts/1/options/0', (c: any) => (c.mounts[1].options[0] = 'nosuid\u0000,suid')],
    ['/hostname', (c: any) => (c.hostname = 'a\u0000b')],
    ['/process/env/0', (c: any) => (c.process.env[0] = 'PATH=/bin\u0000x')],
    ['/process/args/0', (c: any) => (c.process.args[0] = 's\u0000h')],
    ['/hooks/poststop/0/args/1', (c: any) => (c.hooks = { poststop: [{ path: '/bin/true', args: ['true', '\u0000'] }] })],
    ['/linux/sysctl/kernel.msgmax', (c: any) => (c.linux.sysctl = { 'kernel.msgmax': '1\u00002' })],
    ['/linux/cgroupsPath', (c: any) => (c.linux.cgroupsPath = '/a\u0000b')],
  ])('refuses one at %s', (pointer, change) => {
    expect(validateProblems(change)).toEqual([`${pointer}: contains a NUL byte, at which a system call would cut it`]);
    expectCreateRefused(busyboxBundle(change), `invalid config.json: ${pointer}: contains a NUL byte`);
  });

  it('shows a key with a NUL byte escaped, on one line', () => {
    expect(validateProblems((c) => (c.linux.sysctl = { 'a\u0000b': '1' }))).toEqual(['/linux/sysctl/a\\u0000b: its key contains a NUL byte, at which a system call would cut it']);
  });

  it('leaves annotations alone: they only travel as JSON', () => {
    expect(validateProblems((c) => (c.annotations = { 'org.example': 'a\u0000b' }))).toEqual([]);
  });
});

describe('errors on the way say what failed, on one line (item 6)', () => {
  it('quotes a cgroupsPath with a newline', () => {
    expectCreateRefused(
      busyboxBundle((c) => (c.linux.cgroupsPath = `/ocits-bounds-${process.pid}\nx`)),
      `cannot create cgroup "/sys/fs/cgroup/`,
    );
  });

  it('quotes a path from the config that holds a newline', () => {
    let index = 0;
    const bundle = busyboxBundle((c) => (index = c.mounts.push({ destination: '/mnt', type: 'bind', source: '/no/such\nsource', options: ['bind'] }) - 1));
    expectCreateRefused(bundle, `/mounts/${index}/source: "/no/such\\nsource" does not exist`);
  });

  it('names the pid file it cannot write', () => {
    const missing = path.join(tempDir(), 'missing', 'pid');
    expectCreateRefused(busyboxBundle(), `cannot write the pid file ${missing}: no such file or directory (ENOENT)`, ['--pid-file', missing]);
  });

  it('names the state file it cannot write on a full state directory', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ocits-full-root-'));
    mounts.push(root);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', root]);
    spawnSync('dd', ['if=/dev/zero', `of=${path.join(root, 'filler')}`, 'bs=4k'], { stdio: 'ignore' });
    const id = nextId();
    const result = ocits(['--root', root, 'create', '--bundle', busyboxBundle(), id]);
    expectOneLineError(result, `cannot write the state of container ${id} to ${root}/${id}/state.json: no space left on device (ENOSPC)`);
    expect(fs.readdirSync(root)).toEqual(['filler']);
  });

  it('quotes a path with a control character, on one line', () => {
    const odd = path.join(tempDir(), 'a\nb');
    fs.mkdirSync(odd);
    expectOneLineError(ocits(['validate', '--bundle', odd]), `${JSON.stringify(path.join(odd, 'config.json'))}: no such file`);
  });
});
