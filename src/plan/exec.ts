// The plan of `ocits exec` (addon/exec_plan.h, which addon/exec_child.cc
// carries out): the process as runc builds it from --process or the
// container's own with the flags on top, the namespaces of the container's
// init to join, and the process part of the plan, shared with the init.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NamespaceFd, ProcessPlan } from '../addon-plan';
import { OcitsError, isErrno, messageOf, quoted } from '../errors';
import { loadConfig } from '../spec/bundle';
import { readJsonFile } from '../spec/json';
import { schemaProblems } from '../spec/schema';
import { semanticProblems } from '../spec/semantic';
import type { Capabilities, Process, RuntimeConfig } from '../spec/types';
import type { PlanHost } from './host';
import { planLsmWrites } from './lsm';
import { planProcess } from './process';
import { unsupportedFeatures } from './unsupported';

/** What `exec`'s flags say about the process (the rest is lifecycle/exec.ts's). */
export interface ExecProcessOptions {
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

/**
 * The process to run, as runc builds it: --process's file, or the
 * container's process with COMMAND as args; then the flags on top. A file's
 * process without capabilities, rlimits, umask or oomScoreAdj gets the container's.
 */
export function resolveProcess(bundle: string, options: ExecProcessOptions, host: PlanHost): { process: Process; config: RuntimeConfig } {
  const { bundleDir, config } = loadConfig(bundle);
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
  applyFlags(process, options, host);
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

function applyFlags(process: Process, options: ExecProcessOptions, host: PlanHost): void {
  // Refused here, naming the flag, on a host without the module.
  planLsmWrites(host, options.apparmor, options.processLabel, { apparmor: '--apparmor', selinux: '--process-label' });
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

/**
 * Opens the init's namespaces that differ from ours; the same one needs no
 * joining (and the kernel refuses to rejoin one's own user namespace).
 */
export function openExecNamespaces(initPid: number, opened: number[]): NamespaceFd[] {
  const namespaces: NamespaceFd[] = [];
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
export function planExecProcess(processSpec: Process, consoleSocket: number, initPid: number, host: PlanHost): ProcessPlan {
  let setGroups = true;
  try {
    setGroups = fs.readFileSync(`/proc/${initPid}/setgroups`, 'utf8').trim() !== 'deny';
  } catch {
    // no user namespace support: setgroups is never denied
  }
  if (!setGroups && (processSpec.user.additionalGids ?? []).length > 0) {
    throw new OcitsError('additional gids: the container\'s user namespace denies setgroups (rootless), so they cannot be set');
  }
  return { ...planProcess(processSpec, consoleSocket, host), setGroups };
}
