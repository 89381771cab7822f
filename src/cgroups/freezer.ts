// Freezing and thawing the container's cgroup, for pause and resume: the v1
// freezer controller (freezer.state) when the host mounts one, else cgroup
// v2's cgroup.freeze, which every cgroup2 directory has (also the unified
// hierarchy of a hybrid host, controllers or not).
import { OcitsError, quoted } from '../errors';
import { tracer } from '../log';
import { sleepSync } from '../sleep';
import { readCgroupFile, writeCgroupFile } from './files';
import type { CgroupDir, ContainerCgroup } from './paths';

const trace = tracer('cgroups');

type Freezer = { kind: 'v1'; dir: CgroupDir } | { kind: 'v2'; dir: CgroupDir };

function freezerOf(cgroup: ContainerCgroup): Freezer | undefined {
  const v1 = cgroup.dirs.find((d) => d.fstype === 'cgroup' && d.controllers.includes('freezer'));
  if (v1 !== undefined) return { kind: 'v1', dir: v1 };
  const v2 = cgroup.dirs.find((d) => d.fstype === 'cgroup2');
  return v2 === undefined ? undefined : { kind: 'v2', dir: v2 };
}

/** True when the cgroup is frozen (or freezing); false when thawed or gone. */
export function isFrozen(cgroup: ContainerCgroup): boolean {
  const freezer = freezerOf(cgroup);
  if (freezer === undefined) return false;
  if (freezer.kind === 'v1') {
    const state = (readCgroupFile(freezer.dir.dir, 'freezer.state') ?? '').trim();
    return state === 'FROZEN' || state === 'FREEZING';
  }
  return (readCgroupFile(freezer.dir.dir, 'cgroup.freeze') ?? '').trim() === '1';
}

// How long to wait for every task to stop: a task in an uninterruptible
// sleep freezes only when it wakes. 10 ms steps, about 5 s in all.
const FREEZE_POLLS = 500;
const POLL_MS = 10;

/** Freezes the cgroup and waits until the kernel reports every task frozen. */
export function freeze(cgroup: ContainerCgroup): void {
  const freezer = requireFreezer(cgroup);
  const { dir } = freezer.dir;
  if (freezer.kind === 'v1') {
    for (let poll = 0; poll < FREEZE_POLLS; poll++) {
      // Writing FROZEN again retries tasks that were busy on the first pass.
      writeCgroupFile(dir, 'freezer.state', 'FROZEN', `freeze cgroup ${dir}`);
      if ((readCgroupFile(dir, 'freezer.state') ?? '').trim() === 'FROZEN') return;
      sleepSync(POLL_MS);
    }
  } else {
    writeCgroupFile(dir, 'cgroup.freeze', '1', `freeze cgroup ${dir}`);
    for (let poll = 0; poll < FREEZE_POLLS; poll++) {
      if (/^frozen 1$/m.test(readCgroupFile(dir, 'cgroup.events') ?? '')) return;
      sleepSync(POLL_MS);
    }
  }
  thaw(cgroup); // leave it as it was rather than half frozen
  throw new OcitsError(`cannot freeze cgroup ${quoted(dir)}: its processes did not all stop within ${(FREEZE_POLLS * POLL_MS) / 1000} s`);
}

export function thaw(cgroup: ContainerCgroup): void {
  const freezer = requireFreezer(cgroup);
  const { dir } = freezer.dir;
  if (freezer.kind === 'v1') writeCgroupFile(dir, 'freezer.state', 'THAWED', `thaw cgroup ${dir}`);
  else writeCgroupFile(dir, 'cgroup.freeze', '0', `thaw cgroup ${dir}`);
  trace('thawed %s', dir);
}

function requireFreezer(cgroup: ContainerCgroup): Freezer {
  const freezer = freezerOf(cgroup);
  if (freezer === undefined) throw new OcitsError('this host has neither a v1 freezer cgroup nor cgroup v2, so containers cannot be paused');
  return freezer;
}
