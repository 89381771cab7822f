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
]);

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

// Options of later work: recursive attributes need mount_setattr(2), and
// idmapped mounts need user namespaces.
const NOT_YET = /^(r(ro|rw|nosuid|suid|nodev|dev|noexec|exec|atime|noatime|relatime|norelatime|strictatime|nostrictatime|diratime|nodiratime|nosymfollow|symfollow)|idmap|ridmap|nosymfollow|symfollow)$/;

export interface ParsedMountOptions {
  flags: number;
  /** 0 when no propagation option was given. */
  propagation: number;
  /** tmpcopyup (runc's extension, which podman uses): a new tmpfs starts with what its target held. */
  copyUp: boolean;
  /** Filesystem options, comma-joined, or null. */
  data: string | null;
}

/** Parses a mount's options; where names an error's field, e.g. /mounts/2/options. */
export function parseMountOptions(options: readonly string[], where: string): ParsedMountOptions {
  let flags = 0;
  let propagation = 0;
  let copyUp = false;
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
    if (NOT_YET.test(option)) throw new OcitsError(`${where}: mount option "${option}" is not supported yet`);
    data.push(option);
  }
  return { flags, propagation, copyUp, data: data.length > 0 ? data.join(',') : null };
}
