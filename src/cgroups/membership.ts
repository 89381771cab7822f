// Making, joining, listing and removing the container's cgroup in every
// hierarchy. Resource limits are not set here; this is only membership.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CgroupJoin } from '../addon-plan';
import { OcitsError, isErrno, messageOf } from '../errors';
import { tracer } from '../log';
import { sleepSync } from '../sleep';
import { errnoText, quoted } from '../errors';
import { readCgroupFile, writeCgroupFile } from './files';
import type { CgroupDir, ContainerCgroup } from './paths';

const trace = tracer('cgroups');

/**
 * Creates the container's directory (and missing parents, mode 0755) in each
 * hierarchy. On failure it removes the directories it made itself, so a
 * failed create leaves nothing behind. Parents it made stay after
 * removeCgroup, as with runc.
 */
export function createCgroup(cgroup: ContainerCgroup): void {
  const made: string[] = [];
  try {
    for (const entry of cgroup.dirs) createIn(entry, cgroup.mode === 'unified', made);
  } catch (error) {
    for (const dir of made.reverse()) rmdirQuietly(dir);
    throw error;
  }
}

function createIn(entry: CgroupDir, enableControllers: boolean, made: string[]): void {
  const levels = path.relative(entry.mountPoint, entry.dir).split('/');
  let current = entry.mountPoint;
  for (const level of levels) {
    // Only on a pure v2 host: there the container needs controllers handed
    // down to use them; on a hybrid host they belong to the v1 hierarchies.
    if (enableControllers) enableSubtreeControllers(current);
    current = path.join(current, level);
    try {
      fs.mkdirSync(current, { mode: 0o755 });
      made.push(current);
      trace('created %s', current);
    } catch (error) {
      if (!isErrno(error, 'EEXIST')) throw new OcitsError(`cannot create cgroup ${quoted(current)}: ${errnoText(error)}`);
    }
    // A new v1 cpuset starts with no cpus and mems, and then refuses every
    // process (ENOSPC); like runc, give each level its parent's.
    if (entry.fstype === 'cgroup' && entry.controllers.includes('cpuset')) inheritCpuset(current, path.dirname(current));
  }
}

function inheritCpuset(dir: string, parent: string): void {
  for (const name of ['cpuset.cpus', 'cpuset.mems']) {
    if ((readCgroupFile(dir, name) ?? '').trim() !== '') continue;
    const inherited = (readCgroupFile(parent, name) ?? '').trim();
    writeCgroupFile(dir, name, inherited, `give cgroup ${dir} its parent's ${name}`);
  }
}

/**
 * Enables in dir's cgroup.subtree_control every controller dir has, as
 * runc does. Failures are expected and ignored: a cgroup with processes of
 * its own refuses (EBUSY), and a delegated subtree may withhold some; setting
 * a limit that needs a missing controller is what reports it.
 */
function enableSubtreeControllers(dir: string): void {
  const available = (readCgroupFile(dir, 'cgroup.controllers') ?? '').split(/\s+/).filter(Boolean);
  const enabled = new Set((readCgroupFile(dir, 'cgroup.subtree_control') ?? '').split(/\s+/));
  for (const controller of available.filter((c) => !enabled.has(c))) {
    try {
      writeCgroupFile(dir, 'cgroup.subtree_control', `+${controller}`, `enable ${controller} below ${dir}`);
    } catch (error) {
      trace('%s', messageOf(error));
    }
  }
}

/**
 * Moves pid into the container's cgroup in every hierarchy, from here (the
 * systemd driver: systemd placed it in the hierarchies it manages, where
 * this changes nothing).
 */
export function moveIntoCgroup(cgroup: ContainerCgroup, pid: number): void {
  for (const entry of cgroup.dirs) {
    writeCgroupFile(entry.dir, 'cgroup.procs', String(pid), `move process ${pid} into cgroup ${entry.dir}`);
  }
}

export function openCgroupJoinFds(cgroup: ContainerCgroup): CgroupJoin {
  const fds: CgroupJoin = { dir: -1, tasks: [] };
  for (const entry of cgroup.dirs) {
    try {
      if (entry.fstype === 'cgroup2') fds.dir = fs.openSync(entry.dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
      else fds.tasks.push(fs.openSync(path.join(entry.dir, 'tasks'), fs.constants.O_WRONLY));
    } catch (error) {
      closeCgroupJoinFds(fds);
      throw new OcitsError(`cannot open cgroup ${quoted(entry.dir)}: ${messageOf(error)}`);
    }
  }
  return fds;
}

export function closeCgroupJoinFds(fds: CgroupJoin): void {
  for (const fd of [...fds.tasks, ...(fds.dir >= 0 ? [fds.dir] : [])]) fs.closeSync(fd);
  fds.tasks = [];
  fds.dir = -1;
}

// v1 hierarchies in which every task has a place; any one lists them all.
const PREFERRED_FOR_PIDS = ['pids', 'freezer', 'devices', 'memory'];

/**
 * Every pid in the container's cgroup and the cgroups below it (a container
 * may nest its own). Empty when the cgroup is gone.
 */
export function cgroupPids(cgroup: ContainerCgroup): number[] {
  const entry = hierarchyForPids(cgroup.dirs);
  if (entry === undefined) return [];
  const pids = new Set<number>();
  collectPids(entry.dir, pids);
  return [...pids];
}

function hierarchyForPids(dirs: CgroupDir[]): CgroupDir | undefined {
  const v1 = dirs.filter((d) => d.fstype === 'cgroup');
  if (v1.length === 0) return dirs.find((d) => d.fstype === 'cgroup2');
  for (const controller of PREFERRED_FOR_PIDS) {
    const found = v1.find((d) => d.controllers.includes(controller));
    if (found !== undefined) return found;
  }
  return v1[0];
}

function collectPids(dir: string, pids: Set<number>): void {
  const procs = readCgroupFile(dir, 'cgroup.procs');
  if (procs === undefined) return; // removed while we walked
  for (const line of procs.split('\n')) if (line !== '') pids.add(Number(line));
  for (const child of subdirectories(dir)) collectPids(path.join(dir, child), pids);
}

// Waits between removal attempts: an exited process leaves its cgroup a
// moment after its parent sees it die. 10 ms doubling, 630 ms in all.
const REMOVE_RETRIES = 6;
const FIRST_RETRY_MS = 10;

/**
 * Removes the container's cgroup in every hierarchy: the leaf and any
 * cgroups the container made below it, never the parents. A missing
 * directory is fine. EBUSY is retried briefly; what still fails is reported,
 * after every hierarchy has been tried.
 */
export function removeCgroup(cgroup: ContainerCgroup): void {
  let pending = cgroup.dirs.map((d) => d.dir);
  const failures = new Map<string, unknown>();
  let delay = FIRST_RETRY_MS;
  for (let attempt = 0; ; attempt++) {
    pending = pending.filter((dir) => {
      try {
        removeTree(dir);
        failures.delete(dir);
        return false;
      } catch (error) {
        failures.set(dir, error);
        return true;
      }
    });
    if (pending.length === 0) return;
    const retryable = pending.every((dir) => isErrno(failures.get(dir), 'EBUSY'));
    if (!retryable || attempt === REMOVE_RETRIES) break;
    sleepSync(delay);
    delay *= 2;
  }
  const [dir] = pending;
  const more = pending.length > 1 ? ` (and ${pending.length - 1} more)` : '';
  throw new OcitsError(`cannot remove cgroup ${quoted(dir)}: ${whyBusy(dir, failures.get(dir))}${more}`);
}

/** rmdir(2) the cgroup, first removing cgroups below it if it has any. */
function removeTree(dir: string): void {
  try {
    fs.rmdirSync(dir);
    trace('removed %s', dir);
    return;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return;
    if (!isErrno(error, 'EBUSY') && !isErrno(error, 'ENOTEMPTY')) throw error;
  }
  for (const child of subdirectories(dir)) removeTree(path.join(dir, child));
  try {
    fs.rmdirSync(dir);
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
  }
}

function whyBusy(dir: string, error: unknown): string {
  if (!isErrno(error, 'EBUSY')) return errnoText(error);
  const pids = (readCgroupFile(dir, 'cgroup.procs') ?? '').split('\n').filter(Boolean);
  return pids.length > 0 ? `processes are still in it (${pids.join(', ')})` : errnoText(error);
}

function subdirectories(dir: string): string[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return [];
    throw new OcitsError(`cannot list cgroup ${quoted(dir)}: ${errnoText(error)}`);
  }
}

function rmdirQuietly(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch (error) {
    trace('cannot undo cgroup %s: %s', dir, errnoText(error));
  }
}

/**
 * SIGKILLs every process in the container's cgroup and below at once through
 * cgroup v2's cgroup.kill (Linux 5.14+), which, unlike signalling a pid list,
 * cannot miss a process forked meanwhile. On a hybrid host the container's
 * cgroup2 directory holds all its processes too. False when there is no
 * cgroup.kill to use.
 */
export function killThroughCgroup(cgroup: ContainerCgroup): boolean {
  const entry = cgroup.dirs.find((d) => d.fstype === 'cgroup2');
  // cgroup.kill is write-only: check that it exists, not what it reads.
  if (entry === undefined || !fs.existsSync(path.join(entry.dir, 'cgroup.kill'))) return false;
  writeCgroupFile(entry.dir, 'cgroup.kill', '1', `kill every process in cgroup ${entry.relative}`);
  trace('killed through %s/cgroup.kill', entry.dir);
  return true;
}
