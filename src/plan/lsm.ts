// Linux security modules: process.apparmorProfile, process.selinuxLabel and
// linux.mountLabel, applied as runc applies them when the module is enabled.
// On a host without the module a config that asks for one is refused with a
// message naming the field: running the container unconfined would pretend
// to confine it.
import type { LsmWrite } from '../addon-plan';
import { OcitsError } from '../errors';
import type { PlanHost } from './host';

/**
 * The writes that put the profile and label on the process at its execve;
 * the field names are JSON pointers or flags, for the error on a host
 * without the module.
 */
export function planLsmWrites(
  host: PlanHost,
  apparmorProfile: string | undefined,
  selinuxLabel: string | undefined,
  fields = { apparmor: '/process/apparmorProfile', selinux: '/process/selinuxLabel' },
): LsmWrite[] {
  const writes: LsmWrite[] = [];
  if (apparmorProfile !== undefined && apparmorProfile !== '') {
    if (!host.apparmorEnabled()) throw new OcitsError(`${fields.apparmor}: AppArmor is not enabled on this host`);
    writes.push({ path: host.apparmorExecFile(), value: `exec ${apparmorProfile}` });
  }
  if (selinuxLabel !== undefined && selinuxLabel !== '') {
    if (!host.selinuxEnabled()) throw new OcitsError(`${fields.selinux}: SELinux is not enabled on this host`);
    writes.push({ path: '/proc/self/attr/exec', value: selinuxLabel });
  }
  return writes;
}

// runc leaves proc, sysfs, mqueue and cgroup mounts unlabelled (they take no
// context= option) and binds keep the source's labels.
const UNLABELLED_TYPES: ReadonlySet<string> = new Set(['proc', 'sysfs', 'mqueue', 'cgroup', 'cgroup2', 'bind']);

/** linux.mountLabel, checked against the host; null when there is none. */
export function planMountLabel(host: PlanHost, mountLabel: string | undefined): string | null {
  if (mountLabel === undefined || mountLabel === '') return null;
  if (!host.selinuxEnabled()) throw new OcitsError('/linux/mountLabel: SELinux is not enabled on this host');
  return mountLabel;
}

/** A filesystem mount's data with the mount label added, as runc's label.FormatMountLabel does. */
export function labelMountData(data: string | null, fstype: string, mountLabel: string | null): string | null {
  if (mountLabel === null || UNLABELLED_TYPES.has(fstype)) return data;
  const context = `context="${mountLabel}"`;
  return data === null || data === '' ? context : `${data},${context}`;
}
