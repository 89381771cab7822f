// linux.resources on cgroup v1: which file of which controller gets which
// value. Pure policy, so the unit tests can check it without a kernel; the
// writes themselves happen in resources.ts. The files and the special cases
// follow runc's libcontainer/cgroups/fs (the reference for engines):
// 0 means "leave it" for the memory and CPU numbers, -1 means unlimited.
import { OcitsError } from '../errors';
import type { LinuxResources, MemoryResources } from '../spec/types';
import { type CgroupWrite, checkedPageSize, deviceLine, rdmaLine } from './resource-values';

/**
 * What the current memory limit is, for ordering: the kernel refuses a
 * memory limit above memory+swap, and memory+swap below the memory limit.
 */
export interface V1Current {
  memoryLimit?: number;
  /**
   * Whether the blkio controller has only the BFQ scheduler's weight files
   * (blkio.bfq.weight): CFQ, which had blkio.weight, left Linux in 5.0.
   * runc writes the weights there; so do we.
   */
  blkioBfqWeights?: boolean;
}

export function v1ResourceWrites(resources: LinuxResources, current: V1Current = {}): CgroupWrite[] {
  const writes: CgroupWrite[] = [];
  const add = (controller: string, file: string, value: string, pointer: string, readBack = false): void => {
    writes.push({ controller, file, value, pointer: `/linux/resources/${pointer}`, ...(readBack ? { readBack } : {}) });
  };

  const memory = resources.memory;
  if (memory !== undefined) {
    memoryLimitAndSwap(memory, current).forEach(([file, value, pointer]) => add('memory', file, value, pointer));
    if (nonZero(memory.reservation)) add('memory', 'memory.soft_limit_in_bytes', String(memory.reservation), 'memory/reservation');
    if (nonZero(memory.kernel)) add('memory', 'memory.kmem.limit_in_bytes', String(memory.kernel), 'memory/kernel');
    if (nonZero(memory.kernelTCP)) add('memory', 'memory.kmem.tcp.limit_in_bytes', String(memory.kernelTCP), 'memory/kernelTCP');
    const swappiness = checkedSwappiness(memory.swappiness);
    if (swappiness !== undefined) add('memory', 'memory.swappiness', String(swappiness), 'memory/swappiness');
    if (memory.disableOOMKiller === true) add('memory', 'memory.oom_control', '1', 'memory/disableOOMKiller');
    if (memory.useHierarchy !== undefined) add('memory', 'memory.use_hierarchy', memory.useHierarchy ? '1' : '0', 'memory/useHierarchy');
  }

  const cpu = resources.cpu;
  if (cpu !== undefined) {
    // cpu.shares is clamped by the kernel without an error: read it back, as runc does.
    if (nonZero(cpu.shares)) add('cpu', 'cpu.shares', String(cpu.shares), 'cpu/shares', true);
    if (nonZero(cpu.period)) add('cpu', 'cpu.cfs_period_us', String(cpu.period), 'cpu/period');
    if (nonZero(cpu.quota)) add('cpu', 'cpu.cfs_quota_us', String(cpu.quota), 'cpu/quota');
    if (cpu.burst !== undefined) add('cpu', 'cpu.cfs_burst_us', String(cpu.burst), 'cpu/burst');
    // The runtime goes under the period, so the period first.
    if (nonZero(cpu.realtimePeriod)) add('cpu', 'cpu.rt_period_us', String(cpu.realtimePeriod), 'cpu/realtimePeriod');
    if (nonZero(cpu.realtimeRuntime)) add('cpu', 'cpu.rt_runtime_us', String(cpu.realtimeRuntime), 'cpu/realtimeRuntime');
    if (cpu.idle !== undefined) add('cpu', 'cpu.idle', String(cpu.idle), 'cpu/idle');
    if (cpu.cpus !== undefined && cpu.cpus !== '') add('cpuset', 'cpuset.cpus', cpu.cpus, 'cpu/cpus');
    if (cpu.mems !== undefined && cpu.mems !== '') add('cpuset', 'cpuset.mems', cpu.mems, 'cpu/mems');
  }

  if (resources.pids?.limit !== undefined) add('pids', 'pids.max', pidsMax(resources.pids.limit), 'pids/limit');

  const io = resources.blockIO;
  if (io !== undefined) {
    const weightFile = current.blkioBfqWeights === true ? 'blkio.bfq.weight' : 'blkio.weight';
    if (nonZero(io.weight)) add('blkio', weightFile, String(io.weight), 'blockIO/weight');
    if (nonZero(io.leafWeight)) add('blkio', 'blkio.leaf_weight', String(io.leafWeight), 'blockIO/leafWeight');
    (io.weightDevice ?? []).forEach((device, i) => {
      if (device.weight !== undefined) add('blkio', `${weightFile}_device`, deviceLine(device, device.weight), `blockIO/weightDevice/${i}/weight`);
      if (device.leafWeight !== undefined) {
        add('blkio', 'blkio.leaf_weight_device', deviceLine(device, device.leafWeight), `blockIO/weightDevice/${i}/leafWeight`);
      }
    });
    const throttles = [
      ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device'],
      ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device'],
      ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device'],
      ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device'],
    ] as const;
    for (const [field, file] of throttles) {
      (io[field] ?? []).forEach((device, i) => add('blkio', file, deviceLine(device, device.rate), `blockIO/${field}/${i}`));
    }
  }

  (resources.hugepageLimits ?? []).forEach((limit, i) => {
    const size = checkedPageSize(limit.pageSize, `/linux/resources/hugepageLimits/${i}/pageSize`);
    add('hugetlb', `hugetlb.${size}.limit_in_bytes`, String(limit.limit), `hugepageLimits/${i}`);
  });

  const network = resources.network;
  if (network?.classID !== undefined) add('net_cls', 'net_cls.classid', String(network.classID), 'network/classID');
  (network?.priorities ?? []).forEach((priority, i) => {
    add('net_prio', 'net_prio.ifpriomap', `${priority.name} ${priority.priority}`, `network/priorities/${i}`);
  });

  for (const [device, limits] of Object.entries(resources.rdma ?? {})) {
    add('rdma', 'rdma.max', rdmaLine(device, limits), `rdma/${device}`);
  }

  if (Object.keys(resources.unified ?? {}).length > 0) {
    throw new OcitsError('/linux/resources/unified: cgroup v2 files cannot be set on a host whose controllers are on cgroup v1');
  }
  return writes;
}

type FileWrite = [file: string, value: string, pointer: string];

/**
 * memory.limit_in_bytes and memory.memsw.limit_in_bytes (v1's swap is
 * memory+swap). As runc: memory unlimited with no swap given makes swap
 * unlimited too; when both change, a growing pair sets memsw first and a
 * shrinking pair the limit first, so the kernel never sees limit > memsw.
 */
function memoryLimitAndSwap(memory: MemoryResources, current: V1Current): FileWrite[] {
  const limit = memory.limit ?? 0;
  let swap = memory.swap ?? 0;
  if (limit === -1 && swap === 0) swap = -1;
  const limitWrite: FileWrite = ['memory.limit_in_bytes', String(limit), 'memory/limit'];
  const swapWrite: FileWrite = ['memory.memsw.limit_in_bytes', String(swap), 'memory/swap'];
  if (limit !== 0 && swap !== 0) {
    if (limit !== -1 && swap !== -1 && swap < limit) {
      throw new OcitsError(`/linux/resources/memory/swap: ${swap} is below the memory limit ${limit}; on cgroup v1 it limits memory+swap`);
    }
    const growing = swap === -1 || current.memoryLimit === undefined || current.memoryLimit < swap;
    return growing ? [swapWrite, limitWrite] : [limitWrite, swapWrite];
  }
  const writes: FileWrite[] = [];
  if (limit !== 0) writes.push(limitWrite);
  if (swap !== 0) writes.push(swapWrite);
  return writes;
}

/** undefined when unset; engines send -1 (or 2^64-1) to mean unset. */
export function checkedSwappiness(value: number | undefined): number | undefined {
  if (value === undefined || value === -1 || value >= 2 ** 64 - 1) return undefined;
  if (!Number.isInteger(value) || value < 0 || value > 100) {
    throw new OcitsError(`/linux/resources/memory/swappiness: ${value} is not in the range 0 to 100`);
  }
  return value;
}

/** pids.max: -1 (any negative) is unlimited; 0 is a real limit (config-linux.md). */
export function pidsMax(limit: number): string {
  return limit < 0 ? 'max' : String(limit);
}

export function nonZero(value: number | undefined): value is number {
  return value !== undefined && value !== 0;
}
