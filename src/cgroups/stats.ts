// The container's resource usage read from its cgroup, in the layout of
// runc 1.1's `events` stats (runc/types/events.go), which engines decode.
// Zero numbers are left out where runc's Go struct says omitempty. Counters
// can exceed 2^53 (an unlimited v1 limit is 2^63 - 4096, v2's "max" is
// 2^64 - 1), so they are bigints when they do; formatEvent prints them exactly.
import * as fs from 'node:fs';
import { readCgroupFile } from './files';
import { checkedPageSize } from './resource-values';
import type { CgroupDir, ContainerCgroup } from './paths';
import { usesV2 } from './resources';

export type Count = number | bigint;

const MAX_UINT64 = 2n ** 64n - 1n;
/** USER_HZ: cpuacct.stat counts in these ticks; it is 100 on every Linux ABI runc supports. */
const NANOSECONDS_PER_TICK = 10_000_000;

export interface CpuStats {
  usage: { total?: Count; percpu?: Count[]; percpu_kernel?: Count[]; percpu_user?: Count[]; kernel: Count; user: Count };
  throttling: { periods?: Count; throttledPeriods?: Count; throttledTime?: Count };
}

export interface MemoryEntry {
  limit: Count;
  usage?: Count;
  max?: Count;
  failcnt: Count;
}

export interface MemoryStats {
  cache?: Count;
  usage: MemoryEntry;
  swap: MemoryEntry;
  kernel: MemoryEntry;
  kernelTCP: MemoryEntry;
  raw?: Record<string, Count>;
}

export interface BlkioEntry {
  major?: Count;
  minor?: Count;
  op?: string;
  value?: Count;
}

export interface Stats {
  cpu: CpuStats;
  cpuset: Record<string, unknown>;
  memory: MemoryStats;
  pids: { current?: Count; limit?: Count };
  blkio: { ioServiceBytesRecursive?: BlkioEntry[]; ioServicedRecursive?: BlkioEntry[] };
  hugetlb: Record<string, { usage?: Count; max?: Count; failcnt: Count }>;
  intel_rdt: Record<string, never>;
  network_interfaces: null;
}

export function readStats(cgroup: ContainerCgroup): Stats {
  const v2 = usesV2(cgroup);
  const dirOf = (controller: string): string | undefined => {
    const entry: CgroupDir | undefined = v2
      ? cgroup.dirs.find((d) => d.fstype === 'cgroup2')
      : cgroup.dirs.find((d) => d.fstype === 'cgroup' && d.controllers.includes(controller));
    return entry?.dir;
  };
  return {
    cpu: v2 ? cpuV2(dirOf('cpu')) : cpuV1(dirOf('cpuacct'), dirOf('cpu')),
    cpuset: v2 ? {} : cpusetV1(dirOf('cpuset')),
    memory: v2 ? memoryV2(dirOf('memory')) : memoryV1(dirOf('memory')),
    pids: pids(dirOf('pids')),
    blkio: v2 ? blkioV2(dirOf('io')) : blkioV1(dirOf('blkio')),
    hugetlb: hugetlb(dirOf('hugetlb'), v2),
    intel_rdt: {},
    network_interfaces: null,
  };
}

/** A counter: a number when exact, else a bigint; "max" is 2^64 - 1 as in runc. */
export function count(text: string | undefined): Count {
  const value = (text ?? '').trim();
  if (value === 'max') return MAX_UINT64;
  if (!/^-?\d+$/.test(value)) return 0;
  const big = BigInt(value);
  return big <= BigInt(Number.MAX_SAFE_INTEGER) && big >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

function file(dir: string | undefined, name: string): string | undefined {
  return dir === undefined ? undefined : readCgroupFile(dir, name);
}

/** "key value" lines (memory.stat, cpu.stat ...) as a map of counters. */
export function flatKeyed(text: string | undefined): Record<string, Count> {
  const result: Record<string, Count> = {};
  for (const line of (text ?? '').split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key !== undefined && key !== '' && value !== undefined) result[key] = count(value);
  }
  return result;
}

const nonZero = (value: Count | undefined): boolean => value !== undefined && value !== 0 && value !== 0n;

/** The object without the zero numbers and empty lists its omitempty fields would drop. */
function omitEmpty<T extends object>(object: T, keep: readonly string[] = []): T {
  const entries = Object.entries(object).filter(([key, value]) => {
    if (keep.includes(key)) return true;
    if (Array.isArray(value)) return value.length > 0;
    if (typeof value === 'number' || typeof value === 'bigint') return nonZero(value);
    return value !== undefined;
  });
  return Object.fromEntries(entries) as T;
}

function numbers(text: string | undefined): Count[] {
  return (text ?? '').trim().split(/\s+/).filter(Boolean).map(count);
}

function cpuV1(cpuacct: string | undefined, cpu: string | undefined): CpuStats {
  const ticks = flatKeyed(file(cpuacct, 'cpuacct.stat'));
  const throttle = flatKeyed(file(cpu, 'cpu.stat'));
  return {
    usage: omitEmpty(
      {
        total: count(file(cpuacct, 'cpuacct.usage')),
        percpu: numbers(file(cpuacct, 'cpuacct.usage_percpu')),
        percpu_kernel: numbers(file(cpuacct, 'cpuacct.usage_percpu_sys')),
        percpu_user: numbers(file(cpuacct, 'cpuacct.usage_percpu_user')),
        kernel: Number(ticks.system ?? 0) * NANOSECONDS_PER_TICK,
        user: Number(ticks.user ?? 0) * NANOSECONDS_PER_TICK,
      },
      ['kernel', 'user'],
    ),
    throttling: omitEmpty({ periods: throttle.nr_periods, throttledPeriods: throttle.nr_throttled, throttledTime: throttle.throttled_time }),
  };
}

function cpuV2(dir: string | undefined): CpuStats {
  const stat = flatKeyed(file(dir, 'cpu.stat'));
  const nanoseconds = (usec: Count | undefined): number => Number(usec ?? 0) * 1000;
  return {
    usage: omitEmpty(
      { total: nanoseconds(stat.usage_usec), kernel: nanoseconds(stat.system_usec), user: nanoseconds(stat.user_usec) },
      ['kernel', 'user'],
    ),
    throttling: omitEmpty({
      periods: stat.nr_periods,
      throttledPeriods: stat.nr_throttled,
      throttledTime: nanoseconds(stat.throttled_usec),
    }),
  };
}

/** "0-2,4" → [0, 1, 2, 4]. */
export function cpuList(text: string | undefined): number[] {
  const result: number[] = [];
  for (const part of (text ?? '').trim().split(',').filter(Boolean)) {
    const [from, to] = part.split('-').map(Number);
    for (let n = from; n <= (to ?? from); n++) result.push(n);
  }
  return result;
}

function cpusetV1(dir: string | undefined): Record<string, unknown> {
  const value = (name: string): Count => count(file(dir, `cpuset.${name}`));
  return omitEmpty(
    {
      cpus: cpuList(file(dir, 'cpuset.cpus')),
      cpu_exclusive: value('cpu_exclusive'),
      mems: cpuList(file(dir, 'cpuset.mems')),
      mem_hardwall: value('mem_hardwall'),
      mem_exclusive: value('mem_exclusive'),
      memory_migrate: value('memory_migrate'),
      memory_spread_page: value('memory_spread_page'),
      memory_spread_slab: value('memory_spread_slab'),
      memory_pressure: value('memory_pressure'),
      sched_load_balance: value('sched_load_balance'),
      sched_relax_domain_level: value('sched_relax_domain_level'),
    },
    ['cpu_exclusive', 'mem_hardwall', 'mem_exclusive', 'memory_migrate', 'memory_spread_page', 'memory_spread_slab',
      'memory_pressure', 'sched_load_balance', 'sched_relax_domain_level'],
  );
}

function memoryEntry(dir: string | undefined, prefix: string): MemoryEntry {
  return omitEmpty(
    {
      limit: count(file(dir, `${prefix}.limit_in_bytes`)),
      usage: count(file(dir, `${prefix}.usage_in_bytes`)),
      max: count(file(dir, `${prefix}.max_usage_in_bytes`)),
      failcnt: count(file(dir, `${prefix}.failcnt`)),
    },
    ['limit', 'failcnt'],
  );
}

function memoryV1(dir: string | undefined): MemoryStats {
  const raw = flatKeyed(file(dir, 'memory.stat'));
  return omitEmpty({
    cache: raw.cache,
    usage: memoryEntry(dir, 'memory'),
    swap: memoryEntry(dir, 'memory.memsw'),
    kernel: memoryEntry(dir, 'memory.kmem'),
    kernelTCP: memoryEntry(dir, 'memory.kmem.tcp'),
    raw: sortedOrUndefined(raw),
  });
}

function memoryV2(dir: string | undefined): MemoryStats {
  const raw = flatKeyed(file(dir, 'memory.stat'));
  const events = flatKeyed(file(dir, 'memory.events'));
  const usage = count(file(dir, 'memory.current'));
  const swapUsage = count(file(dir, 'memory.swap.current'));
  // As runc on v2: "swap" is memory+swap, to match what v1 reports.
  const swapLimit = count(file(dir, 'memory.swap.max'));
  const limit = count(file(dir, 'memory.max'));
  const sumOrMax = (a: Count, b: Count): Count => {
    const total = BigInt(a) + BigInt(b);
    return total >= MAX_UINT64 ? MAX_UINT64 : count(String(total));
  };
  return omitEmpty({
    cache: raw.file,
    usage: omitEmpty({ limit, usage, max: count(file(dir, 'memory.peak')), failcnt: events.max ?? 0 }, ['limit', 'failcnt']),
    swap: omitEmpty({ limit: sumOrMax(limit, swapLimit), usage: sumOrMax(usage, swapUsage), failcnt: events.max ?? 0 }, ['limit', 'failcnt']),
    kernel: { limit: 0, failcnt: 0 },
    kernelTCP: { limit: 0, failcnt: 0 },
    raw: sortedOrUndefined(raw),
  });
}

/** Go prints a map's keys sorted; undefined (omitted) when empty. */
function sortedOrUndefined(map: Record<string, Count>): Record<string, Count> | undefined {
  const keys = Object.keys(map).sort();
  return keys.length > 0 ? Object.fromEntries(keys.map((key) => [key, map[key]])) : undefined;
}

function pids(dir: string | undefined): Stats['pids'] {
  return omitEmpty({ current: count(file(dir, 'pids.current')), limit: count(file(dir, 'pids.max')) });
}

/** "MAJ:MIN Op Value" lines (v1); the summary "Total N" line has no device and is skipped. */
function blkioEntries(text: string | undefined): BlkioEntry[] {
  const entries: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const [device, op, value] = line.trim().split(/\s+/);
    const match = /^(\d+):(\d+)$/.exec(device ?? '');
    if (match === null || op === undefined) continue;
    entries.push(omitEmpty({ major: count(match[1]), minor: count(match[2]), op, value: count(value) }));
  }
  return entries;
}

function blkioV1(dir: string | undefined): Stats['blkio'] {
  // runc's order of preference: the CFQ files, then BFQ's, then the throttle layer's.
  for (const prefix of ['blkio.', 'blkio.bfq.', 'blkio.throttle.']) {
    const bytes = file(dir, `${prefix}io_service_bytes_recursive`);
    if (bytes === undefined) continue;
    return omitEmpty({
      ioServiceBytesRecursive: blkioEntries(bytes),
      ioServicedRecursive: blkioEntries(file(dir, `${prefix}io_serviced_recursive`)),
    });
  }
  return {};
}

function blkioV2(dir: string | undefined): Stats['blkio'] {
  const bytes: BlkioEntry[] = [];
  const ios: BlkioEntry[] = [];
  for (const line of (file(dir, 'io.stat') ?? '').split('\n')) {
    const [device, ...pairs] = line.trim().split(/\s+/);
    const match = /^(\d+):(\d+)$/.exec(device ?? '');
    if (match === null) continue;
    const values = Object.fromEntries(pairs.map((pair) => pair.split('=')));
    const entry = (op: string, value: string | undefined): BlkioEntry =>
      omitEmpty({ major: count(match[1]), minor: count(match[2]), op, value: count(value) });
    bytes.push(entry('Read', values.rbytes), entry('Write', values.wbytes));
    ios.push(entry('Read', values.rios), entry('Write', values.wios));
  }
  return omitEmpty({ ioServiceBytesRecursive: bytes, ioServicedRecursive: ios });
}

/** The host's huge page sizes as the kernel names them in hugetlb files: 2MB, 1GB. */
function hugePageSizes(): string[] {
  let names: string[];
  try {
    names = fs.readdirSync('/sys/kernel/mm/hugepages');
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const match = /^hugepages-(\d+)kB$/.exec(name);
    return match === null ? [] : [checkedPageSize(`${match[1]}KB`, '/sys/kernel/mm/hugepages')];
  });
}

function hugetlb(dir: string | undefined, v2: boolean): Stats['hugetlb'] {
  const result: Stats['hugetlb'] = {};
  if (dir === undefined) return result;
  for (const size of hugePageSizes()) {
    const prefix = `hugetlb.${size}`;
    if (v2) {
      if (file(dir, `${prefix}.current`) === undefined) continue;
      result[size] = omitEmpty(
        { usage: count(file(dir, `${prefix}.current`)), failcnt: flatKeyed(file(dir, `${prefix}.events`)).max ?? 0 },
        ['failcnt'],
      );
    } else {
      if (file(dir, `${prefix}.usage_in_bytes`) === undefined) continue;
      result[size] = omitEmpty(
        {
          usage: count(file(dir, `${prefix}.usage_in_bytes`)),
          max: count(file(dir, `${prefix}.max_usage_in_bytes`)),
          failcnt: count(file(dir, `${prefix}.failcnt`)),
        },
        ['failcnt'],
      );
    }
  }
  return result;
}

/**
 * How many times the kernel has hit the memory limit with the OOM killer:
 * oom_kill in memory.oom_control (v1) or oom_kill in memory.events (v2).
 * A rise between two readings is an "oom" event. Undefined without a memory cgroup.
 */
export function oomKillCount(cgroup: ContainerCgroup): number | undefined {
  if (usesV2(cgroup)) {
    const dir = cgroup.dirs.find((d) => d.fstype === 'cgroup2')?.dir;
    const events = file(dir, 'memory.events');
    return events === undefined ? undefined : Number(flatKeyed(events).oom_kill ?? 0);
  }
  const dir = cgroup.dirs.find((d) => d.fstype === 'cgroup' && d.controllers.includes('memory'))?.dir;
  const control = file(dir, 'memory.oom_control');
  return control === undefined ? undefined : Number(flatKeyed(control).oom_kill ?? 0);
}
