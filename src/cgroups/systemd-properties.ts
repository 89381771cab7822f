// The systemd unit properties of a container's scope: the resource limits
// translated as runc translates them (docs/systemd.md's tables, v1 and v2),
// the device list as DevicePolicy/DeviceAllow, and the
// org.systemd.property.* annotations with runc's syntax and refusals. Pure
// policy: cgroups/systemd.ts sends them. The same limits are written to the
// cgroup files too (resources.ts), as runc does, since systemd knows only
// some of them.
import * as fs from 'node:fs';
import type { BusValue, UnitProperty } from '../addon';
import { OcitsError } from '../errors';
import { pointer } from '../spec/problems';
import type { LinuxResources } from '../spec/types';
import { devicePolicy, deviceRuleLine, effectiveDeviceRules, type CheckedDeviceRule } from './device-rules';
import { GVariantError, parseGVariant } from './gvariant';
import type { CgroupMode } from './host';
import { nonZero } from './resources-v1';
import { blkioWeightToIoWeight, cpuSharesToWeight, swapMax } from './resources-v2';

/** systemd's USEC_INFINITY and "infinity" for limits: the largest uint64. */
const INFINITY = 2n ** 64n - 1n;
const DEFAULT_CPU_PERIOD = 100000;
export const PROPERTY_ANNOTATION_PREFIX = 'org.systemd.property.';

const u64 = (name: string, value: number | bigint): UnitProperty => [name, 't', BigInt(value)];
const limit = (name: string, value: number): UnitProperty => u64(name, value < 0 ? INFINITY : value);

/** Accounting is always on, whatever is limited, as runc sets it. */
export function accountingProperties(mode: CgroupMode): UnitProperty[] {
  const io = mode === 'unified' ? 'IOAccounting' : 'BlockIOAccounting';
  return ['CPUAccounting', io, 'MemoryAccounting', 'TasksAccounting'].map((name) => [name, 'b', true]);
}

/** The properties for the limits in resources (devices apart: deviceProperties). */
export function resourceProperties(mode: CgroupMode, resources: LinuxResources): UnitProperty[] {
  return mode === 'unified' ? v2Properties(resources) : v1Properties(resources);
}

function v2Properties(resources: LinuxResources): UnitProperty[] {
  const properties: UnitProperty[] = [];
  const { memory, cpu, pids, blockIO } = resources;
  if (memory !== undefined) {
    if (nonZero(memory.limit)) properties.push(limit('MemoryMax', memory.limit));
    if (nonZero(memory.reservation)) properties.push(limit('MemoryLow', memory.reservation));
    const swap = swapMax(memory);
    if (swap !== undefined) properties.push(swap === 'max' ? u64('MemorySwapMax', INFINITY) : u64('MemorySwapMax', BigInt(swap)));
  }
  if (cpu !== undefined) {
    if (nonZero(cpu.shares)) properties.push(u64('CPUWeight', cpuSharesToWeight(cpu.shares)));
    properties.push(...cpuQuotaProperties(cpu.quota, cpu.period));
    properties.push(...cpusetProperties(cpu.cpus, cpu.mems));
  }
  properties.push(...tasksMax(pids?.limit));
  if (nonZero(blockIO?.weight)) properties.push(u64('IOWeight', blkioWeightToIoWeight(blockIO.weight)));
  // Last, so a raw value overrides a converted one, as in the files.
  for (const [file, value] of Object.entries(resources.unified ?? {})) properties.push(...unifiedProperties(file, value));
  return properties;
}

/** unified files whose value is one number or "max", and their properties. */
const NUMBER_PROPERTIES: Record<string, string> = {
  'memory.high': 'MemoryHigh',
  'memory.low': 'MemoryLow',
  'memory.min': 'MemoryMin',
  'memory.max': 'MemoryMax',
  'memory.swap.max': 'MemorySwapMax',
  'pids.max': 'TasksMax',
  'cpu.weight': 'CPUWeight',
};

/**
 * The unified entries systemd has a property for, as runc translates them;
 * the rest reach only the files. Values must be numbers or "max" (runc's
 * rule too), since the unit takes numbers.
 */
function unifiedProperties(file: string, value: string): UnitProperty[] {
  const where = pointer('linux', 'resources', 'unified', file);
  const number = (): bigint => {
    const text = value.trim();
    if (text === 'max') return INFINITY;
    if (!/^\d+$/.test(text) || BigInt(text) >= INFINITY) {
      throw new OcitsError(`${where}: ${JSON.stringify(value)} is not a number or "max", which systemd's property for it needs`);
    }
    return BigInt(text);
  };
  if (file in NUMBER_PROPERTIES) return [u64(NUMBER_PROPERTIES[file], number())];
  switch (file) {
    case 'cpu.max': {
      const match = /^\s*(max|\d+)(?:\s+(\d+))?\s*$/.exec(value);
      if (match === null) throw new OcitsError(`${where}: ${JSON.stringify(value)} is not "QUOTA [PERIOD]" or "max [PERIOD]"`);
      return cpuQuotaProperties(match[1] === 'max' ? -1 : Number(match[1]), match[2] === undefined ? undefined : Number(match[2]));
    }
    case 'cpuset.cpus':
      return [['AllowedCPUs', 'ay', listToBitmask(value, where)]];
    case 'cpuset.mems':
      return [['AllowedMemoryNodes', 'ay', listToBitmask(value, where)]];
    case 'cpu.idle':
      // systemd's idle weight; cpu.idle 0 leaves the weight alone.
      return value.trim() === '1' ? [u64('CPUWeight', 0)] : [];
    default:
      return [];
  }
}

function v1Properties(resources: LinuxResources): UnitProperty[] {
  const properties: UnitProperty[] = [];
  const { memory, cpu, pids, blockIO } = resources;
  if (nonZero(memory?.limit)) properties.push(limit('MemoryLimit', memory.limit));
  if (cpu !== undefined) {
    if (nonZero(cpu.shares)) properties.push(u64('CPUShares', cpu.shares));
    properties.push(...cpusetProperties(cpu.cpus, cpu.mems));
  }
  properties.push(...tasksMax(pids?.limit));
  if (nonZero(blockIO?.weight)) properties.push(u64('BlockIOWeight', blockIO.weight));
  return properties;
}

function tasksMax(value: number | undefined): UnitProperty[] {
  return value !== undefined && value !== 0 ? [limit('TasksMax', value)] : [];
}

/**
 * CPUQuotaPeriodUSec, and CPUQuotaPerSecUSec: quota per second of CPU,
 * rounded up to whole percent since systemd keeps it as a percentage (runc
 * does the same, so the cgroup's own cpu.max still gets the exact quota).
 */
export function cpuQuotaProperties(quota: number | undefined, period: number | undefined): UnitProperty[] {
  const properties: UnitProperty[] = [];
  if (nonZero(period)) properties.push(u64('CPUQuotaPeriodUSec', period));
  if (nonZero(quota) || nonZero(period)) {
    let perSec = INFINITY;
    if (nonZero(quota) && quota > 0) {
      const usec = (BigInt(quota) * 1000000n) / BigInt(nonZero(period) ? period : DEFAULT_CPU_PERIOD);
      perSec = usec % 10000n === 0n ? usec : (usec / 10000n + 1n) * 10000n;
    }
    properties.push(u64('CPUQuotaPerSecUSec', perSec));
  }
  return properties;
}

function cpusetProperties(cpus: string | undefined, mems: string | undefined): UnitProperty[] {
  const properties: UnitProperty[] = [];
  if (cpus !== undefined && cpus !== '') properties.push(['AllowedCPUs', 'ay', listToBitmask(cpus, '/linux/resources/cpu/cpus')]);
  if (mems !== undefined && mems !== '') properties.push(['AllowedMemoryNodes', 'ay', listToBitmask(mems, '/linux/resources/cpu/mems')]);
  return properties;
}

/** "0-2,7" as systemd's bitmask: byte 0 holds CPUs 0-7, bit n of it CPU n. */
export function listToBitmask(list: string, where: string): number[] {
  const bytes: number[] = [];
  for (const part of list.split(',')) {
    const match = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
    if (match === null) throw new OcitsError(`${where}: ${JSON.stringify(list)} is not a list such as "0-2,7"`);
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (last < first || last > 8191) throw new OcitsError(`${where}: ${JSON.stringify(part.trim())} is not a range of CPU or node numbers`);
    for (let n = first; n <= last; n++) {
      while (bytes.length <= n >> 3) bytes.push(0);
      bytes[n >> 3] |= 1 << (n & 7);
    }
  }
  return bytes;
}

/**
 * The device list as systemd's DevicePolicy and DeviceAllow. A list that
 * allows by default is "auto" with nothing listed; one that denies by
 * default is "strict" with its exceptions. What systemd cannot express (a
 * denied exception, a major without a name in /proc/devices) is still
 * enforced by ocits' own device rules on the same cgroup.
 */
export function deviceProperties(configRules: LinuxResources['devices'], procDevices = readProcDevices()): UnitProperty[] {
  const policy = devicePolicy(effectiveDeviceRules(configRules ?? []));
  if (policy.defaultAllow) return [['DevicePolicy', 's', 'auto'], ['DeviceAllow', 'a(ss)', []]];
  const allowed: BusValue[] = [];
  for (const exception of policy.exceptions) {
    const entry = deviceAllowEntry({ allow: true, ...exception }, procDevices);
    if (entry !== undefined) allowed.push(entry);
  }
  return [['DevicePolicy', 's', 'strict'], ['DeviceAllow', 'a(ss)', allowed]];
}

function deviceAllowEntry(rule: CheckedDeviceRule, procDevices: Map<string, string>): [string, string] | undefined {
  const access = deviceRuleLine(rule).split(' ')[2];
  const kind = rule.type === 'b' ? 'block' : 'char';
  if (rule.major === undefined) return [`${kind}-*`, access];
  if (rule.minor === undefined) {
    const name = procDevices.get(`${rule.type} ${rule.major}`);
    return name === undefined ? undefined : [`${kind}-${name}`, access];
  }
  // systemd reads the numbers from this name; the node need not exist.
  return [`/dev/${kind}/${rule.major}:${rule.minor}`, access];
}

/** /proc/devices: "c 136" -> "pts", "b 7" -> "loop". */
function readProcDevices(): Map<string, string> {
  const names = new Map<string, string>();
  let kind = '';
  let text = '';
  try {
    text = fs.readFileSync('/proc/devices', 'utf8');
  } catch {
    return names;
  }
  for (const line of text.split('\n')) {
    if (line.startsWith('Character')) kind = 'c';
    else if (line.startsWith('Block')) kind = 'b';
    const match = /^\s*(\d+)\s+(\S+)$/.exec(line);
    if (match !== null && kind !== '') names.set(`${kind} ${match[1]}`, match[2]);
  }
  return names;
}

/**
 * org.systemd.property.NAME annotations as unit properties, with runc's
 * rules: NAME is at least three latin letters; the value is GVariant text;
 * NAMEs ending in a lowercase letter and "Sec" are seconds, sent as the
 * matching USec property in microseconds.
 */
export function annotationProperties(annotations: Record<string, string> | undefined): UnitProperty[] {
  const properties: UnitProperty[] = [];
  for (const [key, text] of Object.entries(annotations ?? {})) {
    if (!key.startsWith(PROPERTY_ANNOTATION_PREFIX)) continue;
    const where = pointer('annotations', key);
    let name = key.slice(PROPERTY_ANNOTATION_PREFIX.length);
    if (name.length < 3) throw new OcitsError(`${where}: ${JSON.stringify(name)} is not a systemd property name: too short`);
    if (!/^[A-Za-z]+$/.test(name)) {
      throw new OcitsError(`${where}: ${JSON.stringify(name)} is not a systemd property name: it has a character other than a latin letter`);
    }
    let parsed;
    try {
      parsed = parseGVariant(text);
    } catch (error) {
      if (!(error instanceof GVariantError)) throw error;
      throw new OcitsError(`${where}: ${JSON.stringify(text)} is not a GVariant value such as "uint64 123" or "'text'": ${error.message}`);
    }
    let { signature, value } = parsed;
    const base = name.slice(0, -'Sec'.length);
    if (name.endsWith('Sec') && /[a-z]$/.test(base)) {
      name = `${base}USec`;
      value = secondsToMicroseconds(signature, value, where);
      signature = 't';
    }
    properties.push([name, signature, value]);
  }
  return properties;
}

function secondsToMicroseconds(signature: string, value: BusValue, where: string): bigint {
  if (signature === 'd' && typeof value === 'number' && value >= 0) return BigInt(Math.floor(value * 1000000));
  if ('ynqiuxt'.includes(signature) && signature.length === 1 && (typeof value === 'number' || typeof value === 'bigint')) {
    const usec = BigInt(value) * 1000000n;
    if (usec >= 0n && usec <= INFINITY) return usec;
  }
  throw new OcitsError(`${where}: a property in seconds takes a number of seconds`);
}
