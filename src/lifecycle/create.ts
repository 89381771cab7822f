// `create`: builds the container and leaves its init process waiting on
// exec.fifo for `start`. Everything create makes (state directory, cgroup,
// fifo, process) is undone if any step fails, so a failed create leaves
// nothing behind.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { addon } from '../addon';
import { applyDeviceRules } from '../cgroups/devices';
import { detectCgroupHost, type CgroupHost } from '../cgroups/host';
import { closeCgroupJoinFds, createCgroup, openCgroupJoinFds, removeCgroup } from '../cgroups/membership';
import { cgroupMountSteps } from '../cgroups/mount';
import { resolveContainerCgroup, type ContainerCgroup } from '../cgroups/paths';
import { applyResources } from '../cgroups/resources';
import { isWithin } from '../mountinfo';
import { OcitsError, isErrno, messageOf } from '../errors';
import { tracer } from '../log';
import { checkBundle } from '../spec/bundle';
import { formatProblem } from '../spec/problems';
import type { RuntimeConfig } from '../spec/types';
import { OCI_VERSION } from '../spec/version';
import { runHooks, runHooksWarningOnFailure } from './hooks';
import { buildInitPlan, type InitPlan } from './init-plan';
import {
  MESSAGE_ERROR,
  MESSAGE_INIT_PID,
  MESSAGE_MAP_IDS,
  MESSAGE_MOUNTED,
  MESSAGE_READY,
  MESSAGE_SECCOMP_LISTENER,
  continueMessage,
  decodeMessage,
  describeFailure,
  type InitMessage,
} from './init-protocol';
import { openNamespaceJoins, writeIdMaps } from './namespaces';
import { SIGKILL, signalQuietly } from './kill';
import { sendToSeccompListener } from './seccomp';
import { passedFds } from './passed-fds';
import { readProcessStat } from './process-status';
import { EXEC_FIFO, type ContainerRecord, type StateStore } from './store';
import { assertSealedExecutable } from './sealed-exe';
import { writeFileAtomically } from './write-file';

const trace = tracer('create');

const CLONE_NEWPID = 0x20000000;

export interface CreateOptions {
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  noPivot: boolean;
  /** --preserve-fds: this many fds after 3 (and the LISTEN_FDS ones) pass to the process. */
  preserveFds?: number;
  /**
   * `run` in the foreground with a terminal: hand the pty master back to the
   * caller instead of sending it to a console socket.
   */
  keepConsole?: boolean;
}

export interface CreatedContainer {
  pid: number;
  /** The pty master, when keepConsole asked for it. */
  consoleMaster?: number;
}

export function createContainer(store: StateStore, id: string, options: CreateOptions): CreatedContainer {
  store.containerDir(id); // refuses a bad id before anything is read
  const { bundleDir, config } = loadConfig(options.bundle);
  const terminal = config.process?.terminal === true;
  if (terminal && options.consoleSocket === undefined && options.keepConsole !== true) {
    throw new OcitsError('process.terminal is true, so --console-socket is required');
  }
  if (!terminal && options.consoleSocket !== undefined) {
    throw new OcitsError('--console-socket was given but process.terminal is false');
  }
  const rootfs = resolveRootfs(bundleDir, config);
  // Everything that can be refused is refused before anything is made.
  const host = detectCgroupHost();
  const privileged = process.geteuid?.() === 0;
  const configured = resolveContainerCgroup(host, config.linux?.cgroupsPath, id);
  // runc's rootless rule: without permission to make cgroups, the container
  // stays in ours, and its cgroup mounts show ours.
  const ownCgroups = !privileged && !canCreateCgroup(configured);
  const cgroup = ownCgroups ? currentCgroup(host) : configured;
  if (ownCgroups) trace('no permission to create cgroup %o: the container stays in ours', configured.dirs.map((d) => d.dir));
  const fifo = path.join(store.containerDir(id), EXEC_FIFO);
  const stateBase = { ociVersion: OCI_VERSION, id, bundle: bundleDir, annotations: config.annotations ?? {} };
  const plan = buildInitPlan(config, {
    bundleDir,
    rootfs,
    execFifo: fifo,
    consoleSocket: -1,
    noPivot: options.noPivot,
    cgroupMountSteps: (cgroupNamespace) => cgroupMountSteps(host, cgroup, cgroupNamespace),
    stateBufferSize: Buffer.byteLength(JSON.stringify(stateBase)) * 2 + 256,
    privileged,
  });
  const joinFds = openNamespaceJoins(plan.namespaces.joins, config.linux?.namespaces ?? []);
  const passed = passedFds(options.preserveFds ?? 0);
  plan.passedFds = passed.count;
  plan.process.env = [...plan.process.env, ...passed.env];

  const lock = store.claim(id);
  const undo = new Cleanup();
  const closeJoinFds = once(() => joinFds.forEach((fd) => fs.closeSync(fd)));
  undo.add(closeJoinFds);
  undo.add(() => store.remove(id));
  try {
    const record: ContainerRecord = {
      ociVersion: OCI_VERSION,
      id,
      bundle: bundleDir,
      rootfs,
      status: 'creating',
      created: new Date().toISOString(),
      owner: ownerName(),
      ...(config.annotations !== undefined ? { annotations: config.annotations } : {}),
      hooks: { poststart: config.hooks?.poststart, poststop: config.hooks?.poststop },
    };
    store.write(record);

    if (!ownCgroups) {
      createCgroup(cgroup);
      undo.add(() => removeCgroup(cgroup));
      plan.cgroup = openCgroupJoinFds(cgroup);
      undo.add(() => closeCgroupJoinFds(plan.cgroup));
      record.cgroup = cgroup;
      applyDeviceRules(host, cgroup, config.linux?.resources?.devices ?? []);
      // Before the init process exists: it joins a cgroup that is already limited.
      if (config.linux?.resources !== undefined) applyResources(cgroup, config.linux.resources);
    }

    addon().mkfifo(fifo, 0o622);

    const console = openConsole(options, terminal);
    undo.add(() => console.close());
    plan.process.consoleSocket = console.childEnd;

    const spawned = spawnInit(plan);
    const { socket } = spawned;
    trace('init process %d', spawned.pid);
    const closeSocket = once(() => fs.closeSync(socket));
    undo.add(closeSocket);
    // The process to kill on failure: the one we cloned, then the init it forked.
    const child = { pid: spawned.pid };
    undo.add(() => killAndReap(child.pid));
    console.closeChildEnd();
    closeJoinFds();
    child.pid = enterNamespaces(spawned, plan, config);
    const pid = child.pid;

    if (config.process?.oomScoreAdj !== undefined) {
      fs.writeFileSync(`/proc/${pid}/oom_score_adj`, String(config.process.oomScoreAdj));
    }
    const runtimeState = { ...stateBase, pid, status: 'creating' };
    // Hooks inside the container see its pid as the container sees it.
    const innerPid = ((plan.cloneFlags | plan.namespaces.unshareFlags) & CLONE_NEWPID) !== 0 ? 1 : pid;
    const stateDocuments =
      JSON.stringify({ ...stateBase, pid: innerPid, status: 'creating' }) + '\0' +
      JSON.stringify({ ...stateBase, pid: innerPid, status: 'created' }) + '\0';
    sendToInit(socket, Buffer.from(stateDocuments), plan, config);

    expectMessage(socket, MESSAGE_MOUNTED, plan, config);
    runHooks('prestart', config.hooks?.prestart, runtimeState);
    runHooks('createRuntime', config.hooks?.createRuntime, runtimeState);
    sendToInit(socket, continueMessage(), plan, config);
    if (plan.process.seccomp?.listener === true) {
      const notifyFd = expectListenerFd(socket, plan, config);
      try {
        sendToSeccompListener(config.linux!.seccomp!, notifyFd, runtimeState);
      } finally {
        fs.closeSync(notifyFd);
      }
      sendToInit(socket, continueMessage(), plan, config);
    }
    expectMessage(socket, MESSAGE_READY, plan, config);
    closeSocket();
    closeCgroupJoinFds(plan.cgroup);

    const consoleMaster = console.receiveMaster();
    record.pid = pid;
    record.pidStartTime = readProcessStat(pid)?.startTime;
    delete record.status;
    store.write(record);
    if (options.pidFile !== undefined) writeFileAtomically(path.resolve(options.pidFile), String(pid));
    lock.release();
    return { pid, ...(consoleMaster !== undefined ? { consoleMaster } : {}) };
  } catch (error) {
    // The spec's "continue the lifecycle at step 12": destroy, then poststop.
    undo.run();
    runHooksWarningOnFailure('poststop', config.hooks?.poststop, {
      ociVersion: OCI_VERSION, id, status: 'stopped', bundle: bundleDir, annotations: config.annotations ?? {},
    });
    lock.release();
    throw error;
  }
}

export function loadConfig(bundle: string): { bundleDir: string; config: RuntimeConfig } {
  const { bundleDir, config, problems } = checkBundle(bundle);
  const errors = problems.filter((problem) => problem.severity === 'error');
  if (errors.length > 0) {
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more; see ocits validate)` : '';
    throw new OcitsError(`invalid config.json: ${formatProblem(errors[0])}${more}`);
  }
  return { bundleDir, config };
}

function resolveRootfs(bundleDir: string, config: RuntimeConfig): string {
  const given = path.resolve(bundleDir, config.root.path);
  try {
    return fs.realpathSync(given);
  } catch {
    throw new OcitsError(`/root/path: ${given} does not exist`);
  }
}

function ownerName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return String(process.getuid?.() ?? '');
  }
}

/** Undo actions, run newest first; one failing does not stop the others. */
class Cleanup {
  private readonly actions: Array<() => void> = [];
  add(action: () => void): void {
    this.actions.push(action);
  }
  run(): void {
    for (const action of this.actions.reverse()) {
      try {
        action();
      } catch (error) {
        trace('cleanup: %s', messageOf(error));
      }
    }
  }
}

/** Wraps a close so the success path and the cleanup cannot both run it. */
function once(action: () => void): () => void {
  let done = false;
  return () => {
    if (!done) action();
    done = true;
  };
}

// The addon refuses a plan it cannot start (an idmapped mount's source that
// cannot be idmapped, say) with a message naming the mount.
function spawnInit(plan: InitPlan): { pid: number; socket: number } {
  assertSealedExecutable();
  try {
    return addon().spawnContainerInit(plan);
  } catch (error) {
    throw new OcitsError(messageOf(error));
  }
}

function killAndReap(pid: number): void {
  signalQuietly(pid, SIGKILL); // an exited child still needs reaping
  addon().reap(pid);
}

/**
 * The parent's part of the init's way into its namespaces: the id maps of a
 * new user namespace, and the pid of an init that had to be forked (the
 * child that forked it exits; we reap it). Returns the init's pid.
 */
function enterNamespaces(spawned: { pid: number; socket: number }, plan: InitPlan, config: RuntimeConfig): number {
  if (plan.idMaps !== null) {
    expectMessage(spawned.socket, MESSAGE_MAP_IDS, plan, config);
    writeIdMaps(spawned.pid, plan.idMaps);
    sendToInit(spawned.socket, continueMessage(), plan, config);
  }
  if (!plan.namespaces.forkInit) return spawned.pid;
  const message = expectMessage(spawned.socket, MESSAGE_INIT_PID, plan, config);
  // It exits once it has sent the pid; nothing can fail between here and the caller's taking the init's pid.
  addon().reap(spawned.pid);
  trace('forked init process %d', message.index);
  return message.index;
}

/**
 * Sends to the init, which works on while we do and may have failed and
 * exited before it reads this: then its failure waits in the socket, and
 * says what the EPIPE does not.
 */
function sendToInit(socket: number, payload: Buffer, plan: InitPlan, config: RuntimeConfig): void {
  try {
    addon().initSend(socket, payload);
  } catch (error) {
    if (!isErrno(error, 'EPIPE') && !isErrno(error, 'ECONNRESET')) throw error;
    // The init has closed its end, so this ends: checkMessage throws at its
    // failure, or at the end of its messages.
    for (;;) {
      const bytes = addon().initReceive(socket);
      const message = decodeMessage(bytes);
      if (message === undefined || message.kind === MESSAGE_ERROR) checkMessage(bytes, MESSAGE_ERROR, plan, config);
    }
  }
}

function expectMessage(socket: number, kind: number, plan: InitPlan, config: RuntimeConfig): InitMessage {
  return checkMessage(addon().initReceive(socket), kind, plan, config);
}

/** The seccomp notify fd, which the init process sends once it loaded its filter. */
function expectListenerFd(socket: number, plan: InitPlan, config: RuntimeConfig): number {
  const { message, fd } = addon().initReceiveWithFd(socket);
  try {
    checkMessage(message, MESSAGE_SECCOMP_LISTENER, plan, config);
    if (fd < 0) throw new OcitsError('container init sent no seccomp notify fd');
  } catch (error) {
    if (fd >= 0) fs.closeSync(fd);
    throw error;
  }
  return fd;
}

function checkMessage(bytes: Buffer, kind: number, plan: InitPlan, config: RuntimeConfig): InitMessage {
  const message = decodeMessage(bytes);
  if (message === undefined) throw new OcitsError('container init exited before it was set up');
  if (message.kind === MESSAGE_ERROR) {
    const destination = (index: number): string => config.mounts?.[index]?.destination ?? '?';
    throw new OcitsError(`container init failed: ${describeFailure(message, plan, destination)}`);
  }
  if (message.kind !== kind) throw new OcitsError(`container init sent message ${message.kind}, expected ${kind}`);
  return message;
}

/** Whether we may make the container's cgroup: the nearest existing ancestor of each directory is writable. */
function canCreateCgroup(cgroup: ContainerCgroup): boolean {
  return cgroup.dirs.every((entry) => {
    let dir = entry.dir;
    while (!fs.existsSync(dir)) dir = path.dirname(dir);
    try {
      fs.accessSync(dir, fs.constants.W_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Our own cgroup in each hierarchy, where a rootless container stays. */
function currentCgroup(host: CgroupHost): ContainerCgroup {
  const dirs = host.hierarchies.map((hierarchy) => {
    const { mountPoint, fstype, controllers, root, ownPath } = hierarchy;
    const inside = isWithin(ownPath, root) ? path.posix.relative(root, ownPath) : '';
    return { mountPoint, fstype, controllers, dir: path.posix.join(mountPoint, inside), relative: ownPath };
  });
  return { mode: host.mode, dirs };
}

export interface ConsoleChannel {
  /** The fd the init process sends the pty master on, or -1. */
  childEnd: number;
  closeChildEnd(): void;
  receiveMaster(): number | undefined;
  close(): void;
}

// With --console-socket the master goes straight to the engine's socket. For
// `run` and `exec` in the foreground it comes back to us over a socketpair.
export function openConsole(
  options: Pick<CreateOptions, 'consoleSocket' | 'keepConsole'>,
  terminal: boolean,
): ConsoleChannel {
  if (!terminal) {
    return { childEnd: -1, closeChildEnd: () => {}, receiveMaster: () => undefined, close: () => {} };
  }
  if (options.consoleSocket !== undefined) {
    const socket = connectConsoleSocket(options.consoleSocket);
    const closeSocket = once(() => fs.closeSync(socket));
    return { childEnd: socket, closeChildEnd: closeSocket, receiveMaster: () => undefined, close: closeSocket };
  }
  const [ours, theirs] = addon().socketPair();
  const open = new Set([ours, theirs]);
  const closeOne = (fd: number): void => {
    if (open.delete(fd)) fs.closeSync(fd);
  };
  return {
    childEnd: theirs,
    closeChildEnd: () => closeOne(theirs),
    receiveMaster: () => {
      const master = addon().receiveFd(ours);
      closeOne(ours);
      return master;
    },
    close: () => {
      closeOne(ours);
      closeOne(theirs);
    },
  };
}

function connectConsoleSocket(socketPath: string): number {
  try {
    return addon().connectUnix(path.resolve(socketPath));
  } catch (error) {
    throw new OcitsError(`--console-socket: cannot connect to ${socketPath}: ${messageOf(error)}`);
  }
}
