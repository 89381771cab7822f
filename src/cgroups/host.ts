// Which cgroup hierarchies this host has and where we sit in each. Read from
// /proc/self/mountinfo and /proc/self/cgroup rather than from fixed paths:
// hosts mount hierarchies in different places and combinations (cpu and
// cpuacct together or apart, a unified hierarchy beside v1 or alone), and the
// runtime itself may run in a non-root cgroup that differs per hierarchy.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OcitsError, messageOf } from '../errors';
import { tracer } from '../log';
import { isWithin, parseMountinfo, type MountEntry } from '../mountinfo';

const trace = tracer('cgroups');

/**
 * unified: cgroup2 only (v1 hierarchies without controllers, such as a stray
 * name=systemd, are ignored, as runc does). legacy: v1 only. hybrid: v1
 * controllers plus a cgroup2 hierarchy (usually /sys/fs/cgroup/unified).
 */
export type CgroupMode = 'unified' | 'legacy' | 'hybrid';

export interface Hierarchy {
  mountPoint: string;
  fstype: 'cgroup' | 'cgroup2';
  /**
   * v1: the hierarchy's controllers as /proc/self/cgroup names them, e.g.
   * ['cpu', 'cpuacct'] or ['name=systemd']. cgroup2: the controllers
   * available at the mount's root (its cgroup.controllers).
   */
  controllers: string[];
  /** The cgroup the mount shows at mountPoint, e.g. '/' (field 4 of mountinfo). */
  root: string;
  /** This process's cgroup in the hierarchy, from /proc/self/cgroup. */
  ownPath: string;
}

export interface CgroupHost {
  mode: CgroupMode;
  /** In mountinfo order; one entry per hierarchy. */
  hierarchies: Hierarchy[];
}

/** Reads /proc/self/mountinfo and /proc/self/cgroup once. */
export function detectCgroupHost(): CgroupHost {
  const host = parseCgroupHost(
    readProcFile('/proc/self/mountinfo'),
    readProcFile('/proc/self/cgroup'),
    readControllers,
  );
  trace('%s host: %o', host.mode, host.hierarchies);
  return host;
}

/**
 * The pure half of detectCgroupHost, for tests: builds the host from the
 * text of mountinfo and /proc/self/cgroup. readV2Controllers lists the
 * controllers at a cgroup2 mount point (default: none).
 */
export function parseCgroupHost(
  mountinfo: string,
  procSelfCgroup: string,
  readV2Controllers: (mountPoint: string) => string[] = () => [],
): CgroupHost {
  const memberships = parseProcCgroup(procSelfCgroup);
  const mounts = visibleMounts(parseMountinfo(mountinfo)).filter(
    (m) => m.fstype === 'cgroup' || m.fstype === 'cgroup2',
  );

  const v1: Hierarchy[] = [];
  let v2: Hierarchy | undefined;
  for (const membership of memberships) {
    if (membership.controllers.length === 0) {
      // The "0::PATH" line: our place in the cgroup2 hierarchy.
      const mount = pickMount(mounts.filter((m) => m.fstype === 'cgroup2'), membership.path);
      if (mount !== undefined) {
        v2 = { ...hierarchyOf(mount, membership.path), controllers: readV2Controllers(mount.mountPoint) };
      }
      continue;
    }
    const candidates = mounts.filter(
      (m) => m.fstype === 'cgroup' && membership.controllers.every((c) => m.superOptions.includes(c)),
    );
    const mount = pickMount(candidates, membership.path);
    if (mount !== undefined) v1.push({ ...hierarchyOf(mount, membership.path), controllers: membership.controllers });
  }
  v1.sort((a, b) => mountOrder(mounts, a) - mountOrder(mounts, b));

  const v1HasControllers = v1.some((h) => h.controllers.some((c) => !c.startsWith('name=')));
  if (v2 !== undefined && !v1HasControllers) return { mode: 'unified', hierarchies: [v2] };
  if (v2 !== undefined) {
    const hierarchies = [...v1, v2].sort((a, b) => mountOrder(mounts, a) - mountOrder(mounts, b));
    return { mode: 'hybrid', hierarchies };
  }
  if (v1.length > 0) return { mode: 'legacy', hierarchies: v1 };
  throw new OcitsError('no cgroup hierarchy is mounted: /proc/self/mountinfo lists no cgroup or cgroup2 filesystem we belong to');
}

interface Membership {
  controllers: string[];
  path: string;
}

/** /proc/self/cgroup lines: "ID:CONTROLLERS:PATH"; the path may itself contain colons. */
function parseProcCgroup(text: string): Membership[] {
  const memberships: Membership[] = [];
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const list = line.slice(first + 1, second);
    memberships.push({ controllers: list === '' ? [] : list.split(','), path: line.slice(second + 1) });
  }
  return memberships;
}

/**
 * Drops mounts hidden by a later mount on the same directory or on one of
 * its ancestors (mountinfo lists mounts in the order they were made), so a
 * cgroup2 mounted over a v1 tmpfs tree reads as a pure v2 host.
 */
function visibleMounts(entries: MountEntry[]): MountEntry[] {
  return entries.filter((entry, i) =>
    !entries.slice(i + 1).some((later) => isWithin(entry.mountPoint, later.mountPoint)),
  );
}

/** The first mount that shows our own cgroup; else the first at all (absolute cgroupsPaths still work). */
function pickMount(candidates: MountEntry[], ownPath: string): MountEntry | undefined {
  return candidates.find((m) => isWithin(ownPath, m.root)) ?? candidates[0];
}

function hierarchyOf(mount: MountEntry, ownPath: string): Omit<Hierarchy, 'controllers'> {
  return {
    mountPoint: mount.mountPoint,
    fstype: mount.fstype as Hierarchy['fstype'],
    root: mount.root,
    ownPath,
  };
}

function mountOrder(mounts: MountEntry[], hierarchy: Hierarchy): number {
  return mounts.findIndex((m) => m.mountPoint === hierarchy.mountPoint);
}

function readProcFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new OcitsError(`cannot read ${file} to find the cgroup hierarchies: ${messageOf(error)}`);
  }
}

function readControllers(mountPoint: string): string[] {
  try {
    return fs.readFileSync(path.join(mountPoint, 'cgroup.controllers'), 'utf8').split(/\s+/).filter(Boolean);
  } catch {
    return []; // informational only; membership works without it
  }
}
