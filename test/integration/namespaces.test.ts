// User and time namespaces and namespaces joined by path, observed from
// inside real busybox containers: /proc/self/ns/*, uid_map, the owners of
// files on the host, /proc/uptime and timens_offsets; and every refusal.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'fs-extra';
import * as path from 'node:path';
import { Runtime, busyboxBundle } from '../helpers/busybox';
import { OCITS } from '../helpers/cli';
import { tempDir } from '../helpers/tmp';
import { HOST_ID_BASE, RANGE_SIZE, userNamespaceBundle } from '../helpers/userns';

const runtime = new Runtime();
afterAll(() => runtime.cleanUp());

let counter = 0;
const nextId = (): string => `c${process.pid}-${++counter}`;

/** Runs the bundle in the foreground; returns stdout, or throws with stderr. */
function runIn(bundle: string, script: string): string {
  const config = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
  config.process.args = ['sh', '-c', script];
  fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(config));
  return runtime.ok(['run', '--bundle', bundle, nextId()]);
}

/** Runs and expects failure; returns stderr. */
function refused(bundle: string): string {
  const id = nextId();
  const result = runtime.run(['run', '--bundle', bundle, id]);
  expect(result.status).toBe(1);
  // A failed create leaves nothing behind.
  expect(runtime.run(['state', id]).status).toBe(1);
  expect(fs.readdirSync(runtime.root).filter((name) => name === id)).toEqual([]);
  return result.stderr;
}

const hostNamespace = (type: string): string => fs.readlinkSync(`/proc/self/ns/${type}`);

/** A detached container sleeping; its id and host pid. */
function startSleeper(bundle: string): { id: string; pid: number } {
  const config = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
  config.process.args = ['sleep', '1000'];
  fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(config));
  const id = nextId();
  runtime.ok(['run', '--detach', '--bundle', bundle, id]);
  return { id, pid: runtime.state(id).pid };
}

function uptime(text: string): number {
  return Number(text.trim().split(/\s+/)[0]);
}

describe('user namespace', () => {
  test('several uid and gid ranges show in /proc/self/uid_map and gid_map', () => {
    const bundle = userNamespaceBundle((config) => {
      config.linux.uidMappings.push({ containerID: 2000, hostID: 300000, size: 10 });
      config.linux.gidMappings.push({ containerID: 2000, hostID: 310000, size: 5 });
    });
    const output = runIn(bundle, 'cat /proc/self/uid_map; echo --; cat /proc/self/gid_map; echo --; id; readlink /proc/self/ns/user');
    const [uidMap, gidMap, rest] = output.split('--\n');
    const [id, userNs] = rest.trim().split('\n');
    expect(uidMap.trim().split('\n').map((line) => line.trim().split(/\s+/).map(Number))).toEqual([
      [0, HOST_ID_BASE, RANGE_SIZE],
      [2000, 300000, 10],
    ]);
    expect(gidMap.trim().split('\n').map((line) => line.trim().split(/\s+/).map(Number))).toEqual([
      [0, HOST_ID_BASE, RANGE_SIZE],
      [2000, 310000, 5],
    ]);
    expect(id).toBe('uid=0 gid=0');
    expect(userNs.trim()).toMatch(/^user:\[\d+\]$/);
    expect(userNs.trim()).not.toBe(hostNamespace('user'));
  });

  test('files made inside belong to the mapped host ids, for root and for a user of another range', () => {
    const bundle = userNamespaceBundle((config) => {
      config.linux.uidMappings.push({ containerID: 2000, hostID: 300000, size: 10 });
      config.linux.gidMappings.push({ containerID: 2000, hostID: 310000, size: 5 });
    });
    const data = path.join(bundle, 'rootfs', 'data');
    fs.mkdirSync(data);
    fs.chmodSync(data, 0o777);
    expect(runIn(bundle, 'touch /data/by-root && stat -c %u:%g /data/by-root')).toBe('0:0\n');
    const config = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
    config.process.user = { uid: 2003, gid: 2001 };
    fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(config));
    expect(runIn(bundle, 'touch /data/by-user && id && stat -c %u:%g /data/by-user')).toBe('uid=2003 gid=2001\n2003:2001\n');

    const byRoot = fs.statSync(path.join(data, 'by-root'));
    expect([byRoot.uid, byRoot.gid]).toEqual([HOST_ID_BASE, HOST_ID_BASE]);
    const byUser = fs.statSync(path.join(data, 'by-user'));
    expect([byUser.uid, byUser.gid]).toEqual([300003, 310001]);
  });

  test('device nodes are the host nodes bind-mounted, since mknod is refused in a user namespace', () => {
    const bundle = userNamespaceBundle();
    const output = runIn(bundle, "echo hello > /dev/null && stat -c '%F %t:%T' /dev/null /dev/zero && grep -c ' /dev/null ' /proc/self/mountinfo");
    expect(output).toBe('character special file 1:3\ncharacter special file 1:5\n1\n');
  });

  test('/sys is a fresh sysfs with a network namespace of its own, else the host /sys bound read-only', () => {
    const hostInterfaces = fs.readdirSync('/sys/class/net').sort();
    const own = userNamespaceBundle();
    expect(runIn(own, 'ls /sys/class/net').trim().split(/\s+/)).toEqual(['lo']);

    const shared = userNamespaceBundle((config) => {
      config.linux.namespaces = config.linux.namespaces.filter((ns: { type: string }) => ns.type !== 'network');
    });
    const output = runIn(shared, "ls /sys/class/net; echo --; grep ' /sys ' /proc/self/mountinfo; touch /sys/x 2>&1 || true");
    const [interfaces, mounts] = output.split('--\n');
    expect(interfaces.trim().split(/\s+/).sort()).toEqual(hostInterfaces);
    expect(mounts).toMatch(/ \/sys ro,nosuid,nodev,noexec[^ ]* (.* )?- sysfs /);
    expect(output).toMatch(/Read-only file system/);
  });

  test('a read-only root and read-only paths on a mount locked nosuid,nodev,noatime keep those flags', () => {
    // A mount made outside the user namespace keeps such flags locked; a
    // remount inside must repeat them or the kernel refuses it.
    const bundle = userNamespaceBundle((config) => {
      config.root.readonly = true;
      config.linux.readonlyPaths = ['/bin'];
      config.process.args = ['sh', '-c', "grep -E ' / | /bin ' /proc/self/mountinfo; touch /x 2>&1 || true"];
    });
    // The tmpfs exists only in a mount namespace of ocits' own, so the
    // host's mount table (which other tests compare) never changes.
    const locked = tempDir('ocits-locked-');
    const script = [
      `mount -t tmpfs -o nosuid,nodev,noatime,mode=755 tmpfs ${locked}`,
      `cp -a ${bundle}/. ${locked}`,
      `exec ${OCITS} --root ${runtime.root} run --bundle ${locked} ${nextId()}`,
    ].join(' && ');
    const result = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/ \/ ro,nosuid,nodev,noatime - tmpfs /);
    expect(result.stdout).toMatch(/ \/bin ro,nosuid,nodev,noatime - tmpfs /);
    expect(result.stdout).toMatch(/Read-only file system/);
  });

  test('exec joins the user namespace: same namespace and maps, files owned by the mapped ids', () => {
    const bundle = userNamespaceBundle();
    fs.mkdirSync(path.join(bundle, 'rootfs', 'data'), { mode: 0o777 });
    fs.chmodSync(path.join(bundle, 'rootfs', 'data'), 0o777);
    const { id, pid } = startSleeper(bundle);
    const output = runtime.ok(['exec', id, 'sh', '-c', 'readlink /proc/self/ns/user; cat /proc/self/uid_map; id; touch /data/by-exec']);
    const [userNs, uidMap, who] = output.trim().split('\n');
    expect(userNs).toBe(fs.readlinkSync(`/proc/${pid}/ns/user`));
    expect(uidMap.trim().split(/\s+/).map(Number)).toEqual([0, HOST_ID_BASE, RANGE_SIZE]);
    expect(who).toBe('uid=0 gid=0');
    expect(fs.statSync(path.join(bundle, 'rootfs', 'data', 'by-exec')).uid).toBe(HOST_ID_BASE);
    runtime.ok(['delete', '--force', id]);
  });

  test('refusals name the field', () => {
    const noMaps = userNamespaceBundle((config) => {
      delete config.linux.uidMappings;
      delete config.linux.gidMappings;
    });
    expect(refused(noMaps)).toBe('ocits: /linux/uidMappings: a new user namespace needs uid mappings\n');

    const noGidMaps = userNamespaceBundle((config) => {
      delete config.linux.gidMappings;
    });
    expect(refused(noGidMaps)).toBe('ocits: /linux/gidMappings: a new user namespace needs gid mappings\n');

    const noRoot = userNamespaceBundle((config) => {
      config.linux.uidMappings = [{ containerID: 1, hostID: HOST_ID_BASE, size: 10 }];
    });
    expect(refused(noRoot)).toBe("ocits: /linux/uidMappings: no mapping for the container's root user (containerID 0)\n");

    const unmappedUser = userNamespaceBundle((config) => {
      config.process.user = { uid: 5000, gid: 0 };
    });
    expect(refused(unmappedUser)).toBe('ocits: /process/user/uid: 5000 is not mapped by /linux/uidMappings\n');

    const withoutUserNamespace = busyboxBundle((config) => {
      config.linux.uidMappings = [{ containerID: 0, hostID: HOST_ID_BASE, size: 10 }];
      config.linux.gidMappings = [{ containerID: 0, hostID: HOST_ID_BASE, size: 10 }];
    });
    expect(refused(withoutUserNamespace)).toMatch(/^ocits: invalid config.json: \/linux\/uidMappings: id mappings need a user namespace in \/linux\/namespaces/);

    // The kernel's refusal of overlapping ranges comes back naming the file.
    const overlapping = userNamespaceBundle((config) => {
      config.linux.uidMappings.push({ containerID: 500, hostID: 400000, size: 10 });
    });
    expect(refused(overlapping)).toMatch(/^ocits: \/linux\/uidMappings: cannot write \/proc\/\d+\/uid_map: .*invalid argument/i);
  });
});

describe('time namespace', () => {
  const offsets = { boottime: { secs: 864000, nanosecs: 0 }, monotonic: { secs: 3600, nanosecs: 500 } };

  test('/proc/uptime inside shows the boottime offset; timens_offsets shows both', () => {
    const bundle = busyboxBundle((config) => {
      config.linux.namespaces.push({ type: 'time' });
      config.linux.timeOffsets = offsets;
    });
    const before = uptime(fs.readFileSync('/proc/uptime', 'utf8'));
    const output = runIn(bundle, 'cat /proc/uptime; cat /proc/self/timens_offsets; readlink /proc/self/ns/time');
    const after = uptime(fs.readFileSync('/proc/uptime', 'utf8'));
    const lines = output.trim().split('\n');
    const inside = uptime(lines[0]);
    expect(inside).toBeGreaterThanOrEqual(before + 864000);
    expect(inside).toBeLessThanOrEqual(after + 864000);
    expect(lines.slice(1, 3).map((line) => line.trim().split(/\s+/))).toEqual([
      ['monotonic', '3600', '500'],
      ['boottime', '864000', '0'],
    ]);
    expect(lines[3]).toMatch(/^time:\[\d+\]$/);
    expect(lines[3]).not.toBe(hostNamespace('time'));
  });

  test('with a user namespace too, and exec enters the time namespace', () => {
    const bundle = userNamespaceBundle((config) => {
      config.linux.namespaces.push({ type: 'time' });
      config.linux.timeOffsets = { boottime: offsets.boottime };
    });
    const { id, pid } = startSleeper(bundle);
    const before = uptime(fs.readFileSync('/proc/uptime', 'utf8'));
    const output = runtime.ok(['exec', id, 'sh', '-c', 'cat /proc/uptime; readlink /proc/self/ns/time']);
    const after = uptime(fs.readFileSync('/proc/uptime', 'utf8'));
    const [uptimeLine, ownTime] = output.trim().split('\n');
    expect(uptime(uptimeLine)).toBeGreaterThanOrEqual(before + 864000);
    expect(uptime(uptimeLine)).toBeLessThanOrEqual(after + 864000);
    expect(ownTime).toBe(fs.readlinkSync(`/proc/${pid}/ns/time`));
    expect(ownTime).not.toBe(hostNamespace('time'));
    runtime.ok(['delete', '--force', id]);
  });

  test('refusals name the field', () => {
    const noNamespace = busyboxBundle((config) => {
      config.linux.timeOffsets = offsets;
    });
    expect(refused(noNamespace)).toMatch(/^ocits: invalid config.json: \/linux\/timeOffsets: time offsets need a time namespace in \/linux\/namespaces/);

    const joined = busyboxBundle((config) => {
      config.linux.namespaces.push({ type: 'time', path: '/proc/self/ns/time' });
      config.linux.timeOffsets = offsets;
    });
    expect(refused(joined)).toMatch(/^ocits: invalid config.json: \/linux\/timeOffsets: time offsets apply only to a new time namespace/);

    const badNanoseconds = busyboxBundle((config) => {
      config.linux.namespaces.push({ type: 'time' });
      config.linux.timeOffsets = { boottime: { secs: 1, nanosecs: 1_000_000_000 } };
    });
    expect(refused(badNanoseconds)).toMatch(/\/linux\/timeOffsets\/boottime\/nanosecs/);
  });
});

describe('no mount namespace of its own', () => {
  // The runtime's is inherited (runtime-spec): the mounts go into it, below
  // the rootfs, and the root is entered with chroot.
  function sharedMountBundle(): string {
    return busyboxBundle((config) => {
      config.linux.namespaces = config.linux.namespaces.filter((ns: { type: string }) => ns.type !== 'mount');
      delete config.linux.maskedPaths;
      delete config.linux.readonlyPaths;
      config.root.readonly = false;
    });
  }
  const mountsBelow = (dir: string): string[] =>
    fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((line) => line.split(' ')[4]).filter((point) => point !== undefined && (point === dir || point.startsWith(`${dir}/`)));

  it('runs in its rootfs with its own proc and dev; exec enters the same root; delete unmounts all of it', () => {
    const bundle = sharedMountBundle();
    const rootfs = path.join(bundle, 'rootfs');
    fs.writeFileSync(path.join(rootfs, 'marker'), 'inside\n');
    expect(runIn(bundle, `readlink /proc/self/ns/mnt; cat /marker; ls /dev/null; test -e ${bundle} || echo no-host-path`).split('\n')).toEqual([
      hostNamespace('mnt'), 'inside', '/dev/null', 'no-host-path', '',
    ]);
    // The foreground run deleted it: nothing of it is left mounted.
    expect(mountsBelow(rootfs)).toEqual([]);

    const { id } = startSleeper(bundle);
    expect(mountsBelow(rootfs)).toEqual(expect.arrayContaining([rootfs, `${rootfs}/proc`, `${rootfs}/dev`, `${rootfs}/dev/pts`]));
    // Without a mount namespace to join, exec must still not see the host's root.
    expect(runtime.ok(['exec', id, 'sh', '-c', `cat /marker; test -e ${bundle} || echo no-host-path`])).toBe('inside\nno-host-path\n');
    runtime.ok(['delete', '--force', id]);
    expect(mountsBelow(rootfs)).toEqual([]);
    expect(fs.readFileSync(path.join(rootfs, 'marker'), 'utf8')).toBe('inside\n');
  });

  it('unmounts what a failed create mounted', () => {
    const bundle = sharedMountBundle();
    const config = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
    config.process.args = ['/no/such/program'];
    fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(config));
    expect(refused(bundle)).toContain('/no/such/program');
    expect(mountsBelow(path.join(bundle, 'rootfs'))).toEqual([]);
  });

  it('refuses masked paths, as runc does', () => {
    const masked = busyboxBundle((config) => {
      config.linux.namespaces = config.linux.namespaces.filter((ns: { type: string }) => ns.type !== 'mount');
    });
    expect(refused(masked)).toBe("ocits: /linux/maskedPaths: masking paths needs a mount namespace of the container's own (new or joined in /linux/namespaces)\n");
    expect(mountsBelow(path.join(masked, 'rootfs'))).toEqual([]);
  });
});

describe('joining namespaces by path', () => {
  test('B joins the network and ipc namespaces of A; the others stay its own', () => {
    const a = startSleeper(busyboxBundle());
    const bundle = busyboxBundle((config) => {
      config.linux.namespaces = config.linux.namespaces.map((ns: { type: string }) => {
        if (ns.type === 'network') return { type: 'network', path: `/proc/${a.pid}/ns/net` };
        if (ns.type === 'ipc') return { type: 'ipc', path: `/proc/${a.pid}/ns/ipc` };
        return ns;
      });
    });
    const output = runIn(bundle, 'for ns in net ipc uts pid mnt; do readlink /proc/self/ns/$ns; done');
    const [net, ipc, uts, pid, mnt] = output.trim().split('\n');
    const of = (type: string): string => fs.readlinkSync(`/proc/${a.pid}/ns/${type}`);
    expect(net).toBe(of('net'));
    expect(ipc).toBe(of('ipc'));
    expect(uts).not.toBe(of('uts'));
    expect(pid).not.toBe(of('pid'));
    expect(mnt).not.toBe(of('mnt'));
    runtime.ok(['delete', '--force', a.id]);
  });

  test('B joins the uts namespace of A and sets its hostname there, as runc does', () => {
    const a = startSleeper(busyboxBundle());
    const bundle = busyboxBundle((config) => {
      config.hostname = 'joined-host';
      config.linux.namespaces = config.linux.namespaces.map((ns: { type: string }) =>
        ns.type === 'uts' ? { type: 'uts', path: `/proc/${a.pid}/ns/uts` } : ns,
      );
    });
    expect(runIn(bundle, 'hostname; readlink /proc/self/ns/uts')).toBe(`joined-host\n${fs.readlinkSync(`/proc/${a.pid}/ns/uts`)}\n`);
    expect(runtime.run(['exec', a.id, 'hostname']).stdout).toBe('joined-host\n');
    runtime.ok(['delete', '--force', a.id]);
  });

  test('a hostname without a uts namespace of the container\'s own is refused', () => {
    const bundle = busyboxBundle((config) => {
      config.linux.namespaces = config.linux.namespaces.filter((ns: { type: string }) => ns.type !== 'uts');
    });
    const result = runtime.run(['run', '--bundle', bundle, `c${process.pid}-no-uts`]);
    expect(result).toMatchObject({ status: 1, stderr: "ocits: /hostname: setting the hostname needs a uts namespace of the container's own (new or joined)\n" });
  });

  test("B joins A's user namespace first, then its network and pid namespaces", () => {
    const a = startSleeper(userNamespaceBundle());
    const bundle = userNamespaceBundle((config) => {
      delete config.linux.uidMappings;
      delete config.linux.gidMappings;
      config.linux.namespaces = config.linux.namespaces.map((ns: { type: string }) => {
        if (ns.type === 'user') return { type: 'user', path: `/proc/${a.pid}/ns/user` };
        if (ns.type === 'network') return { type: 'network', path: `/proc/${a.pid}/ns/net` };
        if (ns.type === 'pid') return { type: 'pid', path: `/proc/${a.pid}/ns/pid` };
        return ns;
      });
    });
    const output = runIn(bundle, 'for ns in user net pid ipc; do readlink /proc/self/ns/$ns; done; cat /proc/self/uid_map; id; ps -o pid,args');
    const lines = output.trim().split('\n');
    const of = (type: string): string => fs.readlinkSync(`/proc/${a.pid}/ns/${type}`);
    expect(lines.slice(0, 3)).toEqual([of('user'), of('net'), of('pid')]);
    expect(lines[3]).not.toBe(of('ipc'));
    expect(lines[4].trim().split(/\s+/).map(Number)).toEqual([0, HOST_ID_BASE, RANGE_SIZE]);
    expect(lines[5]).toBe('uid=0 gid=0');
    // In A's pid namespace: A's init is pid 1 there.
    expect(output).toMatch(/^\s*1\s+sleep 1000$/m);
    runtime.ok(['delete', '--force', a.id]);
  });

  describe('a mount namespace', () => {
    // The namespace to join: a process of the test's own (unshare), which
    // mounts a tmpfs inside the bundle's rootfs that only its namespace has.
    // Its root is the host's, so B's rootfs path resolves there too.
    let holder: ChildProcess | undefined;
    afterAll(() => holder?.kill('SIGKILL'));

    function holdMountNamespace(onlyThere: string): Promise<number> {
      const script = `mount -t tmpfs tmpfs ${onlyThere} && echo made-by-the-holder > ${onlyThere}/file && echo ready && exec sleep 1000`;
      holder = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      const started = holder;
      return new Promise((resolve, reject) => {
        started.stdout!.once('data', () => resolve(started.pid!));
        started.once('exit', (code) => reject(new Error(`the namespace holder exited with ${code}`)));
      });
    }

    test("B joins it by path and builds its rootfs inside it: B sees the holder's tmpfs and shares its mnt namespace", async () => {
      const bundle = busyboxBundle();
      const onlyThere = path.join(bundle, 'rootfs', 'only-there');
      fs.mkdirSync(onlyThere);
      const pid = await holdMountNamespace(onlyThere);
      const config = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
      config.linux.namespaces = config.linux.namespaces.map((ns: { type: string }) =>
        ns.type === 'mount' ? { type: 'mount', path: `/proc/${pid}/ns/mnt` } : ns,
      );
      fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(config));
      const output = runIn(bundle, 'readlink /proc/self/ns/mnt; cat /only-there/file /proc/self/mountinfo');
      const [mnt, file, ...mountinfo] = output.trim().split('\n');
      expect(mnt).toBe(fs.readlinkSync(`/proc/${pid}/ns/mnt`));
      expect(mnt).not.toBe(hostNamespace('mnt'));
      expect(file).toBe('made-by-the-holder');
      // Its own root, proc and cgroup mounts, made in the joined namespace.
      const mountPoints = mountinfo.map((line) => line.split(' ')[4]);
      expect(mountPoints).toEqual(expect.arrayContaining(['/', '/proc', '/sys/fs/cgroup', '/only-there']));
      // The host never had the tmpfs.
      expect(fs.readdirSync(onlyThere)).toEqual([]);
    });
  });

  test("a namespace file of the wrong type, a file that is none, a missing file, the runtime's own mount namespace, a joined mount namespace with a new user namespace: refused by name", () => {
    const wrongType = busyboxBundle((config) => {
      config.linux.namespaces = config.linux.namespaces.map((ns: { type: string }) =>
        ns.type === 'ipc' ? { type: 'ipc', path: '/proc/self/ns/net' } : ns,
      );
    });
    const ipcIndex = JSON.parse(fs.readFileSync(path.join(wrongType, 'config.json'), 'utf8')).linux.namespaces.findIndex(
      (ns: { type: string }) => ns.type === 'ipc',
    );
    expect(refused(wrongType)).toBe(
      `ocits: /linux/namespaces/${ipcIndex}/path: /proc/self/ns/net is a network namespace, but the entry's type is ipc\n`,
    );

    const notNamespace = busyboxBundle((config) => {
      config.linux.namespaces = config.linux.namespaces.map((ns: { type: string }) =>
        ns.type === 'ipc' ? { type: 'ipc', path: '/etc/hostname' } : ns,
      );
    });
    expect(refused(notNamespace)).toBe(`ocits: /linux/namespaces/${ipcIndex}/path: /etc/hostname is not a namespace file\n`);

    const missing = busyboxBundle((config) => {
      config.linux.namespaces = config.linux.namespaces.map((ns: { type: string }) =>
        ns.type === 'ipc' ? { type: 'ipc', path: '/proc/0/ns/ipc' } : ns,
      );
    });
    expect(refused(missing)).toMatch(new RegExp(`^ocits: /linux/namespaces/${ipcIndex}/path: cannot open /proc/0/ns/ipc: .*no such file or directory`, 'i'));

    const mount = busyboxBundle((config) => {
      config.linux.namespaces = config.linux.namespaces.map((ns: { type: string }) =>
        ns.type === 'mount' ? { type: 'mount', path: '/proc/self/ns/mnt' } : ns,
      );
    });
    // pivot_root there would move every host process into the container's root.
    expect(refused(mount)).toMatch(
      /^ocits: \/linux\/namespaces\/\d+\/path: \/proc\/self\/ns\/mnt is the runtime's own mount namespace; building the rootfs there would move every process in it into the container's root \(pivot_root\)\n$/,
    );

    const mountWithNewUser = userNamespaceBundle((config) => {
      config.linux.namespaces = config.linux.namespaces.map((ns: { type: string }) =>
        ns.type === 'mount' ? { type: 'mount', path: '/proc/1/ns/mnt' } : ns,
      );
    });
    expect(refused(mountWithNewUser)).toMatch(
      /^ocits: \/linux\/namespaces\/\d+\/path: a mount namespace joined by path cannot go with a new user namespace, which would not own it: join the user namespace that does\n$/,
    );

    const joinedUserWithMaps = userNamespaceBundle((config) => {
      config.linux.namespaces = config.linux.namespaces.map((ns: { type: string }) =>
        ns.type === 'user' ? { type: 'user', path: '/proc/self/ns/user' } : ns,
      );
    });
    expect(refused(joinedUserWithMaps)).toBe(
      'ocits: /linux/uidMappings: id mappings apply only to a new user namespace, not one joined by path\n',
    );
  });
});
