// TypeScript shapes of the OCI Runtime Specification 1.3.0 documents (Linux subset).
// They mirror schemas/config.schema.json, schemas/state.schema.json and
// schemas/features.schema.json; keep them in step when either side changes.
//
// Integers are `number` because that is what JSON.parse yields: int64/uint64
// values beyond 2^53 arrive already rounded.
//
// The schemas accept unknown properties (engines add extension fields); these
// types only name the fields the specification defines.

// ---------------------------------------------------------------------------
// Shared pieces

/** String-to-string map with non-empty keys. */
export type StringMap = Record<string, string>;

// Names from open-ended kernel/libseccomp lists stay plain strings (the schema
// only checks their prefix); the semantic checks compare them with tables.
export type CapabilityName = string;
export type RlimitType = string;
export type SeccompAction = string;
export type SeccompOperator = string;
export type SeccompArch = string;
export type SeccompFlag = string;

export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

// ---------------------------------------------------------------------------
// config.json

export interface Root {
  path: string;
  readonly?: boolean;
}

interface MountBase {
  destination: string;
  source?: string;
  type?: string;
  options?: string[];
}

/** An ID-mapped mount must carry both mappings, or neither. */
export type Mount = MountBase &
  (
    | { uidMappings: IdMapping[]; gidMappings: IdMapping[] }
    | { uidMappings?: undefined; gidMappings?: undefined }
  );

export interface User {
  uid: number;
  gid: number;
  umask?: number;
  additionalGids?: number[];
}

export type CapabilitySet = 'effective' | 'bounding' | 'inheritable' | 'permitted' | 'ambient';

// A mapped type rather than an interface so Object.entries() keeps the value type.
export type Capabilities = { [K in CapabilitySet]?: CapabilityName[] };

export interface Rlimit {
  type: RlimitType;
  soft: number;
  hard: number;
}

export interface ConsoleSize {
  height: number;
  width: number;
}

export type SchedulerPolicy =
  | 'SCHED_OTHER'
  | 'SCHED_FIFO'
  | 'SCHED_RR'
  | 'SCHED_BATCH'
  | 'SCHED_ISO'
  | 'SCHED_IDLE'
  | 'SCHED_DEADLINE';

export type SchedulerFlag =
  | 'SCHED_FLAG_RESET_ON_FORK'
  | 'SCHED_FLAG_RECLAIM'
  | 'SCHED_FLAG_DL_OVERRUN'
  | 'SCHED_FLAG_KEEP_POLICY'
  | 'SCHED_FLAG_KEEP_PARAMS'
  | 'SCHED_FLAG_UTIL_CLAMP_MIN'
  | 'SCHED_FLAG_UTIL_CLAMP_MAX';

export interface Scheduler {
  policy: SchedulerPolicy;
  nice?: number;
  priority?: number;
  flags?: SchedulerFlag[];
  runtime?: number;
  deadline?: number;
  period?: number;
}

export type IoPriorityClass = 'IOPRIO_CLASS_RT' | 'IOPRIO_CLASS_BE' | 'IOPRIO_CLASS_IDLE';

export interface IoPriority {
  class: IoPriorityClass;
  /** 0 (highest) to 7 (lowest). */
  priority: number;
}

export interface ExecCPUAffinity {
  initial?: string;
  final?: string;
}

export interface Process {
  terminal?: boolean;
  consoleSize?: ConsoleSize;
  cwd: string;
  env?: string[];
  /** At least one entry; required on Linux because commandLine is Windows-only. */
  args: string[];
  user: User;
  rlimits?: Rlimit[];
  apparmorProfile?: string;
  capabilities?: Capabilities;
  noNewPrivileges?: boolean;
  oomScoreAdj?: number;
  scheduler?: Scheduler;
  selinuxLabel?: string;
  ioPriority?: IoPriority;
  execCPUAffinity?: ExecCPUAffinity;
}

export interface Hook {
  path: string;
  args?: string[];
  env?: string[];
  /** Seconds, at least 1. */
  timeout?: number;
}

/** `prestart` is deprecated but still honoured. */
export type HookName =
  | 'prestart'
  | 'createRuntime'
  | 'createContainer'
  | 'startContainer'
  | 'poststart'
  | 'poststop';

export type Hooks = { [K in HookName]?: Hook[] };

export type NamespaceType = 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup' | 'time';

export interface LinuxNamespace {
  type: NamespaceType;
  path?: string;
}

export type TimeOffsetClock = 'monotonic' | 'boottime';

export interface TimeOffset {
  secs?: number;
  nanosecs?: number;
}

interface LinuxDeviceBase {
  path: string;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

/** Character, block and unbuffered character nodes need their numbers. */
export interface LinuxNumberedDevice extends LinuxDeviceBase {
  type: 'c' | 'b' | 'u';
  major: number;
  minor: number;
}

/** A FIFO has no device numbers. */
export interface LinuxFifoDevice extends LinuxDeviceBase {
  type: 'p';
  major?: number;
  minor?: number;
}

export type LinuxDevice = LinuxNumberedDevice | LinuxFifoDevice;
export type LinuxDeviceType = LinuxDevice['type'];

export interface LinuxNetDevice {
  name?: string;
}

// --- cgroup resources

export type DeviceRuleType = 'a' | 'c' | 'b';

export interface DeviceRule {
  allow: boolean;
  type?: DeviceRuleType;
  major?: number;
  minor?: number;
  access?: string;
}

export interface MemoryResources {
  limit?: number;
  reservation?: number;
  swap?: number;
  kernel?: number;
  kernelTCP?: number;
  /** Not capped at 100: older engines send (uint64)-1 to mean "unset". */
  swappiness?: number;
  disableOOMKiller?: boolean;
  useHierarchy?: boolean;
  checkBeforeUpdate?: boolean;
}

export interface CpuResources {
  shares?: number;
  quota?: number;
  burst?: number;
  period?: number;
  realtimeRuntime?: number;
  realtimePeriod?: number;
  cpus?: string;
  mems?: string;
  idle?: number;
}

interface BlockIoDevice {
  major: number;
  minor: number;
}

/** At least one of weight and leafWeight must be present. */
export type BlockIoWeightDevice = BlockIoDevice &
  ({ weight: number; leafWeight?: number } | { weight?: number; leafWeight: number });

export interface BlockIoThrottleDevice extends BlockIoDevice {
  rate: number;
}

export interface BlockIoResources {
  weight?: number;
  leafWeight?: number;
  weightDevice?: BlockIoWeightDevice[];
  throttleReadBpsDevice?: BlockIoThrottleDevice[];
  throttleWriteBpsDevice?: BlockIoThrottleDevice[];
  throttleReadIOPSDevice?: BlockIoThrottleDevice[];
  throttleWriteIOPSDevice?: BlockIoThrottleDevice[];
}

export interface HugepageLimit {
  /** `<n>KB`, `<n>MB` or `<n>GB`, base 1024. */
  pageSize: string;
  limit: number;
}

export interface InterfacePriority {
  name: string;
  priority: number;
}

export interface NetworkResources {
  classID?: number;
  priorities?: InterfacePriority[];
}

export interface PidsResources {
  /** -1 means unlimited; 0 is a real limit. */
  limit?: number;
}

/** At least one of the two limits must be present. */
export type RdmaResource =
  | { hcaHandles: number; hcaObjects?: number }
  | { hcaHandles?: number; hcaObjects: number };

export interface LinuxResources {
  devices?: DeviceRule[];
  memory?: MemoryResources;
  cpu?: CpuResources;
  blockIO?: BlockIoResources;
  hugepageLimits?: HugepageLimit[];
  network?: NetworkResources;
  pids?: PidsResources;
  /** Keyed by RDMA device name. */
  rdma?: Record<string, RdmaResource>;
  /** Keyed by cgroup v2 file name. */
  unified?: StringMap;
}

// --- other Linux sections

export interface IntelRdt {
  closID?: string;
  l3CacheSchema?: string;
  memBwSchema?: string;
  schemata?: string[];
  enableMonitoring?: boolean;
}

export type MemoryPolicyMode =
  | 'MPOL_DEFAULT'
  | 'MPOL_BIND'
  | 'MPOL_INTERLEAVE'
  | 'MPOL_WEIGHTED_INTERLEAVE'
  | 'MPOL_PREFERRED'
  | 'MPOL_PREFERRED_MANY'
  | 'MPOL_LOCAL';

export type MemoryPolicyFlag = 'MPOL_F_NUMA_BALANCING' | 'MPOL_F_RELATIVE_NODES' | 'MPOL_F_STATIC_NODES';

export interface MemoryPolicy {
  mode: MemoryPolicyMode;
  nodes?: string;
  flags?: MemoryPolicyFlag[];
}

export interface SeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: SeccompOperator;
}

export interface SeccompSyscall {
  /** At least one name. */
  names: string[];
  action: SeccompAction;
  errnoRet?: number;
  args?: SeccompArg[];
}

interface SeccompBase {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  architectures?: SeccompArch[];
  flags?: SeccompFlag[];
  syscalls?: SeccompSyscall[];
}

/** listenerMetadata is only meaningful with a listener socket to send it to. */
export type Seccomp = SeccompBase &
  (
    | { listenerPath: string; listenerMetadata?: string }
    | { listenerPath?: undefined; listenerMetadata?: undefined }
  );

/** The r-prefixed forms are outside the spec list but runc and Docker use them. */
export type RootfsPropagation =
  | 'shared'
  | 'slave'
  | 'private'
  | 'unbindable'
  | 'rshared'
  | 'rslave'
  | 'rprivate'
  | 'runbindable';

export type PersonalityDomain = 'LINUX' | 'LINUX32';

export interface Personality {
  domain: PersonalityDomain;
  flags?: string[];
}

export interface Linux {
  namespaces?: LinuxNamespace[];
  uidMappings?: IdMapping[];
  gidMappings?: IdMapping[];
  timeOffsets?: Partial<Record<TimeOffsetClock, TimeOffset>>;
  devices?: LinuxDevice[];
  /** Keyed by host interface name. */
  netDevices?: Record<string, LinuxNetDevice>;
  cgroupsPath?: string;
  resources?: LinuxResources;
  intelRdt?: IntelRdt;
  memoryPolicy?: MemoryPolicy;
  sysctl?: StringMap;
  seccomp?: Seccomp;
  rootfsPropagation?: RootfsPropagation;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  mountLabel?: string;
  personality?: Personality;
}

/** The whole config.json of a bundle. */
export interface RuntimeConfig {
  ociVersion: string;
  /** Required on every platform except Windows. */
  root: Root;
  mounts?: Mount[];
  process?: Process;
  hostname?: string;
  domainname?: string;
  hooks?: Hooks;
  annotations?: StringMap;
  linux?: Linux;
}

// ---------------------------------------------------------------------------
// State document

/** `paused` is not in the spec list; runc reports it and engines rely on it. */
export type ContainerStatus = 'creating' | 'created' | 'running' | 'stopped' | 'paused';

interface ContainerStateBase {
  ociVersion: string;
  id: string;
  bundle: string;
  annotations?: StringMap;
}

/** A live process exists, hence a pid, once created and until stopped. */
export type ContainerState = ContainerStateBase &
  (
    | { status: 'created' | 'running' | 'paused'; pid: number }
    | { status: 'creating' | 'stopped'; pid?: number }
  );

// ---------------------------------------------------------------------------
// Features document
//
// Every field except the version bounds may be absent or null, and null must
// not be read as an empty value.

export interface EnabledFeature {
  enabled?: boolean | null;
}

export interface CgroupFeatures {
  v1?: boolean | null;
  v2?: boolean | null;
  systemd?: boolean | null;
  systemdUser?: boolean | null;
  rdma?: boolean | null;
}

export interface SeccompFeatures {
  enabled?: boolean | null;
  actions?: SeccompAction[] | null;
  operators?: SeccompOperator[] | null;
  archs?: SeccompArch[] | null;
  knownFlags?: SeccompFlag[] | null;
  /** Subset of knownFlags usable with the current kernel and libseccomp. */
  supportedFlags?: SeccompFlag[] | null;
}

export interface IntelRdtFeatures {
  enabled?: boolean | null;
  schemata?: boolean | null;
  monitoring?: boolean | null;
}

export interface MemoryPolicyFeatures {
  modes?: string[] | null;
  flags?: string[] | null;
}

export interface MountExtensionsFeatures {
  idmap?: EnabledFeature | null;
}

export interface LinuxFeatures {
  namespaces?: NamespaceType[] | null;
  capabilities?: CapabilityName[] | null;
  cgroup?: CgroupFeatures | null;
  seccomp?: SeccompFeatures | null;
  apparmor?: EnabledFeature | null;
  selinux?: EnabledFeature | null;
  intelRdt?: IntelRdtFeatures | null;
  memoryPolicy?: MemoryPolicyFeatures | null;
  mountExtensions?: MountExtensionsFeatures | null;
  netDevices?: EnabledFeature | null;
}

export interface Features {
  ociVersionMin: string;
  ociVersionMax: string;
  hooks?: HookName[] | null;
  mountOptions?: string[] | null;
  linux?: LinuxFeatures | null;
  annotations?: StringMap | null;
  /** Entries ending in "." match every annotation key with that prefix. */
  potentiallyUnsafeConfigAnnotations?: string[] | null;
}
