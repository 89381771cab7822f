// Recursive mount attributes (mount_setattr with AT_RECURSIVE) and idmapped
// bind mounts, observed from inside the container through mountinfo and
// file ownership. The bind sources live on the host's /tmp (ext4 here),
// with a tmpfs mounted below them so "recursive" has something to reach.
import { spawnSync } from 'node:child_process';
import * as fs from 'fs-extra';
import * as path from 'node:path';
import { MOUNT_ATTR, parseMountOptions } from '../../src/plan/mount-options';
import { Runtime, busyboxBundle } from '../helpers/busybox';
import { HOST_ID_BASE, userNamespaceBundle } from '../helpers/userns';
import * as os from 'node:os';

const runtime = new Runtime();
// Not a tempDir(): its afterAll would run before the tmpfs below is unmounted.
const source = fs.mkdtempSync(path.join(os.tmpdir(), 'ocits-mount-source-'));
const submount = path.join(source, 'sub');

beforeAll(() => {
  // Root in the container is not mapped by the idmapped mounts below, so it
  // has no override there: let everyone in.
  fs.chmodSync(source, 0o755);
  fs.writeFileSync(path.join(source, 'user-file'), 'x');
  fs.chownSync(path.join(source, 'user-file'), 1000, 1000);
  fs.writeFileSync(path.join(source, 'root-file'), 'x');
  fs.mkdirSync(submount);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'mode=755', 'tmpfs', submount], { encoding: 'utf8' });
  if (mounted.status !== 0) throw new Error(mounted.stderr);
  fs.writeFileSync(path.join(submount, 'user-file'), 'x');
  fs.chownSync(path.join(submount, 'user-file'), 1000, 1000);
  fs.mkdirSync(path.join(submount, 'user-dir'));
  fs.chownSync(path.join(submount, 'user-dir'), 1000, 1000);
});

afterAll(() => {
  runtime.cleanUp();
  spawnSync('umount', [submount]);
  fs.removeSync(source);
});

let counter = 0;
const nextId = (): string => `c${process.pid}-${++counter}`;

function runWithMounts(script: string, mounts: object[]) {
  const bundle = busyboxBundle((config) => {
    config.process.args = ['sh', '-c', script];
    config.mounts.push(...mounts);
  });
  const id = nextId();
  return { ...runtime.run(['run', '--bundle', bundle, id]), id };
}

/** The options column of the mount at mountPoint in the container's mountinfo output. */
function optionsAt(mountinfo: string, mountPoint: string): string[] {
  const line = mountinfo.split('\n').find((entry) => entry.split(' ')[4] === mountPoint);
  if (line === undefined) throw new Error(`no mount at ${mountPoint} in\n${mountinfo}`);
  return line.split(' ')[5].split(',');
}

describe('recursive mount attributes', () => {
  it('applies rro and rnosuid to an rbind and the mount below it; bind ro only to the top', () => {
    const { stdout, stderr, status } = runWithMounts('cat /proc/self/mountinfo', [
      { destination: '/rec', type: 'bind', source, options: ['rbind', 'rro', 'rnosuid'] },
      { destination: '/top', type: 'bind', source, options: ['rbind', 'ro'] },
    ]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(optionsAt(stdout, '/rec')).toEqual(expect.arrayContaining(['ro', 'nosuid']));
    expect(optionsAt(stdout, '/rec/sub')).toEqual(expect.arrayContaining(['ro', 'nosuid']));
    expect(optionsAt(stdout, '/top')).toContain('ro');
    expect(optionsAt(stdout, '/top/sub')).toContain('rw');
  });

  it('applies rnoexec, rnodev and an access-time setting to a tmpfs', () => {
    const { stdout, stderr, status } = runWithMounts('cat /proc/self/mountinfo', [
      { destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['rnoexec', 'rnodev', 'rnoatime'] },
      { destination: '/strict', type: 'tmpfs', source: 'tmpfs', options: ['rstrictatime'] },
    ]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(optionsAt(stdout, '/scratch')).toEqual(expect.arrayContaining(['noexec', 'nodev', 'noatime']));
    expect(optionsAt(stdout, '/strict')).not.toContain('relatime');
    expect(optionsAt(stdout, '/strict')).not.toContain('noatime');
  });

  it('lets rrw undo ro, after the bind remount', () => {
    const { stdout, stderr, status } = runWithMounts('grep " /rw " /proc/self/mountinfo; touch /rw/written && echo wrote', [
      { destination: '/rw', type: 'bind', source, options: ['rbind', 'ro', 'rrw'] },
    ]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(optionsAt(stdout, '/rw')).toContain('rw');
    expect(stdout).toMatch(/wrote\n$/);
    fs.removeSync(path.join(source, 'written'));
  });

  it('parses the access time as one value, as mount_setattr(2) wants it', () => {
    expect(parseMountOptions(['rnoatime'], '/o')).toMatchObject({ attrSet: MOUNT_ATTR.NOATIME, attrClr: MOUNT_ATTR.ATIME_MASK });
    expect(parseMountOptions(['rnoatime', 'ratime'], '/o')).toMatchObject({ attrSet: 0, attrClr: MOUNT_ATTR.ATIME_MASK });
    expect(parseMountOptions(['rro', 'rrw', 'rnosymfollow'], '/o')).toMatchObject({
      attrSet: MOUNT_ATTR.NOSYMFOLLOW,
      attrClr: MOUNT_ATTR.RDONLY,
      data: null,
    });
  });
});

describe('idmapped mounts', () => {
  const mapping = {
    uidMappings: [{ containerID: 1000, hostID: 2000, size: 1 }],
    gidMappings: [{ containerID: 1000, hostID: 3000, size: 1 }],
  };
  const owners = 'stat -c "%n %u %g" /m/user-file /m/root-file /m/sub/user-file; grep " /m " /proc/self/mountinfo';

  it('shows files of uid 1000 as the mapped ids and unmapped ones as the overflow id', () => {
    const { stdout, stderr, status } = runWithMounts(owners, [
      { destination: '/m', type: 'bind', source, options: ['rbind', 'idmap'], ...mapping },
    ]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const lines = stdout.split('\n');
    expect(lines.slice(0, 3)).toEqual([
      '/m/user-file 2000 3000',
      '/m/root-file 65534 65534',
      // idmap maps only the top mount: the tmpfs below keeps its ids.
      '/m/sub/user-file 1000 1000',
    ]);
    expect(lines[3].split(' ')[5].split(',')).toContain('idmapped');
  });

  it('maps the mounts below too with ridmap', () => {
    const { stdout, stderr, status } = runWithMounts(owners, [
      { destination: '/m', type: 'bind', source, options: ['rbind', 'ridmap'], ...mapping },
    ]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout.split('\n').slice(0, 3)).toEqual(['/m/user-file 2000 3000', '/m/root-file 65534 65534', '/m/sub/user-file 2000 3000']);
  });

  it('writes through the mapping: a file the container creates as 2000:3000 lands on disk as 1000:1000', () => {
    const bundle = busyboxBundle((config) => {
      config.process.args = ['sh', '-c', 'touch /m/sub/user-dir/created && stat -c "%u %g" /m/sub/user-dir/created'];
      config.process.user = { uid: 2000, gid: 3000 };
      config.mounts.push({ destination: '/m', type: 'bind', source, options: ['rbind', 'ridmap'], ...mapping });
    });
    const { stdout, stderr, status } = runtime.run(['run', '--bundle', bundle, nextId()]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toBe('2000 3000\n');
    const onDisk = fs.statSync(path.join(submount, 'user-dir', 'created'));
    expect([onDisk.uid, onDisk.gid]).toEqual([1000, 1000]);
  });

  describe("without mappings of its own, in a container with a user namespace (0 -> 100000, 65536 ids)", () => {
    const containerMapping = [{ containerID: 0, hostID: HOST_ID_BASE, size: 65536 }];
    /** Runs script in such a container; its stdout, or a throw with its stderr. */
    const runInUserNamespace = (script: string, mounts: object[]): string => {
      const bundle = userNamespaceBundle((config) => {
        config.linux.uidMappings = containerMapping;
        config.linux.gidMappings = containerMapping;
        config.process.args = ['sh', '-c', script];
        config.mounts.push(...mounts);
      });
      return runtime.ok(['run', '--bundle', bundle, nextId()]);
    };

    it("maps with the container's user namespace mapping: host root's files are root's inside, as a plain bind shows host 100000's", () => {
      const mappedRoot = path.join(source, 'mapped-root-file');
      fs.writeFileSync(mappedRoot, 'x');
      fs.chownSync(mappedRoot, HOST_ID_BASE, HOST_ID_BASE);
      const stdout = runInUserNamespace(
        'stat -c "%n %u %g" /m/root-file /m/user-file /m/mapped-root-file /p/root-file /p/mapped-root-file; cat /proc/self/mountinfo',
        [
          { destination: '/m', type: 'bind', source, options: ['bind', 'idmap'] },
          // rbind: in a user namespace a bind may not uncover what the tmpfs below (locked) hides.
          { destination: '/p', type: 'bind', source, options: ['rbind'] },
        ],
      );
      expect(stdout.split('\n').slice(0, 5)).toEqual([
        '/m/root-file 0 0',
        '/m/user-file 1000 1000',
        // On disk 100000, which the mapping does not take in: the overflow id.
        '/m/mapped-root-file 65534 65534',
        '/p/root-file 65534 65534',
        '/p/mapped-root-file 0 0',
      ]);
      expect(optionsAt(stdout, '/m')).toContain('idmapped');
      expect(optionsAt(stdout, '/p')).not.toContain('idmapped');
    });

    it("writes through it: a file the container's root creates lands on disk as host root", () => {
      const stdout = runInUserNamespace('touch /m/sub/created-by-root && stat -c "%u %g" /m/sub/created-by-root', [
        { destination: '/m', type: 'bind', source, options: ['rbind', 'ridmap'] },
      ]);
      expect(stdout).toBe('0 0\n');
      const onDisk = fs.statSync(path.join(submount, 'created-by-root'));
      expect([onDisk.uid, onDisk.gid]).toEqual([0, 0]);
    });

    it("maps with a user namespace joined by path: that namespace's mapping", () => {
      const holder = userNamespaceBundle((config) => {
        config.linux.uidMappings = containerMapping;
        config.linux.gidMappings = containerMapping;
        config.process.args = ['sleep', '1000'];
      });
      const a = nextId();
      runtime.ok(['run', '--detach', '--bundle', holder, a]);
      const joining = userNamespaceBundle((config) => {
        delete config.linux.uidMappings;
        delete config.linux.gidMappings;
        config.linux.namespaces = config.linux.namespaces.map((ns: { type: string }) =>
          ns.type === 'user' ? { type: 'user', path: `/proc/${runtime.state(a).pid}/ns/user` } : ns,
        );
        config.process.args = ['sh', '-c', 'stat -c "%n %u %g" /m/root-file /m/user-file; cat /proc/self/uid_map'];
        config.mounts.push({ destination: '/m', type: 'bind', source, options: ['bind', 'idmap'] });
      });
      const stdout = runtime.ok(['run', '--bundle', joining, nextId()]);
      runtime.ok(['delete', '--force', a]);
      const lines = stdout.split('\n');
      expect(lines.slice(0, 2)).toEqual(['/m/root-file 0 0', '/m/user-file 1000 1000']);
      expect(lines[2].trim().split(/\s+/).map(Number)).toEqual([0, HOST_ID_BASE, 65536]);
    });
  });

  const refusals: Array<[string, object, string]> = [
    ['idmap without mappings', { destination: '/m', type: 'bind', source, options: ['bind', 'idmap'] },
      'invalid config.json: /mounts/7/options: an idmap mount needs uidMappings and gidMappings, or a user namespace'],
    ['uidMappings without gidMappings', { destination: '/m', type: 'bind', source, options: ['bind', 'idmap'], uidMappings: mapping.uidMappings },
      'invalid config.json: /mounts/7: must have property gidMappings when property uidMappings is present'],
    ['mappings without idmap or ridmap', { destination: '/m', type: 'bind', source, options: ['bind'], ...mapping },
      'invalid config.json: /mounts/7: uidMappings and gidMappings need the idmap or ridmap option'],
    ['an idmapped mount that is not a bind', { destination: '/m', type: 'tmpfs', source: 'tmpfs', options: ['idmap'], ...mapping },
      '/mounts/7/options: an idmapped mount must be a bind mount'],
    ['tmpcopyup on a bind', { destination: '/m', type: 'bind', source, options: ['bind', 'tmpcopyup'] },
      '/mounts/7/options: tmpcopyup applies only to a tmpfs mount'],
  ];
  it.each(refusals)('refuses %s with a message naming the field', (_, mount, message) => {
    const { stderr, status, id } = runWithMounts('true', [mount]);
    expect(status).toBe(1);
    expect(stderr).toBe(`ocits: ${message}\n`);
    expect(runtime.run(['state', id]).status).toBe(1);
  });

  it('reports a source whose filesystem cannot be idmapped', () => {
    // procfs does not support idmapped mounts.
    const { stderr, status, id } = runWithMounts('true', [
      { destination: '/m', type: 'bind', source: '/proc/sys', options: ['bind', 'idmap'], ...mapping },
    ]);
    expect(status).toBe(1);
    expect(stderr).toMatch(/^ocits: container init failed: mount \/mounts\/7 \(\/m\): .*mount_setattr MOUNT_ATTR_IDMAP.*\n$/);
    expect(runtime.run(['state', id]).status).toBe(1);
  });
});

describe('a read-only /dev', () => {
  it('gets its submounts, nodes and links first and is read-only after, as runc makes it', () => {
    const bundle = busyboxBundle((config) => {
      const dev = config.mounts.find((mount: { destination: string }) => mount.destination === '/dev');
      dev.options = [...dev.options, 'ro'];
      config.process.args = ['sh', '-c', 'grep " /dev " /proc/self/mountinfo | cut -d" " -f6 | cut -d, -f1; ls -d /dev/pts/ptmx /dev/null /dev/fd; touch /dev/x || echo refused'];
    });
    const { stdout, stderr, status } = runtime.run(['run', '--bundle', bundle, nextId()]);
    expect(stderr).toBe("touch: /dev/x: Read-only file system\n");
    expect(stdout).toBe('ro\n/dev/fd\n/dev/null\n/dev/pts/ptmx\nrefused\n');
    expect(status).toBe(0);
  });
});
