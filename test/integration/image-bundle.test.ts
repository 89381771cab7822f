// `ocits bundle`: images pulled from docker-registry unpacked as umoci
// unpacks them and as the corpus's expectations say, run with `ocits run`;
// hostile layers refused; bad input leaves nothing behind.
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ImageStore } from '../../src/image/store';
import { parseMountinfo } from '../../src/mountinfo';
import { Runtime } from '../helpers/busybox';
import { ocits } from '../helpers/cli';
import { makeTar, snapshotTree, storeImage, type TreeEntry } from '../helpers/image-fixtures';
import { IMAGE_TOOLS, IMAGES_DIR, imageCorpus, startRegistry, stopRegistry, type Expectations, type RunningRegistry } from '../helpers/registry';
import { tempDir } from '../helpers/tmp';

let expectations: Expectations;
let layout: string;
let registry: RunningRegistry | undefined;
let store: string;
const runtime = new Runtime();

beforeAll(() => {
  ({ expectations, layout } = imageCorpus());
  registry = startRegistry('none', ['deb', 'deb-zstd', 'tiny', 'multi']);
  store = tempDir();
  for (const [ref, extra] of [['deb', []], ['deb-zstd', []], ['tiny', []], ['multi', ['--platform', 'linux/arm64']]] as const) {
    const result = ocits(['pull', '--store', store, '--tls-verify=false', '-q', ...extra, `${registry.address}/test/${ref}`]);
    if (result.status !== 0) throw new Error(result.stderr);
  }
}, 300_000);

afterAll(() => {
  runtime.cleanUp();
  stopRegistry(registry);
});

/** Bundles a corpus image ("deb") as pulled from the test registry. */
function bundle(ref: string, dir: string, extra: string[] = []) {
  return ocits(['bundle', '--store', store, ...extra, `${registry!.address}/test/${ref}`, dir]);
}

function bundleOk(ref: string, extra: string[] = []): string {
  const dir = path.join(tempDir(), 'bundle');
  const result = bundle(ref, dir, extra);
  if (result.status !== 0) throw new Error(result.stderr);
  expect(result.stderr).toBe('');
  return dir;
}

function verifyRootfs(rootfs: string, image: string): string {
  const result = spawnSync(path.join(IMAGE_TOOLS, 'verify-rootfs.sh'), ['-q', rootfs, image, path.join(IMAGES_DIR, 'expectations.json')], { encoding: 'utf8' });
  expect(result.stdout).not.toContain('FAIL');
  expect(result.status).toBe(0);
  return result.stdout;
}

function expectSameTrees(ours: string, theirs: string): void {
  const a = snapshotTree(ours);
  const b = snapshotTree(theirs);
  const differences: string[] = [];
  for (const [file, entry] of b) if (JSON.stringify(a.get(file)) !== JSON.stringify(entry)) differences.push(`${file}: ours ${JSON.stringify(a.get(file))}, theirs ${JSON.stringify(entry)}`);
  for (const file of a.keys()) if (!b.has(file)) differences.push(`${file}: only ours`);
  expect(differences.slice(0, 20)).toEqual([]);
  expect(a.size).toBeGreaterThan(1000);
}

describe('ocits bundle of the Debian image', () => {
  let deb: string;
  beforeAll(() => {
    deb = bundleOk('deb');
  }, 120_000);

  test('holds every item of the expectations file', () => {
    expect(verifyRootfs(path.join(deb, 'rootfs'), 'deb')).toMatch(/\d+ passed, 0 failed/);
  });

  test('equals umoci unpack of the same image, entry by entry', () => {
    const umoci = path.join(tempDir(), 'umoci');
    const result = spawnSync('umoci', ['unpack', '--image', `${layout}:deb`, umoci], { encoding: 'utf8' });
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.status).toBe(0);
    expectSameTrees(path.join(deb, 'rootfs'), path.join(umoci, 'rootfs'));
  }, 120_000);

  test('the zstd twin unpacks to the same tree', () => {
    expectSameTrees(path.join(bundleOk('deb-zstd'), 'rootfs'), path.join(deb, 'rootfs'));
  }, 120_000);

  test('config.json follows conversion.md and passes ocits validate', () => {
    expect(ocits(['validate', '--bundle', deb]).status).toBe(0);
    const config = JSON.parse(fs.readFileSync(path.join(deb, 'config.json'), 'utf8'));
    const image = expectations.images.deb.config as { Entrypoint: string[]; Cmd: string[]; Env: string[]; WorkingDir: string; Labels: Record<string, string> };
    expect(config.process.args).toEqual([...image.Entrypoint, ...image.Cmd]);
    expect(config.process.env.slice(0, image.Env.length)).toEqual(image.Env);
    expect(config.process.cwd).toBe(image.WorkingDir);
    expect(config.process.user).toEqual({ uid: 1000, gid: 1000 });
    expect(config.root).toEqual({ path: 'rootfs', readonly: true });
    expect(config.annotations).toMatchObject({
      ...image.Labels,
      'org.opencontainers.image.os': 'linux',
      'org.opencontainers.image.architecture': 'amd64',
      'org.opencontainers.image.stopSignal': 'SIGQUIT',
      'org.opencontainers.image.exposedPorts': '5353/udp,8080/tcp,8443/tcp',
    });
    // Volumes: umoci's tmpfs mounts, seeded from the image (tmpcopyup).
    const umoci = path.join(tempDir(), 'umoci');
    expect(spawnSync('umoci', ['unpack', '--image', `${layout}:deb`, umoci]).status).toBe(0);
    const volumes = Object.keys((expectations.images.deb.config as { Volumes: Record<string, object> }).Volumes);
    // umoci's order is Go's map order, which varies.
    const volumeMounts = (mounts: Array<{ destination: string; options: string[] }>) =>
      mounts.filter((mount) => volumes.includes(mount.destination)).sort((a, b) => a.destination.localeCompare(b.destination));
    const theirs = volumeMounts(JSON.parse(fs.readFileSync(path.join(umoci, 'config.json'), 'utf8')).mounts);
    expect(theirs).toHaveLength(volumes.length);
    expect(volumeMounts(config.mounts)).toEqual(theirs.map((mount) => ({ ...mount, options: [...mount.options, 'tmpcopyup'] })));
  }, 120_000);

  test("a volume holds the image's files, and what the container writes there stays out of the rootfs", () => {
    const configFile = path.join(deb, 'config.json');
    const original = fs.readFileSync(configFile, 'utf8');
    const config = JSON.parse(original);
    config.process.args = ['/bin/sh', '-c', 'cat /data/owned-by-app.txt && echo new > /data/written && echo wrote'];
    fs.writeFileSync(configFile, JSON.stringify(config));
    try {
      const result = runtime.run(['run', '--bundle', deb, `img-deb-volume-${process.pid}`]);
      expect(result.stderr).toBe('');
      expect(result.stdout).toBe('data of app\nwrote\n');
      expect(fs.existsSync(path.join(deb, 'rootfs', 'data', 'written'))).toBe(false);
    } finally {
      fs.writeFileSync(configFile, original);
    }
  });

  test('ocits run runs its Entrypoint and Cmd as the image user, and cat /etc/debian_version; id as root', () => {
    const run = expectations.images.deb.run!;
    const id = `img-deb-${process.pid}`;
    const result = runtime.run(['run', '--bundle', deb, id]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(run.find((r) => r.image_default)!.stdout);

    const asRoot = run.find((r) => r.args !== undefined)!;
    const configFile = path.join(deb, 'config.json');
    const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
    fs.writeFileSync(configFile, JSON.stringify({ ...config, process: { ...config.process, args: asRoot.args, cwd: '/', user: { uid: asRoot.uid, gid: asRoot.gid } } }));
    const second = runtime.run(['run', '--bundle', deb, `${id}-root`]);
    expect(second.stdout).toBe(asRoot.stdout);
    expect(second.stdout).toContain(expectations.source.debian_version);
  });
});

describe('ocits bundle --overlay', () => {
  // Unmounted whatever a test did: a mount left behind would outlive the run.
  const mounted: string[] = [];
  afterAll(() => {
    for (const rootfs of mounted) spawnSync('umount', [rootfs]);
  });

  function overlayBundleOk(ref: string, storeDir = store): string {
    const dir = path.join(tempDir(), 'bundle');
    const result = ocits(['bundle', '--store', storeDir, '--overlay', `${registry!.address}/test/${ref}`, dir]);
    if (result.status === 0) mounted.push(path.join(dir, 'rootfs'));
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    return dir;
  }

  /** The lower layers of the overlay mounted on rootfs, from mountinfo. */
  function lowerOf(rootfs: string): string | undefined {
    const mount = parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8')).find((m) => m.mountPoint === rootfs && m.fstype === 'overlay');
    return mount?.superOptions.find((option) => option.startsWith('lowerdir='))?.slice('lowerdir='.length);
  }

  const unpackedCopies = (storeDir: string): string[] => {
    const dir = path.join(storeDir, '.ocits', 'rootfs');
    return fs.existsSync(dir) ? fs.readdirSync(dir).map((name) => path.join(dir, name)) : [];
  };

  test("mounts an overlay over the store's unpacked copy, holding the tree a plain bundle holds", () => {
    const plain = bundleOk('deb');
    const overlay = overlayBundleOk('deb');
    const [copy] = unpackedCopies(store);
    expect(lowerOf(path.join(overlay, 'rootfs'))).toBe(copy);
    expect(fs.statSync(path.join(store, '.ocits', 'rootfs')).mode & 0o777).toBe(0o700);
    expectSameTrees(path.join(overlay, 'rootfs'), path.join(plain, 'rootfs'));
    expect(fs.readFileSync(path.join(overlay, 'config.json'), 'utf8')).toBe(fs.readFileSync(path.join(plain, 'config.json'), 'utf8'));
  });

  test('a second bundle mounts the same copy, and what its container writes stays in that bundle', () => {
    const first = overlayBundleOk('deb');
    const [copy] = unpackedCopies(store);
    const before = fs.statSync(copy);
    const second = overlayBundleOk('deb');
    expect(unpackedCopies(store)).toEqual([copy]);
    expect(fs.statSync(copy)).toMatchObject({ ino: before.ino, ctimeMs: before.ctimeMs });

    const configFile = path.join(second, 'config.json');
    const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
    config.process.args = ['/bin/sh', '-c', 'echo written > /etc/marker && rm /etc/debian_version && echo done'];
    config.process.user = { uid: 0, gid: 0 };
    config.root.readonly = false;
    fs.writeFileSync(configFile, JSON.stringify(config));
    expect(runtime.run(['run', '--bundle', second, `img-overlay-${process.pid}`]).stdout).toBe('done\n');
    expect(fs.readFileSync(path.join(second, 'overlay', 'upper', 'etc', 'marker'), 'utf8')).toBe('written\n');
    for (const untouched of [copy, path.join(first, 'rootfs')]) {
      expect(fs.existsSync(path.join(untouched, 'etc', 'marker'))).toBe(false);
      expect(fs.existsSync(path.join(untouched, 'etc', 'debian_version'))).toBe(true);
    }
  });

  test('image prune keeps a copy an overlay uses, and removes it once the image is gone and unmounted', () => {
    const own = tempDir();
    expect(ocits(['pull', '--store', own, '--tls-verify=false', '-q', `${registry!.address}/test/tiny`]).status).toBe(0);
    const dir = overlayBundleOk('tiny', own);
    const [copy] = unpackedCopies(own);
    const digest = path.basename(copy).replace('-', ':');
    expect(ocits(['rmi', '--store', own, `${registry!.address}/test/tiny`]).status).toBe(0);
    expect(ocits(['image', 'prune', '--store', own]).stdout).not.toContain('unpacked');
    expect(fs.existsSync(path.join(copy, 'bin', 'busybox'))).toBe(true);
    expect(spawnSync('umount', [path.join(dir, 'rootfs')]).status).toBe(0);
    // What a bundle killed while unpacking leaves: prune removes it too.
    fs.mkdirSync(path.join(own, '.ocits', 'rootfs', 'partial-999999-killed', 'etc'), { recursive: true });
    const pruned = ocits(['image', 'prune', '--store', own]);
    expect(pruned.stdout).toMatch(new RegExp(`^unpacked ${digest}\nfreed [1-9]`, 'm'));
    expect(unpackedCopies(own)).toEqual([]);
  });

  test('a copy in a directory others may write is refused, not mounted', () => {
    overlayBundleOk('deb');
    const parent = path.join(store, '.ocits', 'rootfs');
    fs.chmodSync(parent, 0o777);
    try {
      const dir = path.join(tempDir(), 'bundle');
      const result = bundle('deb', dir, ['--overlay']);
      expect(result.stderr).toBe(`ocits: refusing the unpacked image ${parent}: not a directory of ours that only we may write; remove it\n`);
      expect(result.status).toBe(1);
      expect(fs.readdirSync(path.dirname(dir))).toEqual([]);
    } finally {
      fs.chmodSync(parent, 0o700);
    }
  });

  test('--overlay with --rootless is refused, leaving nothing', () => {
    const dir = path.join(tempDir(), 'bundle');
    const result = bundle('tiny', dir, ['--overlay', '--rootless']);
    expect(result.stderr).toBe('ocits: --overlay needs root to mount the overlay; --rootless unpacks instead\n');
    expect(result.status).toBe(1);
    expect(fs.existsSync(dir)).toBe(false);
  });
});

describe('ocits bundle of the other images', () => {
  test('tiny: busybox with hard-linked applets, run', () => {
    const tiny = bundleOk('tiny');
    verifyRootfs(path.join(tiny, 'rootfs'), 'tiny');
    const run = expectations.images.tiny.run![0];
    const configFile = path.join(tiny, 'config.json');
    const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
    fs.writeFileSync(configFile, JSON.stringify({ ...config, process: { ...config.process, args: run.args } }));
    const id = `img-tiny-${process.pid}`;
    expect(runtime.run(['run', '--bundle', tiny, id]).stdout).toBe(run.stdout);
  });

  test('--platform linux/arm64 unpacks the arm64 image of the index', () => {
    const multi = bundleOk('multi', ['--platform', 'linux/arm64']);
    verifyRootfs(path.join(multi, 'rootfs'), 'multi@linux/arm64/v8');
  });

  test('a platform the stored image is not for is refused', () => {
    const dir = path.join(tempDir(), 'bundle');
    const result = bundle('multi', dir, ['--platform', 'linux/amd64']);
    expect(result.stderr).toMatch(/^ocits: .*test\/multi:latest is for linux\/arm64, not linux\/amd64; pull it with --platform linux\/amd64\n$/);
    expect(fs.existsSync(dir)).toBe(false);
  });
});

describe('ocits bundle --rootless', () => {
  test('unpacks what an unprivileged user can and writes a user-namespace config', () => {
    const dir = bundleOk('deb', ['--rootless']);
    const result = spawnSync(path.join(IMAGE_TOOLS, 'verify-rootfs.sh'), ['--rootless', '-q', path.join(dir, 'rootfs'), 'deb', path.join(IMAGES_DIR, 'expectations.json')], { encoding: 'utf8' });
    expect(result.stdout).not.toContain('FAIL');
    expect(result.status).toBe(0);
    // Device nodes need privilege: an empty file keeps the name.
    const device = fs.lstatSync(path.join(dir, 'rootfs', 'opt', 'ocits', 'dev', 'null-copy'));
    expect([device.isFile(), device.size]).toEqual([true, 0]);
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    expect(config.linux.namespaces.map((n: { type: string }) => n.type)).toContain('user');
    expect(config.linux.uidMappings).toEqual([{ containerID: 0, hostID: process.geteuid!(), size: 1 }]);
    expect(ocits(['validate', '--bundle', dir]).status).toBe(0);
  }, 120_000);
});

describe('bad input leaves nothing behind', () => {
  test('a DIR that is not empty is refused and kept as it was', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'keep'), 'mine');
    const result = bundle('tiny', dir);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(`ocits: bundle directory ${dir} is not empty\n`);
    expect(fs.readdirSync(dir)).toEqual(['keep']);
  });

  test('an image that is not in the store', () => {
    const dir = path.join(tempDir(), 'bundle');
    const result = ocits(['bundle', '--store', store, 'busybox', dir]);
    expect(result.stderr).toBe(`ocits: image docker.io/library/busybox:latest is not in the store ${store}; pull it first\n`);
    expect(result.status).toBe(1);
    expect(fs.existsSync(dir)).toBe(false);
  });

  test('a malformed reference', () => {
    const result = ocits(['bundle', '--store', store, 'Bad::ref', path.join(tempDir(), 'bundle')]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^ocits: invalid image reference "Bad::ref"/);
  });
});

describe('hostile layers are refused, naming the layer and the entry', () => {
  let hostileStore: ImageStore;
  let outside: string;
  beforeAll(() => {
    hostileStore = new ImageStore(tempDir());
    outside = fs.mkdtempSync(path.join(os.tmpdir(), 'ocits-outside-'));
    fs.writeFileSync(path.join(outside, 'victim'), 'untouched');
  });
  afterAll(() => fs.rmSync(outside, { recursive: true, force: true }));

  const base = () => makeTar([{ name: 'etc/', type: 'dir' }, { name: 'etc/hostname', content: 'ok\n' }]);
  const cases: Array<[string, () => Buffer[], RegExp]> = [
    ['a ../ name', () => [makeTar([{ name: '../../../escaped', content: 'x' }])], /layer 1 \(sha256:[0-9a-f]{64}\), entry "..\/..\/..\/escaped": name "..\/..\/..\/escaped" with ".." is refused/],
    ['an absolute name', () => [makeTar([{ name: '/tmp/escaped', content: 'x' }])], /layer 1 .*, entry "\/tmp\/escaped": absolute name "\/tmp\/escaped" is refused/],
    ['a symlink followed by a path through it', () => [makeTar([{ name: 'out', type: 'symlink', linkname: outside }, { name: 'out/victim', content: 'owned' }])], /layer 1 .*, entry "out\/victim": path goes through the symlink \/out/],
    ['a path through a lower layer\'s symlink', () => [base(), makeTar([{ name: 'up', type: 'symlink', linkname: '..' }]), makeTar([{ name: 'up/escaped', content: 'x' }])], /layer 3 .*, entry "up\/escaped": path goes through the symlink \/up/],
    ['a hard link to an outside path', () => [makeTar([{ name: 'passwd', type: 'hardlink', linkname: '../../../etc/passwd' }])], /layer 1 .*, entry "passwd": hard link target "..\/..\/..\/etc\/passwd" with ".." is refused/],
    ['a hard link to an absolute path', () => [makeTar([{ name: 'passwd', type: 'hardlink', linkname: '/etc/passwd' }])], /layer 1 .*, entry "passwd": absolute hard link target "\/etc\/passwd" is refused/],
    ['a hard link through a symlink', () => [makeTar([{ name: 'out', type: 'symlink', linkname: outside }, { name: 'stolen', type: 'hardlink', linkname: 'out/victim' }])], /entry "stolen": path goes through the symlink \/out/],
    ['a whiteout that names an outside path', () => [makeTar([{ name: 'out', type: 'symlink', linkname: outside }]), makeTar([{ name: 'out/.wh.victim' }])], /layer 2 .*, entry "out\/.wh.victim": path goes through the symlink \/out/],
    ['a whiteout with ..', () => [makeTar([{ name: '../.wh.victim' }])], /with ".." is refused/],
    ['a layer that is not a tar', () => [Buffer.alloc(1024, 'x')], /layer 1 \(sha256:[0-9a-f]{64}\): invalid tar header checksum/],
    ['a truncated layer', () => [makeTar([{ name: 'big', content: 'y'.repeat(5000) }]).subarray(0, 2048)], /layer 1 .*, entry "big": tar stream ends inside entry "big"/],
  ];

  test.each(cases)('%s', (_what, layers, message) => {
    const name = `hostile/${_what.replace(/[^a-z]+/g, '-').replace(/^-|-$/g, '')}:latest`;
    storeImage(hostileStore, name, layers());
    const dir = path.join(tempDir(), 'bundle');
    const result = ocits(['bundle', '--store', hostileStore.root, name, dir]);
    expect(result.status).toBe(1);
    expect(result.stderr.split('\n')).toHaveLength(2);
    expect(result.stderr).toMatch(message);
    expect(fs.existsSync(dir)).toBe(false);
    expect(fs.readdirSync(outside)).toEqual(['victim']);
    expect(fs.readFileSync(path.join(outside, 'victim'), 'utf8')).toBe('untouched');
    for (const escaped of ['/escaped', '/tmp/escaped', path.join(os.tmpdir(), '..', 'escaped')]) expect(fs.existsSync(escaped)).toBe(false);
  });

  test('a directory entry replaces a lower layer\'s symlink instead of writing through it', () => {
    const name = 'hostile/merged-usr:latest';
    storeImage(hostileStore, name, [
      makeTar([{ name: 'usr/', type: 'dir' }, { name: 'usr/bin/', type: 'dir' }, { name: 'usr/bin/sh', content: 'lower sh' }, { name: 'bin', type: 'symlink', linkname: 'usr/bin' }]),
      makeTar([{ name: 'bin/', type: 'dir' }, { name: 'bin/tool', content: 'upper tool' }]),
    ]);
    const dir = path.join(tempDir(), 'bundle');
    expect(ocits(['bundle', '--store', hostileStore.root, name, dir]).stderr).toBe('');
    const rootfs = path.join(dir, 'rootfs');
    expect(fs.lstatSync(path.join(rootfs, 'bin')).isDirectory()).toBe(true);
    expect(fs.readFileSync(path.join(rootfs, 'bin', 'tool'), 'utf8')).toBe('upper tool');
    expect(fs.readdirSync(path.join(rootfs, 'usr', 'bin'))).toEqual(['sh']);
  });
});

// A later layer's removals are not written at all (layer-shadows.ts): the
// tree must come out as if every layer had been applied in full.
describe('entries a later layer removes', () => {
  let layeredStore: ImageStore;
  beforeAll(() => {
    layeredStore = new ImageStore(tempDir());
  });

  function bundleTree(name: string, layers: Buffer[]): Map<string, TreeEntry> {
    storeImage(layeredStore, name, layers);
    const dir = path.join(tempDir(), 'bundle');
    const result = ocits(['bundle', '--store', layeredStore.root, name, dir]);
    expect(result.stderr).toBe('');
    return snapshotTree(path.join(dir, 'rootfs'));
  }
  const content = (tree: Map<string, TreeEntry>, file: string, text: string): void =>
    expect(tree.get(file)?.sha256).toBe(crypto.createHash('sha256').update(text).digest('hex'));

  test('whiteouts, opaque directories and replacements leave the tree a full apply leaves', () => {
    const tree = bundleTree('layered/rules:latest', [
      makeTar([
        { name: 'gone/', type: 'dir' },
        { name: 'gone/a', content: 'a' },
        { name: 'gone/sub/', type: 'dir' },
        { name: 'gone/sub/b', content: 'b' },
        { name: 'replaced', content: 'old' },
        { name: 'opaque/', type: 'dir' },
        { name: 'opaque/lower', content: 'lower' },
        { name: 'to-dir', type: 'symlink', linkname: 'usr' },
        { name: 'file-to-dir', content: 'file' },
        { name: 'kept/', type: 'dir', mode: 0o750 },
        { name: 'kept/file', content: 'kept' },
        { name: 'everything/', type: 'dir' },
        { name: 'everything/lower', content: 'lower' },
      ]),
      makeTar([
        { name: '.wh.gone' },
        { name: 'replaced', content: 'new' },
        { name: 'opaque/.wh..wh..opq' },
        { name: 'opaque/upper', content: 'upper' },
        { name: 'to-dir/', type: 'dir' },
        { name: 'file-to-dir/', type: 'dir' },
        { name: 'file-to-dir/x', content: 'x' },
        { name: 'kept/', type: 'dir', mode: 0o755 },
      ]),
      makeTar([{ name: 'everything/.wh..wh..opq' }, { name: 'everything/upper', content: 'upper' }]),
    ]);
    expect([...tree.keys()].sort()).toEqual(
      ['/', '/everything', '/everything/upper', '/file-to-dir', '/file-to-dir/x', '/kept', '/kept/file', '/opaque', '/opaque/upper', '/replaced', '/to-dir'].sort(),
    );
    content(tree, '/replaced', 'new');
    content(tree, '/kept/file', 'kept');
    expect([tree.get('/to-dir')?.type, tree.get('/file-to-dir')?.type, tree.get('/kept')?.mode]).toEqual(['dir', 'dir', '755']);
  });

  test('a hard link to an entry removed later still gets its content, in its own layer or a later one', () => {
    const tree = bundleTree('layered/links:latest', [
      makeTar([
        { name: 'docs/', type: 'dir' },
        { name: 'docs/original', content: 'shared' },
        { name: 'keeper', type: 'hardlink', linkname: 'docs/original' },
        { name: 'lower', content: 'lower' },
      ]),
      makeTar([{ name: 'later-keeper', type: 'hardlink', linkname: 'lower' }]),
      makeTar([{ name: '.wh.docs' }, { name: '.wh.lower' }]),
    ]);
    expect([...tree.keys()].sort()).toEqual(['/', '/keeper', '/later-keeper']);
    content(tree, '/keeper', 'shared');
    content(tree, '/later-keeper', 'lower');
  });
});
