// Linux security modules: process.apparmorProfile, process.selinuxLabel and
// linux.mountLabel, applied as runc applies them when the module is enabled.
// On a host without the module a config that asks for one is refused with a
// message naming the field: running the container unconfined would pretend
// to confine it.
import * as fs from 'node:fs';
import type { LsmWrite } from '../addon-plan';
import { OcitsError } from '../errors';

// As runc's apparmor.IsEnabled: the module is loaded and says it is on.
export function apparmorEnabled(): boolean {
  try {
    return fs.readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').startsWith('Y');
  } catch {
    return false;
  }
}

// As go-selinux's GetEnabled: selinuxfs is mounted (at its usual place) and
// the process has a context.
export function selinuxEnabled(): boolean {
  if (!fs.existsSync('/sys/fs/selinux/enforce')) return false;
  try {
    return fs.readFileSync('/proc/self/attr/current', 'utf8').replace(/\0/g, '').trim() !== '';
  } catch {
    return false;
  }
}

/**
 * The writes that put the profile and label on the process at its execve;
 * the field names are JSON pointers or flags, for the error on a host
 * without the module.
 */
export function planLsmWrites(
  apparmorProfile: string | undefined,
  selinuxLabel: string | undefined,
  fields = { apparmor: '/process/apparmorProfile', selinux: '/process/selinuxLabel' },
): LsmWrite[] {
  const writes: LsmWrite[] = [];
  if (apparmorProfile !== undefined && apparmorProfile !== '') {
    if (!apparmorEnabled()) throw new OcitsError(`${fields.apparmor}: AppArmor is not enabled on this host`);
    // Since Linux 5.8 each module has its own attr directory; the shared
    // file is the older interface, which runc falls back to.
    const path = fs.existsSync('/proc/self/attr/apparmor/exec') ? '/proc/self/attr/apparmor/exec' : '/proc/self/attr/exec';
    writes.push({ path, value: `exec ${apparmorProfile}` });
  }
  if (selinuxLabel !== undefined && selinuxLabel !== '') {
    if (!selinuxEnabled()) throw new OcitsError(`${fields.selinux}: SELinux is not enabled on this host`);
    writes.push({ path: '/proc/self/attr/exec', value: selinuxLabel });
  }
  return writes;
}

// runc leaves proc, sysfs, mqueue and cgroup mounts unlabelled (they take no
// context= option) and binds keep the source's labels.
const UNLABELLED_TYPES: ReadonlySet<string> = new Set(['proc', 'sysfs', 'mqueue', 'cgroup', 'cgroup2', 'bind']);

/** linux.mountLabel, checked against the host; null when there is none. */
export function planMountLabel(mountLabel: string | undefined): string | null {
  if (mountLabel === undefined || mountLabel === '') return null;
  if (!selinuxEnabled()) throw new OcitsError('/linux/mountLabel: SELinux is not enabled on this host');
  return mountLabel;
}

/** A filesystem mount's data with the mount label added, as runc's label.FormatMountLabel does. */
export function labelMountData(data: string | null, fstype: string, mountLabel: string | null): string | null {
  if (mountLabel === null || UNLABELLED_TYPES.has(fstype)) return data;
  const context = `context="${mountLabel}"`;
  return data === null || data === '' ? context : `${data},${context}`;
}
