// linux.resources.devices through the v1 devices controller. The rules are
// written one by one to devices.allow / devices.deny, so the kernel applies
// exactly the semantics the spec borrows from it (a type "a" rule resets the
// whole list, later rules add or remove exceptions). As in runc 1.1, the
// config's rules come first and runc's always-allowed devices last, so a
// leading "deny all" cannot take /dev/null or the terminal away.
import { OcitsError } from '../errors';
import { tracer } from '../log';
import type { DeviceRule } from '../spec/types';
import { writeCgroupFile } from './files';
import type { CgroupHost } from './host';
import type { ContainerCgroup } from './paths';

const trace = tracer('cgroups');

/** runc's AllowedDevices (libcontainer/specconv), in its order. */
export const DEFAULT_DEVICE_RULES: readonly DeviceRule[] = [
  { allow: true, type: 'c', access: 'm' }, // mknod of any character device
  { allow: true, type: 'b', access: 'm' }, // mknod of any block device
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // /dev/null
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' }, // /dev/random
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }, // /dev/full
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' }, // /dev/tty
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // /dev/zero
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' }, // /dev/urandom
  { allow: true, type: 'c', major: 136, access: 'rwm' }, // /dev/pts/*
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // /dev/ptmx
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' }, // /dev/net/tun
];

/**
 * Applies the config's device rules, then DEFAULT_DEVICE_RULES, to the
 * container's v1 devices cgroup. Call it after createCgroup and before the
 * container's process runs user code. Every rule is checked before the first
 * is written.
 */
export function applyDeviceRules(host: CgroupHost, cgroup: ContainerCgroup, rules: DeviceRule[]): void {
  const hierarchy = host.hierarchies.find((h) => h.fstype === 'cgroup' && h.controllers.includes('devices'));
  if (hierarchy === undefined) {
    // With no rules there is nothing to restrict: the defaults only allow.
    if (rules.length === 0) return;
    throw new OcitsError(
      host.mode === 'legacy'
        ? '/linux/resources/devices: this host has no v1 devices cgroup mounted, so device rules cannot be enforced'
        : '/linux/resources/devices: device rules on cgroup v2 need the eBPF device controller, which is not implemented yet',
    );
  }
  const entry = cgroup.dirs.find((d) => d.mountPoint === hierarchy.mountPoint);
  if (entry === undefined) {
    throw new OcitsError(`the container's cgroup has no directory in the devices hierarchy at ${hierarchy.mountPoint}`);
  }
  const lines = rules.map((rule, i) => ruleLine(rule, `/linux/resources/devices/${i}`));
  const defaults = DEFAULT_DEVICE_RULES.map((rule) => ruleLine(rule, 'default device rule'));
  for (const { file, line } of [...lines, ...defaults]) {
    writeCgroupFile(entry.dir, file, line, `apply device rule ${JSON.stringify(line)}`);
  }
  trace('applied %d device rules and %d defaults in %s', lines.length, defaults.length, entry.dir);
}

export interface RuleLine {
  file: 'devices.allow' | 'devices.deny';
  line: string;
}

/** The kernel's form of a rule: "TYPE MAJOR:MINOR ACCESS", * for any number. */
export function ruleLine(rule: DeviceRule, where: string): RuleLine {
  const file = rule.allow ? 'devices.allow' : 'devices.deny';
  const type = rule.type ?? 'a';
  if (type !== 'a' && type !== 'b' && type !== 'c') {
    throw new OcitsError(`${where}/type: ${JSON.stringify(type)} is not one of "a", "b", "c"`);
  }
  // runc refuses an empty access too: the kernel would read it as no access at all.
  if (rule.access === undefined || !/^[rwm]+$/.test(rule.access)) {
    throw new OcitsError(`${where}/access: ${JSON.stringify(rule.access ?? '')} must be a non-empty combination of r, w and m`);
  }
  // The kernel reads any type "a" rule as "every device, every access", whatever follows.
  if (type === 'a') return { file, line: 'a *:* rwm' };
  const major = number(rule.major, `${where}/major`);
  const minor = number(rule.minor, `${where}/minor`);
  return { file, line: `${type} ${major}:${minor} ${rule.access}` };
}

function number(value: number | undefined, where: string): string {
  if (value === undefined || value === -1) return '*';
  if (!Number.isInteger(value) || value < 0) throw new OcitsError(`${where}: ${value} is not a device number`);
  return String(value);
}
