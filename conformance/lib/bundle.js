// Bundles for the cases: a rootfs holding busybox-static (Debian's
// busybox-static package installs it as /bin/busybox) with a link per applet,
// and a config.json written here rather than by the runtime's `spec`, so the
// suite does not trust the runtime under test to describe a sane container.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const BUSYBOX = process.env.CONFORMANCE_BUSYBOX || '/bin/busybox';

let applets;
/** The applets this busybox provides, asked once. */
function busyboxApplets() {
  if (applets) return applets;
  const result = spawnSync(BUSYBOX, ['--list'], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${BUSYBOX} --list failed; install busybox-static`);
  applets = result.stdout.split('\n').filter((name) => name !== '' && name !== 'busybox');
  return applets;
}

/** The capabilities the default config grants (runc's `spec` default set). */
const DEFAULT_CAPABILITIES = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

/** A configuration like runc's `spec` output, with the terminal off. */
function defaultConfig() {
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: ['sh', '-c', 'true'],
      env: ['PATH=/bin'],
      cwd: '/',
      capabilities: {
        bounding: [...DEFAULT_CAPABILITIES],
        effective: [...DEFAULT_CAPABILITIES],
        permitted: [...DEFAULT_CAPABILITIES],
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: false },
    hostname: 'conformance',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'],
      },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777', 'size=16m'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }],
      maskedPaths: ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/sys/firmware'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

/**
 * Makes DIR/NAME with rootfs/ and config.json. `change(config, bundle)` edits
 * the default config and may add files to the bundle; the config is written
 * after it returns.
 */
function makeBundle(dir, name, change = () => {}) {
  const bundle = path.join(dir, name);
  const rootfs = path.join(bundle, 'rootfs');
  const bin = path.join(rootfs, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  for (const sub of ['proc', 'sys', 'dev', 'etc', 'root']) fs.mkdirSync(path.join(rootfs, sub));
  // runc gives a tmpfs the mode of the directory it covers, whatever its options say.
  fs.mkdirSync(path.join(rootfs, 'tmp'), { mode: 0o1777 });
  fs.chmodSync(path.join(rootfs, 'tmp'), 0o1777);
  fs.copyFileSync(BUSYBOX, path.join(bin, 'busybox'));
  fs.chmodSync(path.join(bin, 'busybox'), 0o755);
  for (const applet of busyboxApplets()) fs.symlinkSync('busybox', path.join(bin, applet));
  const config = defaultConfig();
  change(config, bundle);
  fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(config, null, 2));
  return bundle;
}

/** Writes an executable file (a script) at `file`, making its directory. */
function writeExecutable(file, text) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text, { mode: 0o755 });
}

module.exports = { makeBundle, defaultConfig, writeExecutable, DEFAULT_CAPABILITIES };
