// `create`: builds the container and leaves its init process waiting on
// exec.fifo for `start`. Everything create makes (state directory, cgroup,
// fifo, process) is undone if any step fails, so a failed create leaves
// nothing behind.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addon } from '../addon';
import { CHROOT } from '../addon-plan';
import { applyDeviceRules } from '../cgroups/devices';
import { detectCgroupHost, type CgroupHost } from '../cgroups/host';
import { isFrozen } from '../cgroups/freezer';
import { cgroupPids, closeCgroupJoinFds, createCgroup, moveIntoCgroup, openCgroupJoinFds, removeCgroup } from '../cgroups/membership';
import { cgroupMountSteps } from '../cgroups/mount';
import { placeContainer } from '../cgroups/placement';
import { applyResources } from '../cgroups/resources';
import type { ContainerCgroup } from '../cgroups/paths';
import { planScope, startScope, stopCreatedSlices, stopScope, type ScopePlan } from '../cgroups/systemd';
import { oomKillCount } from '../cgroups/stats';
import { OcitsError, errnoText, messageOf, quoted } from '../errors';
import { logWarning, tracer } from '../log';
import { liveHost } from '../plan/host';
import { buildInitPlan, type InitPlan } from '../plan/init';
import { openNamespaceJoins, writeIdMaps } from '../plan/namespaces';
import { passedFds } from '../plan/passed-fds';
import { expectListenerFd, expectMessage, killAndReap, sendContinue, sendStateDocuments } from '../plan/protocol';
import { sendToSeccompListener } from '../plan/seccomp';
import { loadConfig } from '../spec/bundle';
import type { RuntimeConfig } from '../spec/types';
import { OCI_VERSION } from '../spec/version';
import { runHooks, runHooksWarningOnFailure } from './hooks';
import { mountIdAt, unmountContainerMounts } from './host-mounts';
import { Cleanup, once } from './cleanup';
import { readProcessStat } from './process-status';
import { EXEC_FIFO } from './state';
import type { ContainerRecord, StateStore } from './store';
import { openConsole } from './terminal';
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
  /** --systemd-cgroup: the cgroup is a transient systemd scope (cgroups/systemd.ts). */
  systemdCgroup?: boolean;
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
  const systemd = options.systemdCgroup === true ? planScope(host, config, id, privileged) : undefined;
  const { cgroup, ownCgroup, configured } =
    systemd !== undefined
      ? { cgroup: systemd.cgroup, ownCgroup: false, configured: systemd.cgroup }
      : placeContainer(host, config.linux?.cgroupsPath, id, privileged);
  if (ownCgroup) trace('no permission to create cgroup %o: the container stays in ours', configured.dirs.map((d) => d.dir));
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
    host: liveHost,
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
    // Once the id is ours: a create of a taken id says only that.
    // (A scope that exists already is refused by systemd itself.)
    if (!ownCgroup && systemd === undefined) checkExistingCgroup(cgroup);
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
      // Each resource is on record before it exists (the cgroup) or as soon
      // as it does (the init), so that `delete` finishes a create killed at
      // any point; until its end, "creating" says it may be half made.
      ...(!ownCgroup ? { cgroup } : {}),
      ...(plan.rootEntry === CHROOT ? { rootfsMountBefore: mountIdAt(rootfs) } : {}),
      ...(systemd !== undefined ? { systemd: systemd.scope } : {}),
    };
    store.write(record);

    if (systemd !== undefined) {
      // The scope takes the init's pid, so it starts once the init exists
      // (placeInScope); stopping one that never started is no error.
      // Undone last to first: the scope, its cgroups, then slices left empty.
      undo.add(() => stopCreatedSlices(systemd.scope, cgroup, systemd.bus));
      undo.add(() => removeCgroup(cgroup));
      undo.add(() => stopScope(systemd.scope, systemd.bus));
      plan.cgroup.fromParent = true;
    } else if (!ownCgroup) {
      createCgroup(cgroup);
      undo.add(() => removeCgroup(cgroup));
      plan.cgroup = openCgroupJoinFds(cgroup);
      undo.add(() => closeCgroupJoinFds(plan.cgroup));
      applyDeviceRules(host, cgroup, config.linux?.resources?.devices ?? []);
      // Before the init process exists: it joins a cgroup that is already limited.
      if (config.linux?.resources !== undefined) applyResources(cgroup, config.linux.resources);
    }

    const { rootfsMountBefore } = record;
    // After the init is killed (the undo runs last to first).
    if (rootfsMountBefore !== undefined) undo.add(() => unmountContainerMounts(rootfs, rootfsMountBefore));
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
    if (systemd !== undefined) placeInScope(socket, spawned.pid, systemd, host, config, plan, privileged);
    child.pid = enterNamespaces(spawned, plan, config);
    const pid = child.pid;
    // Before "ready": from then on the init no longer dies with us.
    record.pid = pid;
    record.pidStartTime = readProcessStat(pid)?.startTime;
    store.write(record);

    if (config.process?.oomScoreAdj !== undefined) setOomScoreAdj(pid, config.process.oomScoreAdj);
    const runtimeState = { ...stateBase, pid, status: 'creating' };
    // Hooks inside the container see its pid as the container sees it.
    const innerPid = ((plan.cloneFlags | plan.namespaces.unshareFlags) & CLONE_NEWPID) !== 0 ? 1 : pid;
    const stateDocuments =
      JSON.stringify({ ...stateBase, pid: innerPid, status: 'creating' }) + '\0' +
      JSON.stringify({ ...stateBase, pid: innerPid, status: 'created' }) + '\0';
    sendStateDocuments(socket, stateDocuments, plan, config);
    expectMessage(socket, 'mounted', plan, config);
    runHooks('prestart', config.hooks?.prestart, runtimeState);
    runHooks('createRuntime', config.hooks?.createRuntime, runtimeState);
    sendContinue(socket);
    if (plan.process.seccomp?.listener === true) {
      const notifyFd = expectListenerFd(socket, plan, config);
      try {
        sendToSeccompListener(config.linux!.seccomp!, notifyFd, pid, runtimeState);
      } finally {
        fs.closeSync(notifyFd);
      }
      sendContinue(socket);
    }
    expectMessage(socket, 'ready', plan, config);
    closeSocket();
    closeCgroupJoinFds(plan.cgroup);

    const consoleMaster = console.receiveMaster();
    delete record.status;
    store.write(record);
    if (options.pidFile !== undefined) writeFileAtomically(path.resolve(options.pidFile), String(pid), 'pid file');
    lock.release();
    return { pid, ...(consoleMaster !== undefined ? { consoleMaster } : {}) };
  } catch (caught) {
    // Read before the cgroup goes with the rest.
    const error = ownCgroup ? caught : explainOomKill(caught, cgroup, config);
    // The spec's "continue the lifecycle at step 12": destroy, then poststop.
    undo.run();
    runHooksWarningOnFailure('poststop', config.hooks?.poststop, {
      ociVersion: OCI_VERSION, id, status: 'stopped', bundle: bundleDir, annotations: config.annotations ?? {},
    });
    lock.release();
    throw error;
  }
}

/**
 * The init waits first thing for us to put it in its cgroup: systemd makes
 * the scope with it inside, then the hierarchies systemd leaves alone (v1
 * ones it has no controller for) get it from us, and the limits are set in
 * the files as well, all before it goes on.
 */
function placeInScope(
  socket: number,
  pid: number,
  systemd: ScopePlan,
  host: CgroupHost,
  config: RuntimeConfig,
  plan: InitPlan,
  privileged: boolean,
): void {
  expectMessage(socket, 'placeMe', plan, config);
  startScope(systemd, pid);
  createCgroup(systemd.cgroup);
  moveIntoCgroup(systemd.cgroup, pid);
  // A device program needs CAP_BPF or CAP_SYS_ADMIN, which a user's own
  // scope does not give; as runc, a rootless container goes without (its
  // user namespace already keeps it from making or using device nodes).
  if (privileged) applyDeviceRules(host, systemd.cgroup, config.linux?.resources?.devices ?? []);
  else trace('rootless: no device program on %s', systemd.scope.unit);
  if (config.linux?.resources !== undefined) applyResources(systemd.cgroup, config.linux.resources);
  sendContinue(socket);
}

/**
 * A cgroupsPath may name a cgroup that exists already. A frozen one would
 * freeze the init as it joins, and create would wait for it forever; one
 * with processes is shared with them. runc 1.1.5 refuses the first and warns
 * of the second, in these words, before it makes the cgroup.
 */
function checkExistingCgroup(cgroup: ContainerCgroup): void {
  if (isFrozen(cgroup)) throw new OcitsError("container's cgroup unexpectedly frozen");
  const pids = cgroupPids(cgroup);
  if (pids.length > 0) logWarning(`container's cgroup is not empty: ${pids.length} process(es) found`);
}

// Lowering it below what the process started with needs CAP_SYS_RESOURCE.
function setOomScoreAdj(pid: number, value: number): void {
  const file = `/proc/${pid}/oom_score_adj`;
  try {
    fs.writeFileSync(file, String(value));
  } catch (error) {
    throw new OcitsError(`/process/oomScoreAdj: cannot set it to ${value}: writing ${quoted(file)}: ${errnoText(error)}`);
  }
}

/**
 * The init joins a cgroup that is already limited, so a memory limit below
 * what setting it up takes gets it OOM-killed half-way; what reaches us is
 * only a closed socket. The cgroup's OOM kill count tells.
 */
function explainOomKill(error: unknown, cgroup: ContainerCgroup, config: RuntimeConfig): unknown {
  const limit = config.linux?.resources?.memory?.limit;
  if (limit === undefined || limit < 0) return error;
  let kills: number | undefined;
  try {
    kills = oomKillCount(cgroup);
  } catch {
    return error; // the cgroup was never made
  }
  if ((kills ?? 0) === 0) return error;
  return new OcitsError(
    `/linux/resources/memory/limit: the container's init process was killed by the OOM killer while it was set up: ${limit} bytes is too little memory to start it`,
  );
}

function resolveRootfs(bundleDir: string, config: RuntimeConfig): string {
  const given = path.resolve(bundleDir, config.root.path);
  try {
    return fs.realpathSync(given);
  } catch {
    throw new OcitsError(`/root/path: ${quoted(given)} does not exist`);
  }
}

/**
 * The caller's user name from /etc/passwd, or #UID without an entry, as
 * runc's list shows it. (Bun's os.userInfo() says "unknown" when $USER is
 * not set, as under an engine.)
 */
function ownerName(): string {
  const uid = String(process.geteuid?.() ?? 0);
  try {
    for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (id === uid && name !== '') return name;
    }
  } catch (error) {
    trace('cannot read /etc/passwd: %s', messageOf(error));
  }
  return `#${uid}`;
}

// The addon refuses a plan it cannot start with a message naming the mount:
// the user namespace of an idmapped mount it cannot make, for one. (A source
// that cannot be idmapped fails later, in the init, as its mount step.)
function spawnInit(plan: InitPlan): { pid: number; socket: number } {
  assertSealedExecutable();
  try {
    return addon().spawnContainerInit(plan);
  } catch (error) {
    throw new OcitsError(messageOf(error));
  }
}

/**
 * The parent's part of the init's way into its namespaces: the id maps of a
 * new user namespace, and the pid of an init that had to be forked (the
 * child that forked it exits; we reap it). Returns the init's pid.
 */
function enterNamespaces(spawned: { pid: number; socket: number }, plan: InitPlan, config: RuntimeConfig): number {
  if (plan.idMaps !== null) {
    expectMessage(spawned.socket, 'mapIds', plan, config);
    writeIdMaps(spawned.pid, plan.idMaps);
    sendContinue(spawned.socket);
  }
  if (!plan.namespaces.forkInit) return spawned.pid;
  const message = expectMessage(spawned.socket, 'initPid', plan, config);
  // It exits once it has sent the pid; nothing can fail between here and the caller's taking the init's pid.
  addon().reap(spawned.pid);
  trace('forked init process %d', message.index);
  return message.index;
}

