// The container's root filesystem as the init process builds it
// (addon/init/rootfs.cc): the config's mounts with their flags, /dev's
// device nodes and links, masked and read-only paths, the root's
// propagation. Every path is relative to the rootfs.
import * as path from 'node:path';
import {
  CHROOT, type DeviceNode, ENSURE_DIRECTORY, ENSURE_FILE, ENSURE_PLAIN_DIRECTORY, MOVE_ROOT, type MountIdmap, type MountStep, PIVOT_ROOT,
  type RootEntry, type Symlink,
} from '../addon-plan';
import type { CgroupMountStep } from '../cgroups/mount';
import { OcitsError, quoted } from '../errors';
import { isWithin, type MountEntry } from '../mountinfo';
import type { Mount, RuntimeConfig } from '../spec/types';
import { type Idmap, MS, PROPAGATIONS, parseMountOptions } from './mount-options';
import { labelMountData, planMountLabel } from './lsm';
import type { PlanHost } from './host';
import type { NamespacePlan } from './namespaces';

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;
// The per-mount flags a bind remount can set.
const REMOUNTABLE = MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.NOATIME | MS.NODIRATIME | MS.RELATIME | MS.STRICTATIME;

// runc creates these in every container whose /dev it sets up.
const DEFAULT_DEVICES: ReadonlyArray<[string, number, number]> = [
  ['dev/null', 1, 3],
  ['dev/zero', 1, 5],
  ['dev/full', 1, 7],
  ['dev/random', 1, 8],
  ['dev/urandom', 1, 9],
  ['dev/tty', 5, 0],
];

/** A path inside the container, made relative to its root ("" for / itself). */
export function inRoot(containerPath: string): string {
  return path.posix.normalize(`/${containerPath}`).replace(/^\/+/, '').replace(/\/+$/, '');
}

/** The rootfs part of the init's plan. */
export interface RootfsPlan {
  rootfs: string;
  rootPropagation: number;
  rootfsParentMount: string | null;
  rootEntry: RootEntry;
  hiddenMounts: string[];
  readonlyRoot: boolean;
  /**
   * Nonzero: remount /dev with these flags once its submounts, nodes and
   * links are in place (a read-only /dev, which runc makes read-only last).
   */
  devRemount: number;
  mounts: MountStep[];
  devices: DeviceNode[];
  symlinks: Symlink[];
  maskedPaths: string[];
  readonlyPaths: string[];
}

/** What the rootfs plan needs besides the config. */
export interface RootfsContext {
  bundleDir: string;
  rootfs: string;
  /** --no-pivot: move the rootfs onto / and chroot, for roots pivot_root refuses (a ramdisk). */
  noPivot: boolean;
  cgroupMountSteps(cgroupNamespace: boolean): CgroupMountStep[];
}

export function planRootfs(config: RuntimeConfig, context: RootfsContext, namespaces: NamespacePlan, host: PlanHost): RootfsPlan {
  const linux = config.linux ?? {};
  const mounts = planMounts(config.mounts ?? [], context, namespaces.unshareCgroup, planMountLabel(host, linux.mountLabel), containerIdmap(namespaces), host);
  const setUpDev = !(config.mounts ?? []).some(
    (mount) => inRoot(mount.destination) === 'dev' && isBind(mount),
  );
  const ownMountNamespace = (linux.namespaces ?? []).some((namespace) => namespace.type === 'mount');
  if (!ownMountNamespace) refuseWithoutMountNamespace(config, namespaces);
  const rootEntry = !ownMountNamespace ? CHROOT : context.noPivot ? MOVE_ROOT : PIVOT_ROOT;
  if (rootEntry === MOVE_ROOT && !namespaces.newTypes.has('mount')) {
    // Its mounts are not ours to read, so neither are the ones to hide.
    throw new OcitsError('--no-pivot: not supported by ocits with a joined mount namespace (/linux/namespaces)');
  }
  // In the runtime's own mount namespace, nothing of the host's may change.
  const rootPropagation = !ownMountNamespace
    ? 0
    : linux.rootfsPropagation !== undefined ? PROPAGATIONS.get(linux.rootfsPropagation)! : MS.SLAVE | MS.REC;
  // A read-only /dev is mounted writable: /dev/pts, /dev/shm and the nodes
  // go into it first; the init makes it read-only after them.
  let devRemount = 0;
  for (const step of mounts.steps) {
    if (step.target !== 'dev' || step.fstype === null || (step.flags & MS.RDONLY) === 0) continue;
    devRemount = MS.BIND | MS.REMOUNT | (step.flags & REMOUNTABLE);
    step.flags &= ~MS.RDONLY;
    if (step.remount !== 0) step.remount &= ~MS.RDONLY; // a tmpcopyup /dev, read-only after its copy
  }
  // Read at most once, and only by the plans that need it.
  let hostMounts: MountEntry[] | undefined;
  const mountsOfHost = (): MountEntry[] => (hostMounts ??= host.mounts());
  return {
    rootfs: context.rootfs,
    rootPropagation,
    rootfsParentMount: (rootPropagation & MS.SHARED) !== 0 ? mountPointOf(context.rootfs, mountsOfHost()) : null,
    rootEntry,
    hiddenMounts: rootEntry === MOVE_ROOT ? revealingMounts(context.rootfs, mountsOfHost()) : [],
    readonlyRoot: config.root.readonly === true,
    devRemount,
    mounts: mounts.steps,
    devices: setUpDev ? planDevices(config, namespaces.userNamespace) : [],
    symlinks: [...mounts.symlinks, ...(setUpDev ? devSymlinks(host) : [])],
    maskedPaths: (linux.maskedPaths ?? []).map(inRoot),
    readonlyPaths: (linux.readonlyPaths ?? []).map(inRoot),
  };
}

function isBind(mount: Mount): boolean {
  const options = mount.options ?? [];
  return mount.type === 'bind' || options.includes('bind') || options.includes('rbind');
}

function planMounts(
  mounts: readonly Mount[],
  context: RootfsContext,
  cgroupNamespace: boolean,
  mountLabel: string | null,
  containerMapping: ContainerIdmap,
  host: PlanHost,
): { steps: MountStep[]; symlinks: Symlink[] } {
  const steps: MountStep[] = [];
  const symlinks: Symlink[] = [];
  mounts.forEach((mount, index) => {
    const where = `/mounts/${index}`;
    const target = inRoot(mount.destination);
    const options = parseMountOptions(mount.options ?? [], `${where}/options`);
    const base = {
      configIndex: index,
      propagation: options.propagation,
      attrSet: options.attrSet,
      attrClr: options.attrClr,
      idmap: planIdmap(mount, options.idmap, (options.flags & MS.REC) !== 0, where, containerMapping),
      copyUp: false,
      fallbackSource: null,
      fallbackRemount: 0,
    };
    if (base.idmap !== null && !isBind(mount)) {
      throw new OcitsError(`${where}/options: an idmapped mount must be a bind mount`);
    }
    if (options.copyUp && mount.type !== 'tmpfs') {
      throw new OcitsError(`${where}/options: tmpcopyup applies only to a tmpfs mount`);
    }
    if (isBind(mount)) {
      if (mount.source === undefined) throw new OcitsError(`${where}/source: a bind mount needs a source`);
      const source = path.resolve(context.bundleDir, mount.source);
      const kind = host.pathKind(source);
      if (kind === undefined) throw new OcitsError(`${where}/source: ${quoted(source)} does not exist`);
      const flags = options.flags | MS.BIND;
      // A bind ignores every flag but MS_REC; a remount applies the rest.
      const extra = flags & ~(MS.BIND | MS.REC | MS.REMOUNT);
      steps.push({
        ...base,
        source,
        target,
        fstype: null,
        flags: flags & (MS.BIND | MS.REC),
        data: options.data,
        remount: extra !== 0 ? MS.BIND | MS.REMOUNT | extra : 0,
        ensure: kind === 'directory' ? ENSURE_DIRECTORY : ENSURE_FILE,
      });
      return;
    }
    if (mount.type === undefined) throw new OcitsError(`${where}/type: a mount that is not a bind needs a type`);
    if (mount.type === 'cgroup') {
      expandCgroupMount(context.cgroupMountSteps(cgroupNamespace), target, options.flags, index, steps, symlinks);
      return;
    }
    // A copy needs a writable tmpfs; a read-only one is made so afterwards.
    const readOnlyAfterCopy = options.copyUp && (options.flags & MS.RDONLY) !== 0;
    steps.push({
      ...base,
      source: mount.source ?? mount.type,
      target,
      fstype: mount.type,
      flags: readOnlyAfterCopy ? options.flags & ~MS.RDONLY : options.flags,
      data: labelMountData(options.data, mount.type, mountLabel),
      remount: readOnlyAfterCopy ? MS.BIND | MS.REMOUNT | options.flags : 0,
      // proc and sysfs never through a symlink, as runc refuses: a rootfs
      // whose /proc leads elsewhere would get an unmasked proc there.
      ensure: mount.type === 'proc' || mount.type === 'sysfs' ? ENSURE_PLAIN_DIRECTORY : ENSURE_DIRECTORY,
      copyUp: options.copyUp,
      // A user namespace may mount sysfs only with a network namespace it
      // owns; without one, the host's /sys with the mount's flags (runc).
      ...(mount.type === 'sysfs' ? { fallbackSource: '/sys', fallbackRemount: MS.BIND | MS.REMOUNT | (options.flags & REMOUNTABLE) } : {}),
    });
  });
  return { steps, symlinks };
}

// The container's /sys/fs/cgroup: a tmpfs holding one mount per hierarchy on
// v1, or one cgroup2 mount on v2, each with the config mount's flags.
function expandCgroupMount(
  cgroupSteps: CgroupMountStep[],
  target: string,
  flags: number,
  configIndex: number,
  steps: MountStep[],
  symlinks: Symlink[],
): void {
  const at = (relative: string): string => (relative === '' ? target : `${target}/${relative}`);
  const common = {
    configIndex, propagation: 0, attrSet: 0, attrClr: 0, idmap: null, remount: 0, ensure: ENSURE_DIRECTORY, data: null,
    copyUp: false, fallbackSource: null, fallbackRemount: 0,
  };
  for (const step of cgroupSteps) {
    switch (step.kind) {
      case 'tmpfs':
        // The tmpfs stays writable so the per-hierarchy directories can be made.
        steps.push({ ...common, source: 'tmpfs', target: at(step.path), fstype: 'tmpfs', flags: flags & ~MS.RDONLY, data: step.data });
        break;
      case 'bind': {
        const extra = flags & ~(MS.BIND | MS.REC | MS.REMOUNT);
        steps.push({
          ...common,
          source: step.source,
          target: at(step.path),
          fstype: null,
          flags: MS.BIND | MS.REC,
          remount: extra !== 0 ? MS.BIND | MS.REMOUNT | extra : 0,
        });
        break;
      }
      case 'fs':
        steps.push({
          ...common,
          source: step.fstype,
          target: at(step.path),
          fstype: step.fstype,
          flags,
          data: step.data,
          ...(step.fallbackBind !== undefined
            ? { fallbackSource: step.fallbackBind, fallbackRemount: MS.BIND | MS.REMOUNT | (flags & REMOUNTABLE) }
            : {}),
        });
        break;
      case 'symlink':
        symlinks.push({ target: step.target, path: at(step.path), replace: false });
        break;
    }
  }
}

/**
 * What an idmap or ridmap mount without mappings of its own maps with: the
 * container's user namespace mapping, as the spec allows; maps for a new
 * one, nulls for one joined by path (its fd serves); none without a user
 * namespace (validation refuses that).
 */
type ContainerIdmap = Pick<MountIdmap, 'uidMap' | 'gidMap'> | null;

function containerIdmap(namespaces: NamespacePlan): ContainerIdmap {
  if (namespaces.idMaps !== null) return { uidMap: namespaces.idMaps.uidMap, gidMap: namespaces.idMaps.gidMap };
  return namespaces.userNamespace ? { uidMap: null, gidMap: null } : null;
}

// The spec: idmap or ridmap take the mount's own mappings (validation
// refuses mappings without either option, and one without the other);
// without them, the container's user namespace mapping. For a new user
// namespace the parent builds one with the same maps rather than using the
// container's own: that one exists only once the init has unshared it, and
// the init must idmap the source before it enters it (idmapping needs
// CAP_SYS_ADMIN over the source's filesystem, which the root of the
// container's user namespace lacks). An idmapped mount carries the maps, not
// the namespace. A user namespace joined by path exists already: its fd.
function planIdmap(mount: Mount, option: Idmap, recursiveBind: boolean, where: string, container: ContainerIdmap): MountIdmap | null {
  if (option === 'none') return null;
  const uid = mount.uidMappings ?? [];
  const gid = mount.gidMappings ?? [];
  const text = (mappings: typeof uid): string =>
    mappings.map((mapping) => `${mapping.containerID} ${mapping.hostID} ${mapping.size}\n`).join('');
  if (uid.length > 0 && gid.length > 0) return { uidMap: text(uid), gidMap: text(gid), recursiveBind, recursive: option === 'ridmap' };
  if (container === null) {
    throw new OcitsError(`${where}/options: ${option} without uidMappings and gidMappings needs the container's user namespace mappings, and the container has no user namespace`);
  }
  return { ...container, recursiveBind, recursive: option === 'ridmap' };
}

function planDevices(config: RuntimeConfig, userNamespace: boolean): DeviceNode[] {
  const byPath = new Map<string, DeviceNode>();
  // runc binds the host's node of the same path.
  const bindSource = (devicePath: string): string | null => (userNamespace ? `/${devicePath}` : null);
  for (const [devicePath, major, minor] of DEFAULT_DEVICES) {
    byPath.set(devicePath, { path: devicePath, bindSource: bindSource(devicePath), mode: S_IFCHR | 0o666, major, minor, uid: 0, gid: 0 });
  }
  for (const device of config.linux?.devices ?? []) {
    const type = device.type === 'b' ? S_IFBLK : device.type === 'p' ? S_IFIFO : S_IFCHR;
    const devicePath = inRoot(device.path);
    byPath.set(devicePath, {
      path: devicePath,
      bindSource: bindSource(devicePath),
      mode: type | (device.fileMode ?? 0o666),
      major: 'major' in device ? (device.major ?? 0) : 0,
      minor: 'minor' in device ? (device.minor ?? 0) : 0,
      uid: device.uid ?? 0,
      gid: device.gid ?? 0,
    });
  }
  return [...byPath.values()];
}

function devSymlinks(host: PlanHost): Symlink[] {
  const links: Symlink[] = [
    { target: '/proc/self/fd', path: 'dev/fd', replace: false },
    { target: '/proc/self/fd/0', path: 'dev/stdin', replace: false },
    { target: '/proc/self/fd/1', path: 'dev/stdout', replace: false },
    { target: '/proc/self/fd/2', path: 'dev/stderr', replace: false },
  ];
  if (host.hasKcore()) links.push({ target: '/proc/kcore', path: 'dev/core', replace: false });
  // Every pty comes from the container's own devpts instance.
  links.push({ target: 'pts/ptmx', path: 'dev/ptmx', replace: true });
  return links;
}

/** The mount point that holds file, among the host's. */
function mountPointOf(file: string, mounts: readonly MountEntry[]): string {
  let best = '/';
  for (const { mountPoint } of mounts) {
    if (isWithin(file, mountPoint) && mountPoint.length > best.length) best = mountPoint;
  }
  return best;
}

/**
 * Without a mount namespace of its own the container's mounts go into the
 * runtime's, under the rootfs, and its root is entered with chroot. What
 * needs a namespace of the container's is refused, in runc's terms where it
 * has them: masks and read-only paths would be the host's mounts to undo, and
 * a new user namespace has no right to mount in the host's.
 */
function refuseWithoutMountNamespace(config: RuntimeConfig, namespaces: NamespacePlan): void {
  const linux = config.linux ?? {};
  const why = 'needs a mount namespace of the container\'s own (new or joined in /linux/namespaces)';
  if ((linux.maskedPaths ?? []).length > 0) throw new OcitsError(`/linux/maskedPaths: masking paths ${why}`);
  if ((linux.readonlyPaths ?? []).length > 0) throw new OcitsError(`/linux/readonlyPaths: read-only paths ${why}`);
  if (linux.rootfsPropagation !== undefined) throw new OcitsError(`/linux/rootfsPropagation: ${why}`);
  if (namespaces.userNamespace) throw new OcitsError(`/linux/namespaces: a user namespace ${why}: it may not mount in the runtime's`);
}

/**
 * The kernel lets a process with a user namespace of its own mount a new
 * proc or sysfs only where one is already fully visible in its mount
 * namespace. After pivot_root none is left but the container's (masked);
 * after --no-pivot's MS_MOVE the host's remain beneath the chroot, so they
 * go first: every proc and sysfs mounted at its root, outside the rootfs.
 */
function revealingMounts(rootfs: string, mounts: readonly MountEntry[]): string[] {
  return mounts
    .filter((mount) => (mount.fstype === 'proc' || mount.fstype === 'sysfs') && mount.root === '/' && !isWithin(mount.mountPoint, rootfs))
    .map((mount) => mount.mountPoint);
}
