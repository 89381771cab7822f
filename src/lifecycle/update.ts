// `update`: changes the resource limits of a created, running or paused
// container, from runc's flags or from a LinuxResources JSON document
// (--resources FILE, or - for stdin). Only what is given is written.
import { applyResources, completeFromCurrent } from '../cgroups/resources';
import { updateScope } from '../cgroups/systemd';
import { OcitsError, quoted } from '../errors';
import { parseJson, readDocument, readDocumentFrom } from '../spec/json';
import { formatProblem } from '../spec/problems';
import { resourcesProblems } from '../spec/bundle';
import type { LinuxResources } from '../spec/types';
import { cgroupOf } from './state';
import type { StateStore } from './store';

export function updateContainer(store: StateStore, id: string, resources: LinuxResources): void {
  store.withContainer(id, 'update', (record) => {
    if (resources.devices !== undefined) throw new OcitsError('/devices: update cannot change device rules');
    const cgroup = cgroupOf(record);
    const complete = completeFromCurrent(cgroup, resources);
    // As runc: the unit's properties first, then the files (systemd knows only some limits).
    if (record.systemd !== undefined) updateScope(record.systemd, cgroup.mode, complete);
    applyResources(cgroup, complete);
  });
}

/** runc update's flags, as the strings given; undefined when absent. */
export interface UpdateFlags {
  blkioWeight?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpuBurst?: string;
  cpuShare?: string;
  cpuRtPeriod?: string;
  cpuRtRuntime?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  memory?: string;
  memoryReservation?: string;
  memorySwap?: string;
  pidsLimit?: string;
  l3CacheSchema?: string;
  memBwSchema?: string;
}

/** The LinuxResources the flags ask for, with runc's value syntax ("512m", "-1"). */
export function resourcesFromFlags(flags: UpdateFlags): LinuxResources {
  if (flags.l3CacheSchema !== undefined || flags.memBwSchema !== undefined) {
    throw new OcitsError('--l3-cache-schema, --mem-bw-schema: Intel RDT is not supported by ocits yet');
  }
  const resources: LinuxResources = {};
  const memory = {
    limit: size('memory', flags.memory),
    reservation: size('memory-reservation', flags.memoryReservation),
    swap: size('memory-swap', flags.memorySwap),
  };
  const cpu = {
    shares: integer('cpu-share', flags.cpuShare, false),
    quota: integer('cpu-quota', flags.cpuQuota, true),
    period: integer('cpu-period', flags.cpuPeriod, false),
    burst: integer('cpu-burst', flags.cpuBurst, false),
    realtimePeriod: integer('cpu-rt-period', flags.cpuRtPeriod, false),
    realtimeRuntime: integer('cpu-rt-runtime', flags.cpuRtRuntime, true),
    cpus: flags.cpusetCpus,
    mems: flags.cpusetMems,
  };
  if (definedOnly(memory)) resources.memory = definedOnly(memory);
  if (definedOnly(cpu)) resources.cpu = definedOnly(cpu);
  const pids = integer('pids-limit', flags.pidsLimit, true);
  if (pids !== undefined) resources.pids = { limit: pids };
  const weight = integer('blkio-weight', flags.blkioWeight, false);
  if (weight !== undefined) resources.blockIO = { weight };
  return resources;
}

/** --resources FILE or - (stdin): a LinuxResources JSON object. */
export function readResourcesFile(file: string): LinuxResources {
  const label = `--resources ${file === '-' ? 'stdin' : quoted(file)}`;
  const text = file === '-' ? readDocumentFrom(0, label) : readDocument(file, label);
  const parsed = parseJson(text, label);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new OcitsError('--resources: expected a JSON object (LinuxResources)');
  }
  const problem = resourcesProblems(parsed)[0];
  if (problem !== undefined) throw new OcitsError(`${label}: ${formatProblem(problem)}`);
  return parsed as LinuxResources;
}

const UNIT_POWERS: Record<string, number> = { '': 0, k: 1, m: 2, g: 3, t: 4, p: 5 };

/**
 * A size as runc reads it (go-units RAMInBytes): a number with an optional
 * binary unit, "512m", "1.5g", "1024", "1GiB"; or -1 for unlimited.
 */
export function size(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (value === '-1') return -1;
  const match = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(value);
  if (match === null) throw new OcitsError(`invalid value for ${flag}: invalid size: '${value}'`);
  return Math.trunc(Number(match[1]) * 1024 ** UNIT_POWERS[(match[2] ?? '').toLowerCase()]);
}

function integer(flag: string, value: string | undefined, signed: boolean): number | undefined {
  if (value === undefined) return undefined;
  if (!(signed ? /^-?\d+$/ : /^\d+$/).test(value) || !Number.isSafeInteger(Number(value))) {
    throw new OcitsError(`invalid value for ${flag}: ${JSON.stringify(value)} is not ${signed ? 'an integer' : 'a non-negative integer'}`);
  }
  return Number(value);
}

/** The object without its undefined fields, or undefined when none is left. */
function definedOnly<T extends object>(object: T): T | undefined {
  const entries = Object.entries(object).filter(([, value]) => value !== undefined);
  return entries.length > 0 ? (Object.fromEntries(entries) as T) : undefined;
}
