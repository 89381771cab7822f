// Where the container's cgroup lives in each hierarchy, following runc's
// cgroupfs driver: linux.cgroupsPath absolute → below each hierarchy's root;
// relative → below ocits' own cgroup in that hierarchy; absent or empty → the
// container id, relative. Computed once at create and stored in the state
// record, so delete removes what create made even if config.json changed.
import * as path from 'node:path';
import { OcitsError } from '../errors';
import { isWithin } from '../mountinfo';
import type { CgroupHost, CgroupMode, Hierarchy } from './host';

/** The container's cgroup in one hierarchy. */
export interface CgroupDir {
  /** The hierarchy's mount point, e.g. /sys/fs/cgroup/memory. */
  mountPoint: string;
  fstype: Hierarchy['fstype'];
  /** As in Hierarchy: v1 controllers (['cpu'], ['name=systemd']), or cgroup2's available ones. */
  controllers: string[];
  /** The host directory of the container's cgroup. */
  dir: string;
  /** The cgroup's path from the hierarchy root, as /proc/PID/cgroup shows it, e.g. /t1. */
  relative: string;
}

export interface ContainerCgroup {
  /** The host's mode when the container was created. */
  mode: CgroupMode;
  /** One per hierarchy the container joins, in the host's mount order. */
  dirs: CgroupDir[];
}

export function resolveContainerCgroup(host: CgroupHost, cgroupsPath: string | undefined, id: string): ContainerCgroup {
  const given = cgroupsPath === undefined || cgroupsPath === '' ? undefined : cgroupsPath;
  const inner = innerPath(given ?? id, given !== undefined);
  const dirs = host.hierarchies.map((hierarchy) => dirIn(hierarchy, inner));
  return { mode: host.mode, dirs };
}

interface InnerPath {
  absolute: boolean;
  /** Normalised, without a leading '/'; never empty. */
  rest: string;
}

/**
 * Checks and normalises the configured path. runc silently clamps ".."
 * instead; we refuse it, since a path that climbs out of where the user
 * pointed is more likely a mistake or an attack than an intent.
 */
function innerPath(value: string, fromConfig: boolean): InnerPath {
  const shown = `/linux/cgroupsPath ${JSON.stringify(value)}`;
  if (value.includes('\0')) throw new OcitsError(`${shown} contains a NUL byte`);
  if (fromConfig && !value.startsWith('/') && value.split(':').length === 3) {
    throw new OcitsError(
      `${shown} is a systemd cgroup path (slice:prefix:name): systemd cgroup paths need --systemd-cgroup, which is not supported`,
    );
  }
  const absolute = value.startsWith('/');
  const parts: string[] = [];
  for (const part of value.split('/')) {
    if (part === '' || part === '.') continue;
    if (part !== '..') {
      parts.push(part);
    } else if (parts.pop() === undefined) {
      throw new OcitsError(
        absolute
          ? `${shown} climbs above the root of the cgroup hierarchies with ".."`
          : `${shown} climbs out of ocits' own cgroup with ".."`,
      );
    }
  }
  if (parts.length === 0) {
    throw new OcitsError(
      absolute
        ? `${shown} names the root cgroup itself; it must name a cgroup below it`
        : `${shown} names ocits' own cgroup; it must name a cgroup below it`,
    );
  }
  return { absolute, rest: parts.join('/') };
}

function dirIn(hierarchy: Hierarchy, inner: InnerPath): CgroupDir {
  const { mountPoint, fstype, controllers, root, ownPath } = hierarchy;
  if (inner.absolute) {
    // As runc: an absolute path is taken from the root the mount shows.
    return { mountPoint, fstype, controllers, dir: path.posix.join(mountPoint, inner.rest), relative: path.posix.join(root, inner.rest) };
  }
  if (ownPath.split('/').includes('..') || !isWithin(ownPath, root)) {
    throw new OcitsError(
      `cannot place a cgroup relative to ours: our cgroup ${ownPath} is not visible in the hierarchy mounted at ${mountPoint} (it shows ${root})`,
    );
  }
  const relative = path.posix.join(ownPath, inner.rest);
  const dir = path.posix.join(mountPoint, root === '/' ? relative : relative.slice(root.length));
  return { mountPoint, fstype, controllers, dir, relative };
}
