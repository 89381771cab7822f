// The container's process (addon/init/process.cc): arguments, environment,
// user, rlimits, capabilities, LSM labels and terminal, shared by the
// container init and `exec`.
import type { Capabilities, ProcessPlan } from '../addon-plan';
import { OcitsError } from '../errors';
import { logWarning } from '../log';
import { CAPABILITIES, RLIMITS } from '../spec/names';
import type { CapabilitySet, Process } from '../spec/types';
import type { PlanHost } from './host';
import { planLsmWrites } from './lsm';
import { planIoPriority, planScheduler } from './process-attributes';

const RLIM_INFINITY = (1n << 64n) - 1n;

/** The process part of a plan, shared by the container init and `exec`. */
export function planProcess(process: Process, consoleSocket: number, host: PlanHost): ProcessPlan {
  const env = process.env ?? [];
  const pathEntry = env.filter((entry) => entry.startsWith('PATH=')).pop();
  return {
    args: process.args,
    env,
    pathEnv: pathEntry !== undefined ? pathEntry.slice('PATH='.length) : null,
    cwd: process.cwd,
    uid: process.user.uid,
    gid: process.user.gid,
    additionalGids: process.user.additionalGids ?? [],
    umask: process.user.umask ?? 0o022,
    noNewPrivileges: process.noNewPrivileges === true,
    rlimits: (process.rlimits ?? []).map((limit) => ({
      resource: RLIMITS.get(limit.type)!,
      soft: rlimitValue(limit.soft),
      hard: rlimitValue(limit.hard),
    })),
    capabilities: process.capabilities !== undefined ? planCapabilities(process.capabilities, host.capLastCap()) : null,
    // The container's, which the caller adds: they are not in the process spec.
    seccomp: null,
    personality: -1,
    scheduler: planScheduler(process.scheduler),
    ioPriority: planIoPriority(process.ioPriority),
    setGroups: true,
    lsmWrites: planLsmWrites(host, process.apparmorProfile, process.selinuxLabel),
    terminal: process.terminal === true,
    consoleRows: process.consoleSize?.height ?? 0,
    consoleColumns: process.consoleSize?.width ?? 0,
    consoleSocket,
  };
}

function rlimitValue(value: number): bigint {
  // JSON numbers above 2^53 arrive rounded; 2^64-1 rounds up to 2^64.
  const exact = BigInt(Math.trunc(value));
  return exact >= RLIM_INFINITY ? RLIM_INFINITY : exact;
}

// runc's rule: a name that is no capability at all is an error; one this
// build knows but the running kernel does not (above cap_last_cap) is
// skipped with one warning, so a config written for a newer kernel still runs.
export function planCapabilities(capabilities: Process['capabilities'], last: number): Capabilities {
  const unavailable = new Set<string>();
  const mask = (set: CapabilitySet): bigint => {
    let bits = 0n;
    for (const name of capabilities?.[set] ?? []) {
      const bit = CAPABILITIES.get(name);
      if (bit === undefined) throw new OcitsError(`/process/capabilities/${set}: unknown capability ${name}`);
      if (bit > last) {
        unavailable.add(name);
        continue;
      }
      bits |= 1n << BigInt(bit);
    }
    return bits;
  };
  const permitted = mask('permitted');
  const inheritable = mask('inheritable');
  // The kernel raises an ambient capability only if it is also permitted and
  // inheritable; runc quietly leaves the others out, and so do we.
  const ambient = mask('ambient') & permitted & inheritable;
  const planned = { bounding: mask('bounding'), effective: mask('effective'), permitted, inheritable, ambient, lastCap: last };
  if (unavailable.size > 0) {
    logWarning(`ignoring capabilities unknown to this kernel (cap_last_cap ${last}): ${[...unavailable].join(' ')}`);
  }
  return planned;
}

