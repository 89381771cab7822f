// Which namespaces the container init makes, joins and maps, and in which
// order: the policy half of addon/init/namespaces.cc. runc's rules: the
// namespaces given by path are joined first, the user namespace before the
// others (it decides what may be joined and who owns what is made after),
// the mount namespace among them: the rootfs is then built inside it;
// then a new user namespace, whose id maps the parent writes; then the other
// new namespaces, which it then owns. A new pid or time namespace made that
// way only takes in children, so the init is then forked once more.
import * as fs from 'node:fs';
import { addon } from '../addon';
import type { NamespaceEntry, NamespaceJoin } from '../addon-plan';
import { OcitsError, messageOf, quoted } from '../errors';
import type { IdMapping, LinuxNamespace, RuntimeConfig, TimeOffset } from '../spec/types';

export const CLONE_NEW: Readonly<Record<string, number>> = {
  time: 0x00000080,
  mount: 0x00020000,
  cgroup: 0x02000000,
  uts: 0x04000000,
  ipc: 0x08000000,
  user: 0x10000000,
  pid: 0x20000000,
  network: 0x40000000,
};

// runc's join order (configs.NamespaceTypes): user first, the mount namespace late.
const JOIN_ORDER = ['user', 'ipc', 'uts', 'network', 'pid', 'mount', 'cgroup', 'time'];

/** What the parent writes for a new user namespace (user_namespaces(7)). */
export interface IdMaps {
  uidMap: string;
  gidMap: string;
  /** setgroups(2) must be denied first when we lack CAP_SETGID (rootless). */
  denySetgroups: boolean;
}

export interface NamespacePlan {
  /** For clone() when nothing needs joining, mapping or forking; else 0. */
  cloneFlags: number;
  unshareCgroup: boolean;
  entry: NamespaceEntry;
  idMaps: IdMaps | null;
  /** In a user namespace, new or joined: mknod is refused, device nodes are bound. */
  userNamespace: boolean;
  /** The namespace types the container gets new ones of (not joined, not the host's). */
  newTypes: ReadonlySet<string>;
}

export function planNamespaces(config: RuntimeConfig, privileged: boolean): NamespacePlan {
  const linux = config.linux ?? {};
  const namespaces = linux.namespaces ?? [];
  const joined = namespaces
    .map((namespace, configIndex) => ({ namespace, configIndex }))
    .filter(({ namespace }) => namespace.path !== undefined)
    .sort((a, b) => JOIN_ORDER.indexOf(a.namespace.type) - JOIN_ORDER.indexOf(b.namespace.type));
  const newTypes = new Set(namespaces.filter((namespace) => namespace.path === undefined).map((namespace) => namespace.type));
  const joins: NamespaceJoin[] = joined.map(({ namespace, configIndex }) => ({
    path: namespace.path!,
    type: CLONE_NEW[namespace.type],
    fd: -1,
    configIndex,
  }));
  const newUser = newTypes.has('user');
  // The new user namespace is made after the joins, so it can never own a
  // joined mount namespace, and its root could make no mount there (runc
  // fails later, with EPERM on the root's propagation).
  const joinedMount = joined.find(({ namespace }) => namespace.type === 'mount');
  if (newUser && joinedMount !== undefined) {
    throw new OcitsError(
      `/linux/namespaces/${joinedMount.configIndex}/path: a mount namespace joined by path cannot go with a new user namespace, which would not own it: join the user namespace that does`,
    );
  }
  const userNamespace = newUser || joined.some(({ namespace }) => namespace.type === 'user');
  const idMaps = newUser ? planIdMaps(config, privileged) : null;
  if (!newUser && (linux.uidMappings !== undefined || linux.gidMappings !== undefined) && userNamespace) {
    throw new OcitsError('/linux/uidMappings: id mappings apply only to a new user namespace, not one joined by path');
  }
  const timeOffsets = newTypes.has('time') ? formatTimeOffsets(linux.timeOffsets ?? {}) : null;

  let otherFlags = 0;
  for (const type of newTypes) if (type !== 'user' && type !== 'cgroup') otherFlags |= CLONE_NEW[type];
  // The cgroup namespace is always unshared by the init itself, once it sits in its cgroup.
  const unshareCgroup = newTypes.has('cgroup');
  if (joins.length === 0 && !userNamespace && !newTypes.has('time')) {
    const entry = { joins, newUser: false, becomeRoot: false, unshareFlags: 0, timeOffsets: null, forkInit: false };
    return { cloneFlags: otherFlags, unshareCgroup, entry, idMaps, userNamespace, newTypes };
  }
  const entry: NamespaceEntry = {
    joins,
    newUser,
    becomeRoot: userNamespace,
    unshareFlags: otherFlags,
    timeOffsets,
    // Only children enter a pid or time namespace made by unshare or joined by setns.
    forkInit: (otherFlags & (CLONE_NEW.pid | CLONE_NEW.time)) !== 0 || joins.some((join) => join.type === CLONE_NEW.pid),
  };
  return { cloneFlags: 0, unshareCgroup, entry, idMaps, userNamespace, newTypes };
}

function planIdMaps(config: RuntimeConfig, privileged: boolean): IdMaps {
  const linux = config.linux ?? {};
  const uidMappings = linux.uidMappings ?? [];
  const gidMappings = linux.gidMappings ?? [];
  if (uidMappings.length === 0) throw new OcitsError('/linux/uidMappings: a new user namespace needs uid mappings');
  if (gidMappings.length === 0) throw new OcitsError('/linux/gidMappings: a new user namespace needs gid mappings');
  // As runc: the init becomes root in the namespace to build the container.
  if (!maps(uidMappings, 0)) throw new OcitsError('/linux/uidMappings: no mapping for the container\'s root user (containerID 0)');
  if (!maps(gidMappings, 0)) throw new OcitsError('/linux/gidMappings: no mapping for the container\'s root group (containerID 0)');
  const user = config.process?.user;
  if (user !== undefined) {
    if (!maps(uidMappings, user.uid)) throw new OcitsError(`/process/user/uid: ${user.uid} is not mapped by /linux/uidMappings`);
    if (!maps(gidMappings, user.gid)) throw new OcitsError(`/process/user/gid: ${user.gid} is not mapped by /linux/gidMappings`);
  }
  const denySetgroups = !privileged;
  if (denySetgroups && (user?.additionalGids ?? []).length > 0) {
    throw new OcitsError('/process/user/additionalGids: an unprivileged user cannot set supplementary groups in its user namespace (setgroups is denied)');
  }
  return { uidMap: formatIdMap(uidMappings), gidMap: formatIdMap(gidMappings), denySetgroups };
}

function maps(mappings: readonly IdMapping[], id: number): boolean {
  return mappings.some((mapping) => id >= mapping.containerID && id < mapping.containerID + mapping.size);
}

// uid_map takes all lines in a single write.
function formatIdMap(mappings: readonly IdMapping[]): string {
  return mappings.map((mapping) => `${mapping.containerID} ${mapping.hostID} ${mapping.size}\n`).join('');
}

// time_namespaces(7): "<clock> <secs> <nanosecs>" per line, clocks by name.
function formatTimeOffsets(offsets: Partial<Record<string, TimeOffset>>): string | null {
  const lines: string[] = [];
  for (const [clock, offset] of Object.entries(offsets)) {
    if (clock !== 'monotonic' && clock !== 'boottime') {
      throw new OcitsError(`/linux/timeOffsets/${clock}: only the monotonic and boottime clocks have offsets`);
    }
    if (offset === undefined) continue;
    const nanosecs = offset.nanosecs ?? 0;
    if (nanosecs < 0 || nanosecs > 999_999_999) {
      throw new OcitsError(`/linux/timeOffsets/${clock}/nanosecs: ${nanosecs} is not between 0 and 999999999`);
    }
    lines.push(`${clock} ${offset.secs ?? 0} ${nanosecs}\n`);
  }
  return lines.length > 0 ? lines.join('') : null;
}

const TYPE_NAMES = new Map(Object.entries(CLONE_NEW).map(([name, flag]) => [flag, name]));

/**
 * Opens each namespace given by path and checks that it is one, of the type
 * its entry says. Returns the fds to close once the init has them.
 */
export function openNamespaceJoins(joins: NamespaceJoin[], namespaces: readonly LinuxNamespace[]): number[] {
  const opened: number[] = [];
  try {
    for (const join of joins) {
      const where = `/linux/namespaces/${join.configIndex}/path`;
      const expected = namespaces[join.configIndex].type;
      try {
        join.fd = fs.openSync(join.path, fs.constants.O_RDONLY | fs.constants.O_NOCTTY);
      } catch (error) {
        throw new OcitsError(`${where}: cannot open ${quoted(join.path)}: ${messageOf(error)}`);
      }
      opened.push(join.fd);
      let actual: number;
      try {
        actual = addon().namespaceType(join.fd);
      } catch {
        throw new OcitsError(`${where}: ${quoted(join.path)} is not a namespace file`);
      }
      if (actual !== join.type) {
        const name = TYPE_NAMES.get(actual) ?? `type ${actual}`;
        throw new OcitsError(`${where}: ${quoted(join.path)} is a ${name} namespace, but the entry's type is ${expected}`);
      }
      if (join.type === CLONE_NEW.mount && isOwnMountNamespace(join.fd)) {
        throw new OcitsError(`${where}: ${quoted(join.path)} is the runtime's own mount namespace; building the rootfs there would move every process in it into the container's root (pivot_root)`);
      }
    }
  } catch (error) {
    for (const fd of opened) fs.closeSync(fd);
    throw error;
  }
  return opened;
}

// A joined mount namespace is where the rootfs is built, as with runc, and
// pivot_root changes the root of every process there whose root was the
// namespace's: in the runtime's own (the host's, usually) that is all of
// them. runc does it; ocits refuses.
function isOwnMountNamespace(fd: number): boolean {
  const joined = fs.fstatSync(fd);
  const own = fs.statSync('/proc/self/ns/mnt');
  return joined.dev === own.dev && joined.ino === own.ino;
}

/** Writes the id maps of the init's new user namespace, as the parent must. */
export function writeIdMaps(pid: number, idMaps: IdMaps): void {
  const write = (file: string, contents: string, pointer: string): void => {
    try {
      fs.writeFileSync(`/proc/${pid}/${file}`, contents);
    } catch (error) {
      const hint = file !== 'setgroups' && idMaps.denySetgroups ? ' (an unprivileged user may map only its own id, with size 1)' : '';
      throw new OcitsError(`${pointer}: cannot write /proc/${pid}/${file}: ${messageOf(error)}${hint}`);
    }
  };
  if (idMaps.denySetgroups) write('setgroups', 'deny', '/linux/gidMappings');
  write('uid_map', idMaps.uidMap, '/linux/uidMappings');
  write('gid_map', idMaps.gidMap, '/linux/gidMappings');
}
