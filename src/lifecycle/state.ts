// A container's state: what is recorded of it, its status, read from the
// live process, never from a stored field, so it is right even after the
// container exits on its own; and the one state machine that says which
// operation may act in which status (`state` itself is here too).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isFrozen } from '../cgroups/freezer';
import type { ContainerCgroup } from '../cgroups/paths';
import { OcitsError } from '../errors';
import type { ContainerStatus, Hook } from '../spec/types';
import { OCI_VERSION } from '../spec/version';
import { isSameLiveProcess } from './process-status';

/** What ocits remembers about a container between commands. */
export interface ContainerRecord {
  ociVersion: string;
  id: string;
  /** Absolute path of the bundle. */
  bundle: string;
  /** Host pid of the container's init process, once it exists. */
  pid?: number;
  /** Field 22 of /proc/PID/stat when created: tells our process from a reused pid. */
  pidStartTime?: number;
  /** Absolute path of the root filesystem. */
  rootfs: string;
  /** Set while create is still building the container. */
  status?: Extract<ContainerStatus, 'creating'>;
  /** ISO 8601 creation time, for `list`. */
  created: string;
  /** User name or uid of the creator, for `list`. */
  owner: string;
  annotations?: Record<string, string>;
  /**
   * A container without a mount namespace of its own: the id of the mount
   * that held the rootfs before create stacked the container's mounts on it
   * in ours, so delete detaches exactly those (host-mounts.ts).
   */
  rootfsMountBefore?: number;
  /** The cgroup create made, so delete removes exactly that. */
  cgroup?: ContainerCgroup;
  /** Hooks that run after create, kept as they were at create (the spec: later config edits must not matter). */
  hooks?: { poststart?: Hook[]; poststop?: Hook[] };
}

/** The container's cgroup; one without (rootless, in ours) cannot be paused, updated or watched. */
export function cgroupOf(record: ContainerRecord): ContainerCgroup {
  if (record.cgroup === undefined) throw new OcitsError(`container ${record.id} has no cgroup`);
  return record.cgroup;
}

/** Present while a created container waits for `start`. */
export const EXEC_FIFO = 'exec.fifo';

/** The state document as runc prints it: the OCI state plus rootfs, created and owner. */
export interface ContainerStateReport {
  ociVersion: string;
  id: string;
  pid: number;
  status: ContainerStatus;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
}

// A type, not an interface: hooks.ts takes it as any object with a bundle.
export type SpecState = {
  ociVersion: string;
  id: string;
  status: ContainerStatus;
  pid?: number;
  bundle: string;
  annotations: Record<string, string>;
};

/**
 * runtime-spec's state of a recorded container, as its hooks and seccomp
 * agent read it; a stopped one has no pid.
 */
export function specState(record: ContainerRecord, status: ContainerStatus): SpecState {
  return {
    ociVersion: OCI_VERSION, id: record.id, status, ...(status !== 'stopped' ? { pid: record.pid } : {}),
    bundle: record.bundle, annotations: record.annotations ?? {},
  };
}

/** The container's status now; containerDir is its directory in the store. */
export function statusOf(containerDir: string, record: ContainerRecord): ContainerStatus {
  if (record.status === 'creating') return 'creating';
  if (record.pid === undefined || record.pidStartTime === undefined) return 'stopped';
  if (!isSameLiveProcess(record.pid, record.pidStartTime)) return 'stopped';
  // As runc: a frozen cgroup makes a created or running container paused.
  if (record.cgroup !== undefined && isFrozen(record.cgroup)) return 'paused';
  return fs.existsSync(path.join(containerDir, EXEC_FIFO)) ? 'created' : 'running';
}

/** The part of the store `state` reads through (store.ts imports this module). */
interface ContainerReader {
  containerDir(id: string): string;
  read(id: string): ContainerRecord;
}

export function containerState(store: ContainerReader, id: string): ContainerStateReport {
  const record = store.read(id);
  const status = statusOf(store.containerDir(id), record);
  return {
    ociVersion: OCI_VERSION,
    id: record.id,
    // runc reports pid 0 once the process is gone; a stale pid could name another process.
    pid: status === 'stopped' ? 0 : (record.pid ?? 0),
    status,
    bundle: record.bundle,
    rootfs: record.rootfs,
    created: record.created,
    owner: record.owner,
    ...(record.annotations !== undefined ? { annotations: record.annotations } : {}),
  };
}

/** What acts on an existing container, with the flags that change what it allows. */
export type Operation =
  | 'delete'
  | 'delete --force'
  | 'events'
  | 'exec'
  | 'exec --ignore-paused'
  | 'kill'
  | 'kill --all'
  | 'pause'
  | 'resume'
  | 'start'
  | 'update';

/** Allowed, or the refusal: runc's message, which engines match. */
type Verdict = typeof ALLOWED | ((id: string, status: ContainerStatus) => string);

const ALLOWED = 'allowed';
const notRunning = (): string => 'container not running';
const stillCreating = (id: string): string => `container ${id} is still being created`;
const cannotExecIn = (status: ContainerStatus): string => `cannot exec in a ${status} container`;
const cannotStart = (_id: string, status: ContainerStatus): string => `cannot start a container that is ${status}`;
const notStopped = (id: string, status: ContainerStatus): string => `cannot delete container ${id} that is not stopped: ${status}`;

// A created container can be paused, killed and deleted, as with runc. One
// still being created can be deleted (what a failed create left) but not
// otherwise touched.
const TRANSITIONS: Readonly<Record<Operation, Readonly<Record<ContainerStatus, Verdict>>>> = {
  delete: { creating: ALLOWED, created: ALLOWED, running: notStopped, paused: notStopped, stopped: ALLOWED },
  'delete --force': { creating: ALLOWED, created: ALLOWED, running: ALLOWED, paused: ALLOWED, stopped: ALLOWED },
  events: {
    creating: (id) => `container with id ${id} is not running`,
    created: ALLOWED,
    running: ALLOWED,
    paused: ALLOWED,
    stopped: (id) => `container with id ${id} is not running`,
  },
  exec: {
    creating: stillCreating,
    // runc 1.1.5 execs here too, but the container's own process has not
    // run yet: its hooks and the rest of start are still to come.
    created: () => `${cannotExecIn('created')}: start it first`,
    running: ALLOWED,
    paused: () => `${cannotExecIn('paused')} (use --ignore-paused to override)`,
    stopped: () => cannotExecIn('stopped'),
  },
  'exec --ignore-paused': {
    creating: stillCreating,
    created: () => `${cannotExecIn('created')}: start it first`,
    running: ALLOWED,
    paused: ALLOWED,
    stopped: () => cannotExecIn('stopped'),
  },
  kill: { creating: stillCreating, created: ALLOWED, running: ALLOWED, paused: ALLOWED, stopped: notRunning },
  // As runc 1.1.5: --all signals whatever is left in a stopped container's
  // cgroup, and runc's own tests expect that to succeed.
  'kill --all': { creating: stillCreating, created: ALLOWED, running: ALLOWED, paused: ALLOWED, stopped: ALLOWED },
  pause: { creating: notRunning, created: ALLOWED, running: ALLOWED, paused: notRunning, stopped: notRunning },
  resume: {
    creating: () => 'container not paused',
    created: () => 'container not paused',
    running: () => 'container not paused',
    paused: ALLOWED,
    stopped: () => 'container not paused',
  },
  start: {
    creating: cannotStart,
    created: ALLOWED,
    running: () => 'cannot start an already running container',
    paused: cannotStart,
    stopped: () => 'cannot start a container that has stopped',
  },
  update: { creating: notRunning, created: ALLOWED, running: ALLOWED, paused: ALLOWED, stopped: notRunning },
};

/** Why the operation may not act on container id in this status; undefined when it may. */
export function refusal(operation: Operation, status: ContainerStatus, id: string): string | undefined {
  const verdict = TRANSITIONS[operation][status];
  return verdict === ALLOWED ? undefined : verdict(id, status);
}
