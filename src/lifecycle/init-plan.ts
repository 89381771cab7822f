// From config.json to the plan the addon's init process executes. All policy
// lives here: which namespaces, which mounts with which flags, which devices
// and links, which capabilities and limits. The addon only carries it out.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CgroupJoinFds } from '../cgroups/membership';
import { OcitsError, quoted } from '../errors';
import { logWarning } from '../log';
import { isWithin, parseMountinfo } from '../mountinfo';
import { CAPABILITIES, RLIMITS } from '../spec/names';
import type { CapabilitySet, Hook, Mount, Process, RuntimeConfig } from '../spec/types';
import { type Idmap, MS, PROPAGATIONS, parseMountOptions } from './mount-options';
import { type LsmWrite, labelMountData, planLsmWrites, planMountLabel } from './lsm';
import { type InitScheduler, planIoPriority, planPersonality, planScheduler } from './process-attributes';
import { type InitSeccomp, planSeccomp } from './seccomp';
import { type InitSysctl, planSysctls } from './sysctl';
import { planNamespaces, type IdMaps, type InitNamespaces, type NamespacePlan } from './namespaces';
import { unsupportedFeatures } from './unsupported';

const S_IFCHR = 0o020000;
// The per-mount flags a bind remount can set.
const REMOUNTABLE = MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.NOATIME | MS.NODIRATIME | MS.RELATIME | MS.STRICTATIME;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;
const RLIM_INFINITY = (1n << 64n) - 1n;

export type Ensure = 0 | 1 | 2;
export const ENSURE_NOTHING: Ensure = 0;
export const ENSURE_DIRECTORY: Ensure = 1;
export const ENSURE_FILE: Ensure = 2;

export interface InitMount {
  source: string | null;
  /** Relative to the rootfs. */
  target: string;
  fstype: string | null;
  flags: number;
  data: string | null;
  /** Nonzero: remount the bind with these flags. */
  remount: number;
  propagation: number;
  /** mount_setattr(AT_RECURSIVE) once mounted; both 0 for nothing. */
  attrSet: number;
  attrClr: number;
  /** An idmapped bind: the parent clones the source with this mapping. */
  idmap: InitIdmap | null;
  ensure: Ensure;
  /** A tmpfs that starts with a copy of what its target directory held (tmpcopyup). */
  copyUp: boolean;
  /** When the kernel refuses the filesystem with EPERM: bind this host path instead, then remount it so. */
  fallbackSource: string | null;
  fallbackRemount: number;
  /** For error messages: the config mount this step comes from. */
  configIndex: number;
}

export interface InitIdmap {
  /**
   * /proc/PID/uid_map and gid_map text: "containerID hostID size" lines;
   * null: the user namespace the container joins by path has the mapping.
   */
  uidMap: string | null;
  gidMap: string | null;
  /** rbind: clone the mounts below the source too. */
  recursiveBind: boolean;
  /** ridmap: map the mounts below as well. */
  recursive: boolean;
}

export interface InitDevice {
  path: string;
  /** In a user namespace, where mknod is refused: the host node bind-mounted instead (as runc). */
  bindSource: string | null;
  mode: number;
  major: number;
  minor: number;
  uid: number;
  gid: number;
}

export interface InitSymlink {
  target: string;
  path: string;
  replace: boolean;
}

export interface InitHook {
  path: string;
  args: string[];
  env: string[];
  timeout: number;
}

export interface InitCapabilities {
  bounding: bigint;
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  ambient: bigint;
  lastCap: number;
}

export interface InitProcess {
  args: string[];
  env: string[];
  pathEnv: string | null;
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  umask: number;
  noNewPrivileges: boolean;
  rlimits: Array<{ resource: number; soft: bigint; hard: bigint }>;
  capabilities: InitCapabilities | null;
  /** Loaded last before the process runs (see addon/init/process.cc). */
  seccomp: InitSeccomp | null;
  /** personality(2)'s persona; -1 to leave it. */
  personality: number;
  scheduler: InitScheduler | null;
  /** ioprio_set(2)'s value; -1 to leave it. */
  ioPriority: number;
  /** False where setgroups(2) is denied (a rootless user namespace): the groups stay as they are. */
  setGroups: boolean;
  terminal: boolean;
  /** AppArmor profile and SELinux label, written before execve. */
  lsmWrites: LsmWrite[];
  /** process.consoleSize, rows and columns; 0 leaves the kernel's 0x0. */
  consoleRows: number;
  consoleColumns: number;
  consoleSocket: number;
}

/** The addon's input (addon/init/plan.h mirrors it). */
export interface InitPlan {
  cloneFlags: number;
  namespaces: InitNamespaces;
  /** For the parent, not the addon: what it writes for a new user namespace. */
  idMaps: IdMaps | null;
  /** How the init process joins its cgroup, first thing; filled in by create. */
  cgroup: CgroupJoinFds;
  unshareCgroup: boolean;
  hostname: string | null;
  domainname: string | null;
  rootfs: string;
  rootPropagation: number;
  rootfsParentMount: string | null;
  readonlyRoot: boolean;
  noPivot: boolean;
  mounts: InitMount[];
  devices: InitDevice[];
  symlinks: InitSymlink[];
  maskedPaths: string[];
  readonlyPaths: string[];
  sysctls: InitSysctl[];
  createContainerHooks: InitHook[];
  startContainerHooks: InitHook[];
  execFifo: string;
  /** fds 3 .. 3+passedFds-1 go to the process: LISTEN_FDS, then --preserve-fds; filled in by create. */
  passedFds: number;
  stateBufferSize: number;
  process: InitProcess;
}

/** A config mount of type cgroup becomes these steps (see src/cgroups/mount.ts). */
export type CgroupMountStep =
  | { kind: 'tmpfs'; path: string }
  | { kind: 'bind'; source: string; path: string }
  | { kind: 'fs'; fstype: 'cgroup' | 'cgroup2'; data: string; path: string; fallbackBind?: string }
  | { kind: 'symlink'; target: string; path: string };

/** What the plan needs besides the config. */
export interface PlanContext {
  bundleDir: string;
  rootfs: string;
  execFifo: string;
  /** -1 without a terminal. */
  consoleSocket: number;
  noPivot: boolean;
  cgroupMountSteps(cgroupNamespace: boolean): CgroupMountStep[];
  /** Room for the two state documents the parent sends the init process. */
  stateBufferSize: number;
  /** Whether we have root's privileges on the host (not rootless). */
  privileged: boolean;
}

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

export function buildInitPlan(config: RuntimeConfig, context: PlanContext): InitPlan {
  const problems = unsupportedFeatures(config);
  if (problems.length > 0) throw new OcitsError(problems[0]);
  const linux = config.linux ?? {};
  const process = config.process;
  if (process === undefined) throw new OcitsError('/process: a container needs a process to run');

  const namespaces = planNamespaces(config, context.privileged);
  // A mount namespace joined by path will do, as with runc: the rootfs is
  // then built inside it (paths resolved there).
  if (!(linux.namespaces ?? []).some((namespace) => namespace.type === 'mount')) {
    throw new OcitsError('/linux/namespaces: ocits needs a mount namespace (new or joined) to build the rootfs');
  }
  if ((config.hostname !== undefined || config.domainname !== undefined) && !namespaces.newTypes.has('uts')) {
    throw new OcitsError('/hostname: setting the hostname needs a new uts namespace');
  }
  const cgroupNamespace = namespaces.unshareCgroup;

  const mounts = planMounts(config.mounts ?? [], context, cgroupNamespace, planMountLabel(linux.mountLabel), containerIdmap(namespaces));
  const setUpDev = !(config.mounts ?? []).some(
    (mount) => inRoot(mount.destination) === 'dev' && isBind(mount),
  );
  const rootPropagation =
    linux.rootfsPropagation !== undefined ? PROPAGATIONS.get(linux.rootfsPropagation)! : MS.SLAVE | MS.REC;

  const env = process.env ?? [];
  const processPlan = planProcess(process, context.consoleSocket);
  processPlan.setGroups = namespaces.idMaps?.denySetgroups !== true;
  return {
    cloneFlags: namespaces.cloneFlags,
    namespaces: namespaces.entry,
    idMaps: namespaces.idMaps,
    cgroup: { dir: -1, tasks: [] },
    unshareCgroup: cgroupNamespace,
    hostname: config.hostname ?? null,
    domainname: config.domainname ?? null,
    rootfs: context.rootfs,
    rootPropagation,
    rootfsParentMount: (rootPropagation & MS.SHARED) !== 0 ? mountPointOf(context.rootfs) : null,
    readonlyRoot: config.root.readonly === true,
    noPivot: context.noPivot,
    mounts: mounts.steps,
    devices: setUpDev ? planDevices(config, namespaces.userNamespace) : [],
    symlinks: [...mounts.symlinks, ...(setUpDev ? devSymlinks() : [])],
    maskedPaths: (linux.maskedPaths ?? []).map(inRoot),
    readonlyPaths: (linux.readonlyPaths ?? []).map(inRoot),
    sysctls: planSysctls(config),
    createContainerHooks: planHooks(config.hooks?.createContainer, env),
    startContainerHooks: planHooks(config.hooks?.startContainer, env),
    execFifo: context.execFifo,
    passedFds: 0,
    stateBufferSize: context.stateBufferSize,
    process: {
      ...processPlan,
      seccomp: linux.seccomp !== undefined ? planSeccomp(linux.seccomp) : null,
      personality: planPersonality(linux.personality),
    },
  };
}

/** The process part of a plan, shared by the container init and `exec`. */
export function planProcess(process: Process, consoleSocket: number): InitProcess {
  const env = process.env ?? [];
  const pathEntry = env.filter((entry) => entry.startsWith('PATH=')).pop();
  return {
    args: process.args,
    env,
    pathEnv: pathEntry !== undefined ? pathEntry.slice('PATH='.length) : null,
    cwd: process.cwd,
    uid: process.user.uid,
    gid: process.user.gid,
    additionalGids: process.user.additionalGids ?? [],
    umask: process.user.umask ?? 0o022,
    noNewPrivileges: process.noNewPrivileges === true,
    rlimits: (process.rlimits ?? []).map((limit) => ({
      resource: RLIMITS.get(limit.type)!,
      soft: rlimitValue(limit.soft),
      hard: rlimitValue(limit.hard),
    })),
    capabilities: process.capabilities !== undefined ? planCapabilities(process.capabilities) : null,
    // The container's, which the caller adds: they are not in the process spec.
    seccomp: null,
    personality: -1,
    scheduler: planScheduler(process.scheduler),
    ioPriority: planIoPriority(process.ioPriority),
    setGroups: true,
    lsmWrites: planLsmWrites(process.apparmorProfile, process.selinuxLabel),
    terminal: process.terminal === true,
    consoleRows: process.consoleSize?.height ?? 0,
    consoleColumns: process.consoleSize?.width ?? 0,
    consoleSocket,
  };
}

function isBind(mount: Mount): boolean {
  const options = mount.options ?? [];
  return mount.type === 'bind' || options.includes('bind') || options.includes('rbind');
}

function planMounts(
  mounts: readonly Mount[],
  context: PlanContext,
  cgroupNamespace: boolean,
  mountLabel: string | null,
  containerMapping: ContainerIdmap,
): { steps: InitMount[]; symlinks: InitSymlink[] } {
  const steps: InitMount[] = [];
  const symlinks: InitSymlink[] = [];
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
      let sourceIsDirectory: boolean;
      try {
        sourceIsDirectory = fs.statSync(source).isDirectory();
      } catch {
        throw new OcitsError(`${where}/source: ${quoted(source)} does not exist`);
      }
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
        ensure: sourceIsDirectory ? ENSURE_DIRECTORY : ENSURE_FILE,
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
      ensure: ENSURE_DIRECTORY,
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
  steps: InitMount[],
  symlinks: InitSymlink[],
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
        steps.push({ ...common, source: 'tmpfs', target: at(step.path), fstype: 'tmpfs', flags: flags & ~MS.RDONLY, data: 'mode=755' });
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
type ContainerIdmap = Pick<InitIdmap, 'uidMap' | 'gidMap'> | null;

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
function planIdmap(mount: Mount, option: Idmap, recursiveBind: boolean, where: string, container: ContainerIdmap): InitIdmap | null {
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

function planDevices(config: RuntimeConfig, userNamespace: boolean): InitDevice[] {
  const byPath = new Map<string, InitDevice>();
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

function devSymlinks(): InitSymlink[] {
  const links: InitSymlink[] = [
    { target: '/proc/self/fd', path: 'dev/fd', replace: false },
    { target: '/proc/self/fd/0', path: 'dev/stdin', replace: false },
    { target: '/proc/self/fd/1', path: 'dev/stdout', replace: false },
    { target: '/proc/self/fd/2', path: 'dev/stderr', replace: false },
  ];
  if (fs.existsSync('/proc/kcore')) links.push({ target: '/proc/kcore', path: 'dev/core', replace: false });
  // Every pty comes from the container's own devpts instance.
  links.push({ target: 'pts/ptmx', path: 'dev/ptmx', replace: true });
  return links;
}

// runc gives a hook without env its own environment; here that is the
// container process's, which is what a hook inside the container expects.
function planHooks(hooks: Hook[] | undefined, processEnv: string[]): InitHook[] {
  return (hooks ?? []).map((hook) => ({
    path: hook.path,
    args: hook.args ?? [hook.path],
    env: hook.env ?? processEnv,
    timeout: hook.timeout ?? 0,
  }));
}

function rlimitValue(value: number): bigint {
  // JSON numbers above 2^53 arrive rounded; 2^64-1 rounds up to 2^64.
  const exact = BigInt(Math.trunc(value));
  return exact >= RLIM_INFINITY ? RLIM_INFINITY : exact;
}

let lastCapability: number | undefined;

function lastCap(): number {
  lastCapability ??= Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
  return lastCapability;
}

// runc's rule: a name that is no capability at all is an error; one this
// build knows but the running kernel does not (above cap_last_cap) is
// skipped with one warning, so a config written for a newer kernel still runs.
export function planCapabilities(capabilities: Process['capabilities'], last = lastCap()): InitCapabilities {
  const unavailable = new Set<string>();
  const mask = (set: CapabilitySet): bigint => {
    let bits = 0n;
    for (const name of capabilities?.[set] ?? []) {
      const bit = CAPABILITIES.get(name);
      if (bit === undefined) throw new OcitsError(`/process/capabilities/${set}: unknown capability ${name}`);
      if (bit > last) {
        unavailable.add(name);
        continue;
      }
      bits |= 1n << BigInt(bit);
    }
    return bits;
  };
  const permitted = mask('permitted');
  const inheritable = mask('inheritable');
  // The kernel raises an ambient capability only if it is also permitted and
  // inheritable; runc quietly leaves the others out, and so do we.
  const ambient = mask('ambient') & permitted & inheritable;
  const planned = { bounding: mask('bounding'), effective: mask('effective'), permitted, inheritable, ambient, lastCap: last };
  if (unavailable.size > 0) {
    logWarning(`ignoring capabilities unknown to this kernel (cap_last_cap ${last}): ${[...unavailable].join(' ')}`);
  }
  return planned;
}

/** The mount point that holds file, from this process's mountinfo. */
function mountPointOf(file: string): string {
  let best = '/';
  for (const { mountPoint } of parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'))) {
    if (isWithin(file, mountPoint) && mountPoint.length > best.length) best = mountPoint;
  }
  return best;
}
