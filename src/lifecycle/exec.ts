// `exec`: runs another process in a running container. The process spec is
// --process's file or the container's own process with the flags applied;
// the addon's child joins the container's cgroup and namespaces, forks into
// its pid namespace and runs the process with the init's code for limits,
// credentials and terminal. Without --detach we stay, as a child subreaper,
// and exit with the process's status.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addon } from '../addon';
import { openCgroupJoinFds, type CgroupJoinFds } from '../cgroups/membership';
import { readCgroupFile } from '../cgroups/files';
import type { ContainerCgroup } from '../cgroups/paths';
import { OcitsError, isErrno, messageOf, quoted } from '../errors';
import { tracer } from '../log';
import { readJsonFile } from '../spec/json';
import { schemaProblems } from '../spec/schema';
import { semanticProblems } from '../spec/semantic';
import type { Capabilities, Process, RuntimeConfig } from '../spec/types';
import { loadConfig, openConsole, type ConsoleChannel } from './create';
import { planProcess, type InitProcess } from './init-plan';
import { planExecSeccomp } from './seccomp';
import { MESSAGE_ERROR, decodeMessage, describeFailure } from './init-protocol';
import { isSameLiveProcess } from './process-status';
import { forwardSignals, relayTerminal, type TerminalRelay } from './run';
import { statusOf } from './state';
import type { ContainerRecord, StateStore } from './store';
import { planLsmWrites } from './lsm';
import { isOpen } from './passed-fds';
import { unsupportedFeatures } from './unsupported';
import { writeFileAtomically } from './write-file';

const trace = tracer('exec');

/** addon/init/plan.h: kMessageExecPid. */
const MESSAGE_EXEC_PID = 5;

export interface ExecOptions {
  /** A runtime-spec process JSON file (engines use this). */
  processFile?: string;
  /** COMMAND [ARGS...]; empty to keep the process's own. */
  args: string[];
  cwd?: string;
  /** Appended to the process's environment. */
  env: string[];
  /** uid[:gid] */
  user?: string;
  additionalGids: number[];
  /** Added to every capability set. */
  caps: string[];
  /** Only when given on the command line. */
  noNewPrivs?: boolean;
  apparmor?: string;
  processLabel?: string;
  /** Only when given on the command line. */
  tty?: boolean;
  consoleSocket?: string;
  detach: boolean;
  pidFile?: string;
  preserveFds: number;
  ignorePaused: boolean;
}

/** A namespace of the container's init the child joins (addon/exec_plan.h). */
export interface ExecNamespace {
  fd: number;
  /** CLONE_NEW* */
  type: number;
  name: string;
}

/** The addon's input (addon/exec_plan.h mirrors it). */
export interface ExecPlan {
  cgroup: CgroupJoinFds;
  /** In the order they are joined. */
  namespaces: ExecNamespace[];
  preservedFds: number;
  /** Decimal, or null to keep ours. */
  oomScoreAdj: string | null;
  process: InitProcess;
}

// runc's order: the user namespace first, since it decides what may be
// joined after it; the mount namespace late, while /proc is still the host's.
const NAMESPACES: ReadonlyArray<[name: string, type: number]> = [
  ['user', 0x10000000],
  ['ipc', 0x08000000],
  ['uts', 0x04000000],
  ['net', 0x40000000],
  ['pid', 0x20000000],
  ['mnt', 0x00020000],
  ['cgroup', 0x02000000],
  ['time', 0x00000080],
];

/** Returns the status for `exec` itself: the process's, 128+N for signal N; 0 when detached. */
export async function execInContainer(store: StateStore, id: string, options: ExecOptions): Promise<number> {
  if (options.detach) {
    startProcess(store, id, options);
    return 0;
  }
  // Before the process starts: it may be signalled as soon as it runs.
  let started: StartedProcess | undefined;
  const forwarders = forwardSignals(() => started?.pid);
  let terminal: TerminalRelay | undefined;
  try {
    started = startProcess(store, id, options);
    const exited = addon().waitForExit(started.pid);
    if (started.consoleMaster !== undefined) terminal = relayTerminal(started.consoleMaster);
    const status = await exited;
    await terminal?.finished();
    return status.code ?? 128 + (status.signal ?? 0);
  } finally {
    for (const [signal, handler] of forwarders) process.off(signal, handler);
  }
}

interface StartedProcess {
  /** Host pid. */
  pid: number;
  /** The pty master, for a foreground exec with a terminal. */
  consoleMaster?: number;
}

function startProcess(store: StateStore, id: string, options: ExecOptions): StartedProcess {
  if (!Number.isInteger(options.preserveFds) || options.preserveFds < 0) {
    throw new OcitsError(`--preserve-fds: ${options.preserveFds} is not a number of fds`);
  }
  // As create: each must be open, which also bounds the count the addon loops over as an int.
  for (let fd = 3; fd < 3 + options.preserveFds; ++fd) {
    if (!isOpen(fd)) throw new OcitsError(`preserved fd ${fd} (--preserve-fds ${options.preserveFds}) is not open`);
  }
  const opened: number[] = [];
  let console: ConsoleChannel | undefined;
  let spawned: { pid: number; socket: number };
  let processSpec: Process;
  const lock = store.lock(id);
  try {
    const record = store.read(id);
    checkState(store, record, options.ignorePaused);
    const resolved = resolveProcess(record, options);
    processSpec = resolved.process;
    // The container's filter holds for every process in it, as in runc.
    const containerSeccomp = resolved.config.linux?.seccomp;
    const seccomp = containerSeccomp !== undefined ? planExecSeccomp(containerSeccomp) : null;
    const terminal = processSpec.terminal === true;
    checkConsole(options, terminal);

    const namespaces = openNamespaces(record.pid!, opened);
    // Opened first, checked second: the fds are the recorded process's if it
    // is still alive now.
    if (!isSameLiveProcess(record.pid!, record.pidStartTime!)) throw new OcitsError('cannot exec in a stopped container');
    const cgroup: CgroupJoinFds = record.cgroup !== undefined ? openCgroupJoinFds(cgroupToJoin(record.cgroup, record.pid!)) : { dir: -1, tasks: [] };
    opened.push(...cgroup.tasks, ...(cgroup.dir >= 0 ? [cgroup.dir] : []));
    console = openConsole({ consoleSocket: options.consoleSocket }, terminal);

    // Before the intermediate child exits, or its child goes to init.
    if (!options.detach) addon().becomeChildSubreaper();
    spawned = addon().spawnExecProcess({
      cgroup,
      namespaces,
      preservedFds: options.preserveFds,
      oomScoreAdj: processSpec.oomScoreAdj !== undefined ? String(processSpec.oomScoreAdj) : null,
      process: { ...planExecProcess(processSpec, console.childEnd, record.pid!), seccomp },
    });
    trace('exec child %d', spawned.pid);
  } catch (error) {
    console?.close();
    throw error;
  } finally {
    for (const fd of opened) fs.closeSync(fd);
    // The child has dropped our fds, this lock's among them: a paused
    // container's `resume` must not wait for a process it froze.
    lock.release();
  }
  try {
    console.closeChildEnd();
    const pid = awaitExec(spawned, options.detach);
    const consoleMaster = console.receiveMaster();
    // runc writes the pid file with or without --detach.
    if (options.pidFile !== undefined) writeFileAtomically(path.resolve(options.pidFile), String(pid), 'pid file');
    return { pid, ...(consoleMaster !== undefined ? { consoleMaster } : {}) };
  } finally {
    console.close();
  }
}

function checkState(store: StateStore, record: ContainerRecord, ignorePaused: boolean): void {
  const status = statusOf(store, record);
  if (status === 'stopped') throw new OcitsError('cannot exec in a stopped container');
  // runc 1.1.5 execs here too, but the container's own process has not run
  // yet: its hooks and the rest of start are still to come.
  if (status === 'created') throw new OcitsError('cannot exec in a created container: start it first');
  if (status === 'creating') throw new OcitsError(`container ${record.id} is still being created`);
  if (!ignorePaused && record.cgroup !== undefined && isFrozen(record.cgroup)) {
    throw new OcitsError('cannot exec in a paused container (use --ignore-paused to override)');
  }
}

/** Whether the container's cgroup is frozen (paused) in any hierarchy. */
function isFrozen(cgroup: ContainerCgroup): boolean {
  return cgroup.dirs.some((dir) => {
    if (dir.fstype === 'cgroup2') return readCgroupFile(dir.dir, 'cgroup.freeze')?.trim() === '1';
    if (!dir.controllers.includes('freezer')) return false;
    return readCgroupFile(dir.dir, 'freezer.state')?.trim() !== 'THAWED';
  });
}

/**
 * The container's cgroup, except on cgroup v2 when the container has handed
 * controllers down to cgroups below it (systemd inside does): the kernel
 * then refuses processes in it, and like runc we join the init's cgroup.
 */
function cgroupToJoin(cgroup: ContainerCgroup, initPid: number): ContainerCgroup {
  const dirs = cgroup.dirs.map((entry) => {
    if (entry.fstype !== 'cgroup2' || (readCgroupFile(entry.dir, 'cgroup.subtree_control') ?? '').trim() === '') return entry;
    const line = fs.readFileSync(`/proc/${initPid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'));
    if (line === undefined) return entry;
    const relative = line.slice('0::'.length);
    return { ...entry, dir: path.join(entry.mountPoint, relative), relative };
  });
  return { ...cgroup, dirs };
}

/**
 * The process to run, as runc builds it: --process's file, or the
 * container's process with COMMAND as args; then the flags on top. A file's
 * process without capabilities, rlimits, umask or oomScoreAdj gets the container's.
 */
export function resolveProcess(record: ContainerRecord, options: ExecOptions): { process: Process; config: RuntimeConfig } {
  const { bundleDir, config } = loadConfig(record.bundle);
  const container = config.process!;
  let process: Process;
  if (options.processFile !== undefined) {
    process = readProcessFile(options.processFile, config, bundleDir);
    process.capabilities ??= container.capabilities;
    if ((process.rlimits ?? []).length === 0 && container.rlimits !== undefined) process.rlimits = container.rlimits;
    process.user.umask ??= container.user.umask;
    process.oomScoreAdj ??= container.oomScoreAdj;
  } else {
    process = structuredClone(container);
    // runc: a terminal only with --tty, whatever the container has.
    process.terminal = false;
    if (options.args.length === 0) throw new OcitsError('process args cannot be empty');
  }
  applyFlags(process, options);
  if (process.args.length === 0) throw new OcitsError('process args cannot be empty');
  if (!path.posix.isAbsolute(process.cwd)) throw new OcitsError(`cwd ${JSON.stringify(process.cwd)} must be an absolute path`);
  const unsupported = unsupportedFeatures({ ...config, process });
  const about = unsupported.find((problem) => problem.startsWith('/process/'));
  if (about !== undefined) throw new OcitsError(about);
  return { process, config };
}

function readProcessFile(file: string, config: RuntimeConfig, bundleDir: string): Process {
  const label = `--process ${quoted(file)}`;
  const document = readJsonFile(file, label);
  // runc runs a process without a user as root.
  if (typeof document === 'object' && document !== null && !('user' in document)) {
    (document as Partial<Process>).user = { uid: 0, gid: 0 };
  }
  // Checked as the process of the container's config, so the same checks apply.
  const candidate = { ...config, process: document } as RuntimeConfig;
  const structural = schemaProblems('config', candidate);
  const problems = [...structural, ...semanticProblems(candidate, bundleDir, structural)].filter(
    (problem) => problem.severity === 'error' && problem.pointer.startsWith('/process'),
  );
  if (problems.length > 0) {
    const [first] = problems;
    throw new OcitsError(`${label}: ${first.pointer.slice('/process'.length) || '/'}: ${first.message}`);
  }
  return document as Process;
}

function applyFlags(process: Process, options: ExecOptions): void {
  // Refused here, naming the flag, on a host without the module.
  planLsmWrites(options.apparmor, options.processLabel, { apparmor: '--apparmor', selinux: '--process-label' });
  if (options.apparmor !== undefined && options.apparmor !== '') process.apparmorProfile = options.apparmor;
  if (options.processLabel !== undefined && options.processLabel !== '') process.selinuxLabel = options.processLabel;
  if (options.args.length > 0) process.args = options.args;
  if (options.cwd !== undefined && options.cwd !== '') process.cwd = options.cwd;
  if (options.env.length > 0) process.env = [...(process.env ?? []), ...options.env];
  if (options.tty !== undefined) process.terminal = options.tty;
  if (options.noNewPrivs !== undefined) process.noNewPrivileges = options.noNewPrivs;
  if (options.user !== undefined && options.user !== '') {
    const [uid, gid, ...rest] = options.user.split(':');
    if (rest.length > 0) throw new OcitsError(`--user ${options.user}: expected uid[:gid]`);
    process.user = { ...process.user, uid: parseId(uid, '--user uid') };
    if (gid !== undefined) process.user.gid = parseId(gid, '--user gid');
  }
  for (const gid of options.additionalGids) {
    if (!Number.isInteger(gid) || gid < 0 || gid > 0xfffffffe) throw new OcitsError(`--additional-gids: ${gid} is not a group id`);
  }
  if (options.additionalGids.length > 0) {
    process.user.additionalGids = [...(process.user.additionalGids ?? []), ...options.additionalGids];
  }
  if (options.caps.length > 0) {
    const sets: Required<Capabilities> = { bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] };
    for (const set of Object.keys(sets) as Array<keyof Capabilities>) {
      sets[set] = [...(process.capabilities?.[set] ?? []), ...options.caps];
    }
    process.capabilities = sets;
  }
}

function parseId(text: string, what: string): number {
  if (!/^[0-9]+$/.test(text) || Number(text) > 0xfffffffe) throw new OcitsError(`${what}: ${JSON.stringify(text)} is not a number`);
  return Number(text);
}

function checkConsole(options: ExecOptions, terminal: boolean): void {
  if (options.detach && terminal && options.consoleSocket === undefined) {
    throw new OcitsError('cannot allocate tty if ocits will detach without setting console socket');
  }
  if (options.consoleSocket !== undefined && !(options.detach && terminal)) {
    throw new OcitsError('cannot use console socket if ocits will not detach or allocate tty');
  }
}

/**
 * Opens the init's namespaces that differ from ours; the same one needs no
 * joining (and the kernel refuses to rejoin one's own user namespace).
 */
function openNamespaces(initPid: number, opened: number[]): ExecNamespace[] {
  const namespaces: ExecNamespace[] = [];
  for (const [name, type] of NAMESPACES) {
    let fd: number;
    try {
      fd = fs.openSync(`/proc/${initPid}/ns/${name}`, fs.constants.O_RDONLY);
    } catch (error) {
      // A kernel without this kind of namespace (time before 5.6).
      if (isErrno(error, 'ENOENT') && !fs.existsSync(`/proc/self/ns/${name}`)) continue;
      if (isErrno(error, 'ENOENT') || isErrno(error, 'ESRCH')) throw new OcitsError('cannot exec in a stopped container');
      throw new OcitsError(`cannot open the container's ${name} namespace: ${messageOf(error)}`);
    }
    opened.push(fd);
    const theirs = fs.fstatSync(fd);
    const ours = fs.statSync(`/proc/self/ns/${name}`);
    if (theirs.ino !== ours.ino || theirs.dev !== ours.dev) namespaces.push({ fd, type, name });
  }
  return namespaces;
}

/**
 * The process part of the plan. A rootless container's user namespace
 * denies setgroups(2): its processes keep their groups, and asking for
 * others is an error.
 */
function planExecProcess(processSpec: Process, consoleSocket: number, initPid: number): InitProcess {
  let setGroups = true;
  try {
    setGroups = fs.readFileSync(`/proc/${initPid}/setgroups`, 'utf8').trim() !== 'deny';
  } catch {
    // no user namespace support: setgroups is never denied
  }
  if (!setGroups && (processSpec.user.additionalGids ?? []).length > 0) {
    throw new OcitsError('additional gids: the container\'s user namespace denies setgroups (rootless), so they cannot be set');
  }
  return { ...planProcess(processSpec, consoleSocket), setGroups };
}

/**
 * Reads the child's messages: the pid of the process it forked, then either
 * a failure or the end of the socket, which execve closes. Returns the pid.
 */
function awaitExec(spawned: { pid: number; socket: number }, detached: boolean): number {
  let pid: number | undefined;
  try {
    const first = decodeMessage(addon().initReceive(spawned.socket));
    addon().reap(spawned.pid);
    if (first === undefined) throw new OcitsError('exec: the process exited before it was set up');
    if (first.kind === MESSAGE_ERROR) throw new OcitsError(describeFailure(first));
    if (first.kind !== MESSAGE_EXEC_PID) throw new OcitsError(`exec: unexpected message ${first.kind}`);
    pid = first.index;
    const second = decodeMessage(addon().initReceive(spawned.socket));
    if (second?.kind === MESSAGE_ERROR) {
      // It has exited; as its subreaper we reap it.
      if (!detached) addon().reap(pid);
      throw new OcitsError(describeFailure(second));
    }
    return pid;
  } finally {
    fs.closeSync(spawned.socket);
  }
}
