// Which cgroup a container's processes go into: the one create makes for it,
// or, for a rootless create without permission to make cgroups, the one we
// are in (runc's rule); and the cgroup an `exec` process joins.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isWithin } from '../mountinfo';
import { readCgroupFile } from './files';
import type { CgroupHost } from './host';
import { resolveContainerCgroup, type ContainerCgroup } from './paths';

export interface CgroupPlacement {
  cgroup: ContainerCgroup;
  /** The container stays in our own cgroup: create makes none, and delete removes none. */
  ownCgroup: boolean;
  /** The cgroup config.json asks for, which a rootless create may not be able to make. */
  configured: ContainerCgroup;
}

export function placeContainer(host: CgroupHost, cgroupsPath: string | undefined, id: string, privileged: boolean): CgroupPlacement {
  const configured = resolveContainerCgroup(host, cgroupsPath, id);
  // runc's rootless rule: without permission to make cgroups, the container
  // stays in ours, and its cgroup mounts show ours.
  const ownCgroup = !privileged && !canCreateCgroup(configured);
  return { cgroup: ownCgroup ? currentCgroup(host) : configured, ownCgroup, configured };
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

/**
 * The cgroup an `exec` process joins: the container's, except on cgroup v2
 * when the container has handed controllers down to cgroups below it
 * (systemd inside does): the kernel then refuses processes in it, and like
 * runc we join the init's cgroup.
 */
export function cgroupForExec(cgroup: ContainerCgroup, initPid: number): ContainerCgroup {
  const dirs = cgroup.dirs.map((entry) => {
    if (entry.fstype !== 'cgroup2' || (readCgroupFile(entry.dir, 'cgroup.subtree_control') ?? '').trim() === '') return entry;
    const line = fs.readFileSync(`/proc/${initPid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'));
    if (line === undefined) return entry;
    const relative = line.slice('0::'.length);
    return { ...entry, dir: path.join(entry.mountPoint, relative), relative };
  });
  return { ...cgroup, dirs };
}
