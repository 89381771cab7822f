// What a config mount of type "cgroup" becomes inside the container, as runc
// 1.1 builds it. Pure v2: a fresh cgroup2 filesystem. v1 and hybrid: a tmpfs
// holding one entry per v1 hierarchy, named after the host's mount point
// (cpu, memory, systemd, cpu,cpuacct ...), each the container's own cgroup
// directory bind-mounted from the host, or, with a cgroup namespace, a fresh
// cgroup filesystem of that hierarchy (the namespace roots it at the
// container's cgroup). The unified hierarchy of a hybrid host is not shown,
// as with runc. The container-init code executes the steps in order.
import * as path from 'node:path';
import type { CgroupHost } from './host';
import type { ContainerCgroup } from './paths';

/**
 * One step, with path relative to the config mount's destination ('' is the
 * destination itself). The flags are the config mount's own (its options:
 * runc's default config says nosuid,noexec,nodev,relatime,ro), applied by
 * plan/rootfs.ts: the tmpfs gets them without ro, so that the per-hierarchy
 * directories can be made in it; a fresh fs gets them as they are; a bind is
 * MS_BIND|MS_REC, then remounted with the rest (ro, nosuid ...).
 */
export type CgroupMountStep =
  /** tmpfs with these data options (mode=755). */
  | { kind: 'tmpfs'; path: string; data: string }
  /** The host directory source, bind-mounted. */
  | { kind: 'bind'; source: string; path: string }
  /**
   * A fresh filesystem; data names the hierarchy's controllers for v1 (the
   * config mount's own data options are not added). When
   * mounting cgroup2 fails with EPERM or EBUSY (a user namespace without a
   * cgroup namespace), bind-mount fallbackBind instead, as runc does.
   */
  | { kind: 'fs'; fstype: 'cgroup' | 'cgroup2'; data: string; path: string; fallbackBind?: string }
  /** A symbolic link at path whose contents are target (relative, e.g. cpu -> cpu,cpuacct). */
  | { kind: 'symlink'; target: string; path: string };

export function cgroupMountSteps(host: CgroupHost, cgroup: ContainerCgroup, cgroupNamespace: boolean): CgroupMountStep[] {
  if (host.mode === 'unified') {
    const unified = cgroup.dirs.find((d) => d.fstype === 'cgroup2');
    if (unified === undefined) return [];
    // Without a cgroup namespace a fresh cgroup2 mount shows the whole
    // hierarchy, so runc's fallback binds the whole hierarchy too, keeping
    // /proc/self/cgroup and the mounted tree consistent.
    const fallbackBind = cgroupNamespace ? unified.dir : unified.mountPoint;
    return [{ kind: 'fs', fstype: 'cgroup2', data: '', path: '', fallbackBind }];
  }

  const steps: CgroupMountStep[] = [{ kind: 'tmpfs', path: '', data: 'mode=755' }];
  const names = new Set<string>();
  for (const hierarchy of host.hierarchies) {
    if (hierarchy.fstype !== 'cgroup') continue;
    const entry = cgroup.dirs.find((d) => d.mountPoint === hierarchy.mountPoint);
    const name = path.basename(hierarchy.mountPoint);
    if (entry === undefined || names.has(name)) continue; // not joined, or a second mount of one name
    names.add(name);
    steps.push(
      cgroupNamespace
        ? { kind: 'fs', fstype: 'cgroup', data: hierarchy.controllers.join(','), path: name }
        : { kind: 'bind', source: entry.dir, path: name },
    );
  }
  // A hierarchy of several controllers ("cpu,cpuacct") is also reachable
  // under each controller's name, as programs expect /sys/fs/cgroup/cpu.
  for (const name of names) {
    if (!name.includes(',')) continue;
    for (const part of name.split(',')) {
      if (!names.has(part)) steps.push({ kind: 'symlink', target: name, path: part });
    }
  }
  return steps;
}
