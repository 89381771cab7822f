// The device rules a container's cgroup enforces, whichever controller
// carries them out (v1 devices.allow/deny or a v2 eBPF program). As runc
// does, the list starts from "deny everything", then the config's rules in
// order, then runc's always-allowed devices last, so a config cannot take
// /dev/null or the terminal away and a config without rules still gets a
// closed device list.
import { OcitsError } from '../errors';
import type { DeviceRule } from '../spec/types';

/** Access bits; the values are the kernel's BPF_DEVCG_ACC_* ones. */
export const ACCESS_MKNOD = 1;
export const ACCESS_READ = 2;
export const ACCESS_WRITE = 4;
export const ACCESS_ALL = ACCESS_MKNOD | ACCESS_READ | ACCESS_WRITE;

/** A rule that passed the checks; undefined major or minor means any. */
export interface CheckedDeviceRule {
  allow: boolean;
  type: 'a' | 'b' | 'c';
  major?: number;
  minor?: number;
  /** ACCESS_* bits, never 0. */
  access: number;
}

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

const DENY_ALL: CheckedDeviceRule = { allow: false, type: 'a', access: ACCESS_ALL };

/**
 * Every rule the container's cgroup gets, in the order they apply: deny all,
 * the config's rules (checked, errors name /linux/resources/devices/N), then
 * DEFAULT_DEVICE_RULES.
 */
export function effectiveDeviceRules(configRules: readonly DeviceRule[]): CheckedDeviceRule[] {
  return [
    DENY_ALL,
    ...configRules.map((rule, i) => checkDeviceRule(rule, `/linux/resources/devices/${i}`)),
    ...DEFAULT_DEVICE_RULES.map((rule) => checkDeviceRule(rule, 'default device rule')),
  ];
}

function checkDeviceRule(rule: DeviceRule, where: string): CheckedDeviceRule {
  const type = rule.type ?? 'a';
  if (type !== 'a' && type !== 'b' && type !== 'c') {
    throw new OcitsError(`${where}/type: ${JSON.stringify(type)} is not one of "a", "b", "c"`);
  }
  // runc refuses an empty access too: the kernel would read it as no access at all.
  if (rule.access === undefined || !/^[rwm]+$/.test(rule.access)) {
    throw new OcitsError(`${where}/access: ${JSON.stringify(rule.access ?? '')} must be a non-empty combination of r, w and m`);
  }
  // The kernel reads any type "a" rule as "every device, every access", whatever follows.
  if (type === 'a') return { allow: rule.allow, type, access: ACCESS_ALL };
  let access = 0;
  for (const letter of rule.access) access |= letter === 'r' ? ACCESS_READ : letter === 'w' ? ACCESS_WRITE : ACCESS_MKNOD;
  return {
    allow: rule.allow,
    type,
    ...deviceNumber('major', rule.major, where),
    ...deviceNumber('minor', rule.minor, where),
    access,
  };
}

function deviceNumber(field: 'major' | 'minor', value: number | undefined, where: string): { major?: number; minor?: number } {
  if (value === undefined || value === -1) return {};
  // Device numbers are u32 in the kernel (and in the eBPF program's context).
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new OcitsError(`${where}/${field}: ${value} is not a device number`);
  }
  return { [field]: value };
}

/** The kernel's form of a rule for devices.allow/deny: "TYPE MAJOR:MINOR ACCESS". */
export function deviceRuleLine(rule: CheckedDeviceRule): string {
  if (rule.type === 'a') return 'a *:* rwm';
  const access =
    ((rule.access & ACCESS_READ) !== 0 ? 'r' : '') +
    ((rule.access & ACCESS_WRITE) !== 0 ? 'w' : '') +
    ((rule.access & ACCESS_MKNOD) !== 0 ? 'm' : '');
  return `${rule.type} ${rule.major ?? '*'}:${rule.minor ?? '*'} ${access}`;
}

/** A device list in the v1 kernel's own terms: a default and exceptions to it. */
export interface DevicePolicy {
  defaultAllow: boolean;
  /** Each one reverses the default for the devices and accesses it names. */
  exceptions: Array<Omit<CheckedDeviceRule, 'allow' | 'type'> & { type: 'b' | 'c' }>;
}

/**
 * What a v1 devices cgroup holds after these rules are written to it, one
 * after another (security/device_cgroup.c): an "a" rule resets the default
 * and clears the exceptions; a rule against the default adds an exception
 * (merging access with one for the same type and numbers); a rule agreeing
 * with the default takes its access away from the exception with exactly the
 * same type and numbers. v2 has no such state, so its program is built from
 * this, and both versions enforce the same list.
 */
export function devicePolicy(rules: readonly CheckedDeviceRule[]): DevicePolicy {
  let defaultAllow = true; // a new v1 cgroup with no rules written allows everything
  let exceptions = new Map<string, DevicePolicy['exceptions'][number]>();
  for (const rule of rules) {
    if (rule.type === 'a') {
      defaultAllow = rule.allow;
      exceptions = new Map();
      continue;
    }
    const key = `${rule.type} ${rule.major ?? '*'}:${rule.minor ?? '*'}`;
    const existing = exceptions.get(key);
    if (rule.allow !== defaultAllow) {
      if (existing !== undefined) existing.access |= rule.access;
      else exceptions.set(key, exceptionOf(rule));
    } else if (existing !== undefined) {
      existing.access &= ~rule.access;
      if (existing.access === 0) exceptions.delete(key);
    }
  }
  return { defaultAllow, exceptions: [...exceptions.values()] };
}

function exceptionOf(rule: CheckedDeviceRule): DevicePolicy['exceptions'][number] {
  const { allow: _allow, ...exception } = rule;
  return { ...exception, type: rule.type === 'b' ? 'b' : 'c' };
}
