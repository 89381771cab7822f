// The plan structures the addon takes, under the names of their C++
// counterparts in addon/init/plan.h and addon/exec_plan.h, field for field
// in camelCase (spawn.cc and exec.cc read them by these names). Fields the
// C++ side lacks are for messages (configIndex, key). This module imports
// nothing, so everything that builds a plan can depend on it, and addon.ts
// on nothing else.

/** compileSeccompFilter's input: the filter with every name resolved to libseccomp's numbers. */
export interface SeccompFilterRules {
  defaultAction: number;
  architectures: number[];
  rules: Array<{
    syscall: number;
    action: number;
    conditions: Array<{ index: number; op: number; value: bigint; valueTwo: bigint }>;
  }>;
}

/** initMessageFormat(): enum MessageKind by name, and struct Message's layout. */
export interface InitMessageFormat {
  kinds: Record<'mounted' | 'ready' | 'error' | 'continue' | 'execPid' | 'seccompListener' | 'mapIds' | 'initPid', number>;
  /** sizeof(Message) */
  size: number;
  /** offsetof(Message, detail); kind, step, index and errno are the int32s before it. */
  detailOffset: number;
}

// enum Ensure: what to create at a mount's target when it is missing.
export type Ensure = 0 | 1 | 2 | 3;
export const ENSURE_NOTHING: Ensure = 0;
export const ENSURE_DIRECTORY: Ensure = 1;
export const ENSURE_FILE: Ensure = 2;
/** A directory reached through no symlink at all, or the mount is refused. */
export const ENSURE_PLAIN_DIRECTORY: Ensure = 3;

/** enum RootEntry in plan.h. */
export type RootEntry = 0 | 1 | 2;
export const PIVOT_ROOT: RootEntry = 0;
/** --no-pivot: MS_MOVE the rootfs onto / and chroot. */
export const MOVE_ROOT: RootEntry = 1;
/** No mount namespace of the container's own: mounts stay in the runtime's, and chroot. */
export const CHROOT: RootEntry = 2;

/** spawnContainerInit's input: struct Plan. */
export interface Plan {
  cloneFlags: number;
  namespaces: NamespaceEntry;
  /** How the init process joins its cgroup, first thing; filled in by create. */
  cgroup: CgroupJoin;
  unshareCgroup: boolean;
  hostname: string | null;
  domainname: string | null;
  rootfs: string;
  rootPropagation: number;
  rootfsParentMount: string | null;
  readonlyRoot: boolean;
  /** Nonzero: remount /dev with these flags once it is populated. */
  devRemount: number;
  /** How the init makes the rootfs its root. */
  rootEntry: RootEntry;
  /**
   * With MOVE_ROOT: the proc and sysfs mounts of the namespace outside the
   * rootfs, unmounted (or covered) before the move.
   */
  hiddenMounts: string[];
  mounts: MountStep[];
  devices: DeviceNode[];
  symlinks: Symlink[];
  maskedPaths: string[];
  readonlyPaths: string[];
  sysctls: Sysctl[];
  createContainerHooks: HookCommand[];
  startContainerHooks: HookCommand[];
  execFifo: string;
  /** fds 3 .. 3+passedFds-1 go to the process: LISTEN_FDS, then --preserve-fds; filled in by create. */
  passedFds: number;
  stateBufferSize: number;
  process: ProcessPlan;
}

/** How the init enters its namespaces. */
export interface NamespaceEntry {
  joins: NamespaceJoin[];
  newUser: boolean;
  becomeRoot: boolean;
  unshareFlags: number;
  /** The contents of /proc/self/timens_offsets, or null. */
  timeOffsets: string | null;
  forkInit: boolean;
}

/** A namespace given by path; create opens it (fd) and checks its type before anything is made. */
export interface NamespaceJoin {
  path: string;
  /** CLONE_NEW* */
  type: number;
  /** -1 until opened. */
  fd: number;
  /** Its index in /linux/namespaces, for messages. */
  configIndex: number;
}

/**
 * What the container's init process joins its cgroup through. Moving a whole
 * process (cgroup.procs) takes a global lock whose first writer waits for an
 * RCU grace period, 10-15 ms on this kernel; neither of these takes it.
 */
export interface CgroupJoin {
  /** The cgroup2 directory, for clone3(CLONE_INTO_CGROUP); -1 without cgroup2. */
  dir: number;
  /** Each v1 hierarchy's tasks file: the init writes "0" to move itself, its only thread. */
  tasks: number[];
}

/** One mount(2), with the extra calls runc makes around it. */
export interface MountStep {
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
  idmap: MountIdmap | null;
  ensure: Ensure;
  /** A tmpfs that starts with a copy of what its target directory held (tmpcopyup). */
  copyUp: boolean;
  /** When the kernel refuses the filesystem with EPERM: bind this host path instead, then remount it so. */
  fallbackSource: string | null;
  fallbackRemount: number;
  /** For error messages: the config mount this step comes from. */
  configIndex: number;
}

/** An idmapped bind's mapping; the addon makes its user namespace (MountStep::userns). */
export interface MountIdmap {
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

export interface DeviceNode {
  path: string;
  /** In a user namespace, where mknod is refused: the host node bind-mounted instead (as runc). */
  bindSource: string | null;
  mode: number;
  major: number;
  minor: number;
  uid: number;
  gid: number;
}

export interface Symlink {
  target: string;
  path: string;
  replace: boolean;
}

/** One write through the container's /proc. */
export interface Sysctl {
  /** Relative to the rootfs: proc/sys/... */
  path: string;
  value: string;
  /** The config key, for error messages. */
  key: string;
}

export interface HookCommand {
  path: string;
  args: string[];
  env: string[];
  timeout: number;
}

export interface ProcessPlan {
  args: string[];
  env: string[];
  pathEnv: string | null;
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  umask: number;
  noNewPrivileges: boolean;
  rlimits: Rlimit[];
  capabilities: Capabilities | null;
  /** Loaded last before the process runs (see addon/init/process.cc). */
  seccomp: SeccompFilter | null;
  /** personality(2)'s persona; -1 to leave it. */
  personality: number;
  scheduler: Scheduler | null;
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

export interface Rlimit {
  /** RLIMIT_* */
  resource: number;
  soft: bigint;
  hard: bigint;
}

export interface Capabilities {
  bounding: bigint;
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  ambient: bigint;
  /** /proc/sys/kernel/cap_last_cap */
  lastCap: number;
}

/** What the init process loads. */
export interface SeccompFilter {
  /** struct sock_filter[] as libseccomp exported it. */
  program: Buffer;
  /** SECCOMP_FILTER_FLAG_* for seccomp(2). */
  flags: number;
  /** Loaded with NEW_LISTENER: the init process sends the notify fd to create. */
  listener: boolean;
}

/** struct sched_attr's fields. */
export interface Scheduler {
  policy: number;
  flags: bigint;
  nice: number;
  priority: number;
  runtime: bigint;
  deadline: bigint;
  period: bigint;
}

/** One write to /proc/self/attr/... that the process makes before execve. */
export interface LsmWrite {
  /** Absolute, read in the container's /proc. */
  path: string;
  value: string;
}

/** spawnExecProcess's input: struct ExecPlan (addon/exec_plan.h). */
export interface ExecPlan {
  cgroup: CgroupJoin;
  /** In the order they are joined. */
  namespaces: NamespaceFd[];
  preservedFds: number;
  /** Decimal, or null to keep ours. */
  oomScoreAdj: string | null;
  /**
   * -1, or an O_PATH fd of the container's root to chroot to: a container
   * without a mount namespace of its own shares ours, whose root is the host's.
   */
  root: number;
  process: ProcessPlan;
}

/** A namespace of the container's init the exec child joins. */
export interface NamespaceFd {
  fd: number;
  /** CLONE_NEW* */
  type: number;
  name: string;
}
