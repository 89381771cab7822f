// Mount options as runc reads them: names that are mount(2) flags, names that
// change propagation, and everything else passed to the filesystem as data.
import { OcitsError } from '../errors';

export const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  SYNCHRONOUS: 0x10,
  REMOUNT: 0x20,
  MANDLOCK: 0x40,
  DIRSYNC: 0x80,
  NOATIME: 0x400,
  NODIRATIME: 0x800,
  NOSYMFOLLOW: 0x100,
  BIND: 0x1000,
  MOVE: 0x2000,
  REC: 0x4000,
  SILENT: 0x8000,
  UNBINDABLE: 0x20000,
  PRIVATE: 0x40000,
  SLAVE: 0x80000,
  SHARED: 0x100000,
  RELATIME: 0x200000,
  IVERSION: 0x800000,
  STRICTATIME: 0x1000000,
  LAZYTIME: 0x2000000,
} as const;

// [flag, set it?]: "rw" clears MS_RDONLY, "ro" sets it, and so on.
const FLAG_OPTIONS: ReadonlyMap<string, [number, boolean]> = new Map([
  ['ro', [MS.RDONLY, true]],
  ['rw', [MS.RDONLY, false]],
  ['nosuid', [MS.NOSUID, true]],
  ['suid', [MS.NOSUID, false]],
  ['nodev', [MS.NODEV, true]],
  ['dev', [MS.NODEV, false]],
  ['noexec', [MS.NOEXEC, true]],
  ['exec', [MS.NOEXEC, false]],
  ['sync', [MS.SYNCHRONOUS, true]],
  ['async', [MS.SYNCHRONOUS, false]],
  ['dirsync', [MS.DIRSYNC, true]],
  ['remount', [MS.REMOUNT, true]],
  ['mand', [MS.MANDLOCK, true]],
  ['nomand', [MS.MANDLOCK, false]],
  ['noatime', [MS.NOATIME, true]],
  ['atime', [MS.NOATIME, false]],
  ['nodiratime', [MS.NODIRATIME, true]],
  ['diratime', [MS.NODIRATIME, false]],
  ['bind', [MS.BIND, true]],
  ['rbind', [MS.BIND | MS.REC, true]],
  ['relatime', [MS.RELATIME, true]],
  ['norelatime', [MS.RELATIME, false]],
  ['strictatime', [MS.STRICTATIME, true]],
  ['nostrictatime', [MS.STRICTATIME, false]],
  ['silent', [MS.SILENT, true]],
  ['loud', [MS.SILENT, false]],
  ['lazytime', [MS.LAZYTIME, true]],
  ['nolazytime', [MS.LAZYTIME, false]],
  ['iversion', [MS.IVERSION, true]],
  ['noiversion', [MS.IVERSION, false]],
  ['nosymfollow', [MS.NOSYMFOLLOW, true]],
  ['symfollow', [MS.NOSYMFOLLOW, false]],
  // mount(8)'s "use the defaults": no flag to set.
  ['defaults', [0, true]],
]);

/** mount_setattr(2)'s MOUNT_ATTR_* (include/uapi/linux/mount.h). */
export const MOUNT_ATTR = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  /** The access-time setting is a value in these bits, not a set of flags. */
  ATIME_MASK: 0x70,
  RELATIME: 0x0,
  NOATIME: 0x10,
  STRICTATIME: 0x20,
  NODIRATIME: 0x80,
  IDMAP: 0x100000,
  NOSYMFOLLOW: 0x200000,
} as const;

// The recursive options, applied to the mount and every mount below it with
// mount_setattr(AT_RECURSIVE) once it is in place. [attribute, set it?]
const RECURSIVE_OPTIONS: ReadonlyMap<string, [number, boolean]> = new Map([
  ['rro', [MOUNT_ATTR.RDONLY, true]],
  ['rrw', [MOUNT_ATTR.RDONLY, false]],
  ['rnosuid', [MOUNT_ATTR.NOSUID, true]],
  ['rsuid', [MOUNT_ATTR.NOSUID, false]],
  ['rnodev', [MOUNT_ATTR.NODEV, true]],
  ['rdev', [MOUNT_ATTR.NODEV, false]],
  ['rnoexec', [MOUNT_ATTR.NOEXEC, true]],
  ['rexec', [MOUNT_ATTR.NOEXEC, false]],
  ['rnodiratime', [MOUNT_ATTR.NODIRATIME, true]],
  ['rdiratime', [MOUNT_ATTR.NODIRATIME, false]],
  ['rrelatime', [MOUNT_ATTR.RELATIME, true]],
  ['rnorelatime', [MOUNT_ATTR.RELATIME, false]],
  ['rnoatime', [MOUNT_ATTR.NOATIME, true]],
  ['ratime', [MOUNT_ATTR.NOATIME, false]],
  ['rstrictatime', [MOUNT_ATTR.STRICTATIME, true]],
  ['rnostrictatime', [MOUNT_ATTR.STRICTATIME, false]],
  ['rnosymfollow', [MOUNT_ATTR.NOSYMFOLLOW, true]],
  ['rsymfollow', [MOUNT_ATTR.NOSYMFOLLOW, false]],
]);

const ATIME_OPTIONS: ReadonlySet<string> = new Set(['rrelatime', 'rnorelatime', 'rnoatime', 'ratime', 'rstrictatime', 'rnostrictatime']);


export const PROPAGATIONS: ReadonlyMap<string, number> = new Map([
  ['private', MS.PRIVATE],
  ['rprivate', MS.PRIVATE | MS.REC],
  ['shared', MS.SHARED],
  ['rshared', MS.SHARED | MS.REC],
  ['slave', MS.SLAVE],
  ['rslave', MS.SLAVE | MS.REC],
  ['unbindable', MS.UNBINDABLE],
  ['runbindable', MS.UNBINDABLE | MS.REC],
]);

export type Idmap = 'none' | 'idmap' | 'ridmap';

export interface ParsedMountOptions {
  flags: number;
  /** 0 when no propagation option was given. */
  propagation: number;
  /** tmpcopyup (runc's extension, which podman uses): a new tmpfs starts with what its target held. */
  copyUp: boolean;
  /** Filesystem options, comma-joined, or null. */
  data: string | null;
  /** mount_setattr(AT_RECURSIVE)'s attr_set and attr_clr; both 0 for none. */
  attrSet: number;
  attrClr: number;
  /** idmap: an idmapped bind; ridmap: the mapping also on every mount below it. */
  idmap: Idmap;
}

/** Parses a mount's options; where names an error's field, e.g. /mounts/2/options. */
export function parseMountOptions(options: readonly string[], where: string): ParsedMountOptions {
  let flags = 0;
  let propagation = 0;
  let copyUp = false;
  let attrSet = 0;
  let attrClr = 0;
  let idmap: Idmap = 'none';
  const data: string[] = [];
  for (const option of options) {
    if (option === 'tmpcopyup') {
      copyUp = true;
      continue;
    }
    const flag = FLAG_OPTIONS.get(option);
    if (flag !== undefined) {
      const [bits, set] = flag;
      flags = set ? flags | bits : flags & ~bits;
      continue;
    }
    const change = PROPAGATIONS.get(option);
    if (change !== undefined) {
      if (propagation !== 0) throw new OcitsError(`${where}: more than one propagation option`);
      propagation = change;
      continue;
    }
    const recursive = RECURSIVE_OPTIONS.get(option);
    if (recursive !== undefined) {
      const [attribute, set] = recursive;
      if (ATIME_OPTIONS.has(option)) {
        // The access time is one value: the kernel wants the whole field
        // cleared to change it, and clearing it leaves relatime, the default.
        attrClr |= MOUNT_ATTR.ATIME_MASK;
        attrSet = (attrSet & ~MOUNT_ATTR.ATIME_MASK) | (set ? attribute : MOUNT_ATTR.RELATIME);
      } else if (set) {
        attrSet |= attribute;
        attrClr &= ~attribute;
      } else {
        attrClr |= attribute;
        attrSet &= ~attribute;
      }
      continue;
    }
    if (option === 'idmap' || option === 'ridmap') {
      idmap = option;
      continue;
    }
    data.push(option);
  }
  return { flags, propagation, copyUp, data: data.length > 0 ? data.join(',') : null, attrSet, attrClr, idmap };
}

/** Every option name parseMountOptions takes besides filesystem data, for `features`. */
export const KNOWN_MOUNT_OPTIONS: readonly string[] = [
  ...FLAG_OPTIONS.keys(), ...PROPAGATIONS.keys(), ...RECURSIVE_OPTIONS.keys(), 'idmap', 'ridmap', 'tmpcopyup',
];
