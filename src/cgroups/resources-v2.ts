// linux.resources on cgroup v2: which file gets which value. Pure policy;
// resources.ts does the writes. The config speaks v1's language, so values
// are converted as runc does (its docs/cgroup-v2.md and libcontainer/cgroups
// utils): cpu.shares → cpu.weight, blkio weight → io.weight, memory+swap →
// swap alone. What v2 has no file for is refused by name, never dropped.
import { OcitsError } from '../errors';
import type { LinuxResources, MemoryResources } from '../spec/types';
import { type CgroupWrite, checkedPageSize, deviceLine, rdmaLine } from './resource-values';
import { checkedSwappiness, nonZero, pidsMax } from './resources-v1';

export function v2ResourceWrites(resources: LinuxResources): CgroupWrite[] {
  const writes: CgroupWrite[] = [];
  const add = (file: string, value: string, pointer: string): void => {
    writes.push({ controller: file.slice(0, file.indexOf('.')), file, value, pointer: `/linux/resources/${pointer}` });
  };
  const refuse = (pointer: string, why: string): never => {
    throw new OcitsError(`/linux/resources/${pointer}: ${why}`);
  };

  const memory = resources.memory;
  if (memory !== undefined) {
    // Swap first: memory.swap.max is independent of memory.max, but runc's order keeps failures alike.
    const swap = swapMax(memory);
    if (swap !== undefined) add('memory.swap.max', swap, 'memory/swap');
    if (nonZero(memory.limit)) add('memory.max', maxOrNumber(memory.limit), 'memory/limit');
    if (nonZero(memory.reservation)) add('memory.low', maxOrNumber(memory.reservation), 'memory/reservation');
    if (nonZero(memory.kernel)) refuse('memory/kernel', 'cgroup v2 has no kernel memory limit');
    if (nonZero(memory.kernelTCP)) refuse('memory/kernelTCP', 'cgroup v2 has no kernel TCP memory limit');
    if (checkedSwappiness(memory.swappiness) !== undefined) refuse('memory/swappiness', 'cgroup v2 has no per-cgroup swappiness');
    if (memory.disableOOMKiller === true) refuse('memory/disableOOMKiller', 'cgroup v2 cannot disable the OOM killer');
    // v2 is always hierarchical: true is what it does anyway.
    if (memory.useHierarchy === false) refuse('memory/useHierarchy', 'cgroup v2 is always hierarchical');
  }

  const cpu = resources.cpu;
  if (cpu !== undefined) {
    if (nonZero(cpu.shares)) add('cpu.weight', String(cpuSharesToWeight(cpu.shares)), 'cpu/shares');
    const max = cpuMax(cpu.quota, cpu.period);
    if (max !== undefined) add('cpu.max', max, nonZero(cpu.quota) ? 'cpu/quota' : 'cpu/period');
    if (cpu.burst !== undefined) add('cpu.max.burst', String(cpu.burst), 'cpu/burst');
    if (nonZero(cpu.realtimeRuntime)) refuse('cpu/realtimeRuntime', 'cgroup v2 has no realtime CPU limits');
    if (nonZero(cpu.realtimePeriod)) refuse('cpu/realtimePeriod', 'cgroup v2 has no realtime CPU limits');
    if (cpu.idle !== undefined) add('cpu.idle', String(cpu.idle), 'cpu/idle');
    if (cpu.cpus !== undefined && cpu.cpus !== '') add('cpuset.cpus', cpu.cpus, 'cpu/cpus');
    if (cpu.mems !== undefined && cpu.mems !== '') add('cpuset.mems', cpu.mems, 'cpu/mems');
  }

  if (resources.pids?.limit !== undefined) add('pids.max', pidsMax(resources.pids.limit), 'pids/limit');

  const io = resources.blockIO;
  if (io !== undefined) {
    if (nonZero(io.weight)) add('io.weight', `default ${blkioWeightToIoWeight(io.weight)}`, 'blockIO/weight');
    if (nonZero(io.leafWeight)) refuse('blockIO/leafWeight', 'cgroup v2 has no leaf weight');
    (io.weightDevice ?? []).forEach((device, i) => {
      if (device.leafWeight !== undefined) refuse(`blockIO/weightDevice/${i}/leafWeight`, 'cgroup v2 has no leaf weight');
      if (device.weight !== undefined) {
        add('io.weight', deviceLine(device, blkioWeightToIoWeight(device.weight)), `blockIO/weightDevice/${i}/weight`);
      }
    });
    const throttles = [
      ['throttleReadBpsDevice', 'rbps'],
      ['throttleWriteBpsDevice', 'wbps'],
      ['throttleReadIOPSDevice', 'riops'],
      ['throttleWriteIOPSDevice', 'wiops'],
    ] as const;
    for (const [field, key] of throttles) {
      (io[field] ?? []).forEach((device, i) => {
        add('io.max', deviceLine(device, `${key}=${device.rate === 0 ? 'max' : device.rate}`), `blockIO/${field}/${i}`);
      });
    }
  }

  (resources.hugepageLimits ?? []).forEach((limit, i) => {
    const size = checkedPageSize(limit.pageSize, `/linux/resources/hugepageLimits/${i}/pageSize`);
    add(`hugetlb.${size}.max`, String(limit.limit), `hugepageLimits/${i}`);
  });

  if (resources.network?.classID !== undefined) refuse('network/classID', 'cgroup v2 has no net_cls controller');
  if ((resources.network?.priorities ?? []).length > 0) refuse('network/priorities', 'cgroup v2 has no net_prio controller');

  for (const [device, limits] of Object.entries(resources.rdma ?? {})) add('rdma.max', rdmaLine(device, limits), `rdma/${device}`);

  // Last, so a raw value overrides a converted one, as in runc.
  for (const [key, value] of Object.entries(resources.unified ?? {})) {
    const pointer = `unified/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (!/^[a-z_]+\.[A-Za-z0-9_.]+$/.test(key)) refuse(pointer, `${JSON.stringify(key)} is not a cgroup file name such as "memory.high"`);
    add(key, value, pointer);
  }
  return writes;
}

/**
 * memory.swap.max from the config's memory+swap: swap - limit. -1 is
 * unlimited; 0 (or absent) leaves it alone. As runc, swap needs a limit and
 * cannot be below it.
 */
export function swapMax(memory: MemoryResources): string | undefined {
  const swap = memory.swap ?? 0;
  const limit = memory.limit ?? 0;
  if (swap === 0) return undefined;
  if (swap === -1) return 'max';
  if (limit === 0 || limit === -1) {
    throw new OcitsError('/linux/resources/memory/swap: a memory+swap limit needs a memory limit on cgroup v2 (memory.swap.max is swap alone)');
  }
  if (swap < limit) throw new OcitsError(`/linux/resources/memory/swap: ${swap} is below the memory limit ${limit}; it limits memory+swap`);
  return String(swap - limit);
}

/** cpu.max: "QUOTA PERIOD", "max" for no quota; undefined when neither is set. */
export function cpuMax(quota: number | undefined, period: number | undefined): string | undefined {
  if (!nonZero(quota) && !nonZero(period)) return undefined;
  const limit = nonZero(quota) && quota > 0 ? String(quota) : 'max';
  return nonZero(period) ? `${limit} ${period}` : limit;
}

/** shares 2..262144 onto weight 1..10000, runc's ConvertCPUSharesToCgroupV2Value. */
export function cpuSharesToWeight(shares: number): number {
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** blkio weight 10..1000 onto io.weight 1..10000, runc's ConvertBlkIOToIOWeightValue. */
export function blkioWeightToIoWeight(weight: number): number {
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

function maxOrNumber(value: number): string {
  return value === -1 ? 'max' : String(value);
}
