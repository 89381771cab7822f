// The pure half of linux.resources: which file gets which value on cgroup
// v1 and v2, the v1 → v2 conversions, and what each version refuses.
import { checkedPageSize } from '../../../src/cgroups/resource-values';
import { v1ResourceWrites } from '../../../src/cgroups/resources-v1';
import { blkioWeightToIoWeight, cpuMax, cpuSharesToWeight, swapMax, v2ResourceWrites } from '../../../src/cgroups/resources-v2';
import type { LinuxResources } from '../../../src/spec/types';

const files = (writes: Array<{ file: string; value: string }>): string[] => writes.map((w) => `${w.file}=${w.value}`);

describe('cgroup v1 resource writes', () => {
  it('maps every resource to its controller file', () => {
    const resources: LinuxResources = {
      memory: { limit: 100 << 20, reservation: 50 << 20, swappiness: 10, disableOOMKiller: true, useHierarchy: true },
      cpu: { shares: 512, quota: 50000, period: 100000, burst: 1000, realtimePeriod: 1000000, realtimeRuntime: 0, idle: 0, cpus: '0-1', mems: '0' },
      pids: { limit: 0 },
      blockIO: {
        weight: 500,
        leafWeight: 300,
        weightDevice: [{ major: 8, minor: 0, weight: 200, leafWeight: 100 }],
        throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1024 }],
        throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 10 }],
      },
      hugepageLimits: [{ pageSize: '2048KB', limit: 4 << 20 }],
      network: { classID: 0x100001, priorities: [{ name: 'eth0', priority: 5 }] },
      rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 } },
    };
    const writes = v1ResourceWrites(resources);
    expect(files(writes)).toEqual([
      'memory.limit_in_bytes=104857600',
      'memory.soft_limit_in_bytes=52428800',
      'memory.swappiness=10',
      'memory.oom_control=1',
      'memory.use_hierarchy=1',
      'cpu.shares=512',
      'cpu.cfs_period_us=100000',
      'cpu.cfs_quota_us=50000',
      'cpu.cfs_burst_us=1000',
      'cpu.rt_period_us=1000000',
      'cpu.idle=0',
      'cpuset.cpus=0-1',
      'cpuset.mems=0',
      'pids.max=0',
      'blkio.weight=500',
      'blkio.leaf_weight=300',
      'blkio.weight_device=8:0 200',
      'blkio.leaf_weight_device=8:0 100',
      'blkio.throttle.read_bps_device=8:0 1024',
      'blkio.throttle.write_iops_device=8:16 10',
      'hugetlb.2MB.limit_in_bytes=4194304',
      'net_cls.classid=1048577',
      'net_prio.ifpriomap=eth0 5',
      'rdma.max=mlx5_1 hca_handle=3 hca_object=10000',
    ]);
    expect(writes.find((w) => w.file === 'cpu.shares')).toMatchObject({ controller: 'cpu', readBack: true, pointer: '/linux/resources/cpu/shares' });
    expect(writes.find((w) => w.file === 'cpuset.cpus')?.controller).toBe('cpuset');
  });

  it('puts the weights in the BFQ scheduler\'s files where the host has only those', () => {
    const blockIO = { weight: 500, weightDevice: [{ major: 8, minor: 0, weight: 200, leafWeight: 100 }] };
    expect(files(v1ResourceWrites({ blockIO }, { blkioBfqWeights: true }))).toEqual([
      'blkio.bfq.weight=500',
      'blkio.bfq.weight_device=8:0 200',
      'blkio.leaf_weight_device=8:0 100',
    ]);
  });

  it('orders memory and memory+swap so the limit never exceeds memory+swap', () => {
    const both = { memory: { limit: 100, swap: 200 } };
    // Growing from 50: memsw first.
    expect(files(v1ResourceWrites(both, { memoryLimit: 50 }))).toEqual(['memory.memsw.limit_in_bytes=200', 'memory.limit_in_bytes=100']);
    // Shrinking from unlimited: the limit first.
    expect(files(v1ResourceWrites(both, { memoryLimit: 2 ** 62 }))).toEqual(['memory.limit_in_bytes=100', 'memory.memsw.limit_in_bytes=200']);
    // Unlimited memory with no swap given: swap unlimited too (runc).
    expect(files(v1ResourceWrites({ memory: { limit: -1 } }))).toEqual(['memory.memsw.limit_in_bytes=-1', 'memory.limit_in_bytes=-1']);
    expect(() => v1ResourceWrites({ memory: { limit: 200, swap: 100 } })).toThrow(
      '/linux/resources/memory/swap: 100 is below the memory limit 200; on cgroup v1 it limits memory+swap',
    );
  });

  it('treats 0 as unset for the numbers runc treats so, and -1 as unlimited pids', () => {
    expect(v1ResourceWrites({ memory: { limit: 0, reservation: 0 }, cpu: { shares: 0, quota: 0, period: 0 } })).toEqual([]);
    expect(files(v1ResourceWrites({ pids: { limit: -1 } }))).toEqual(['pids.max=max']);
    expect(files(v1ResourceWrites({ memory: { swappiness: -1 } }))).toEqual([]);
  });

  it('refuses what v1 cannot take', () => {
    expect(() => v1ResourceWrites({ unified: { 'memory.high': '1' } })).toThrow(/^\/linux\/resources\/unified: cgroup v2 files cannot be set/);
    expect(() => v1ResourceWrites({ memory: { swappiness: 101 } })).toThrow('/linux/resources/memory/swappiness: 101 is not in the range 0 to 100');
    expect(() => v1ResourceWrites({ hugepageLimits: [{ pageSize: '2M', limit: 1 }] })).toThrow(
      '/linux/resources/hugepageLimits/0/pageSize: "2M" is not a page size such as "2MB" or "1GB"',
    );
  });
});

describe('cgroup v2 resource writes', () => {
  it('converts and maps every resource v2 has', () => {
    const resources: LinuxResources = {
      memory: { limit: 100 << 20, swap: 300 << 20, reservation: -1, useHierarchy: true },
      cpu: { shares: 1024, quota: 50000, period: 100000, burst: 0, idle: 1, cpus: '1', mems: '0' },
      pids: { limit: 20 },
      blockIO: {
        weight: 1000,
        weightDevice: [{ major: 8, minor: 0, weight: 10 }],
        throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1024 }],
        throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 0 }],
      },
      hugepageLimits: [{ pageSize: '1GB', limit: 0 }],
      rdma: { mlx4_0: { hcaObjects: 7 } },
      unified: { 'memory.high': '90000000', 'cgroup.max.depth': '3' },
    };
    const writes = v2ResourceWrites(resources);
    expect(files(writes)).toEqual([
      'memory.swap.max=209715200',
      'memory.max=104857600',
      'memory.low=max',
      'cpu.weight=39',
      'cpu.max=50000 100000',
      'cpu.max.burst=0',
      'cpu.idle=1',
      'cpuset.cpus=1',
      'cpuset.mems=0',
      'pids.max=20',
      'io.weight=default 10000',
      'io.weight=8:0 1',
      'io.max=8:0 rbps=1024',
      'io.max=8:0 wbps=max',
      'hugetlb.1GB.max=0',
      'rdma.max=mlx4_0 hca_object=7',
      'memory.high=90000000',
      'cgroup.max.depth=3',
    ]);
    expect(writes.map((w) => w.controller)).toEqual([
      'memory', 'memory', 'memory', 'cpu', 'cpu', 'cpu', 'cpu', 'cpuset', 'cpuset', 'pids', 'io', 'io', 'io', 'io', 'hugetlb', 'rdma', 'memory', 'cgroup',
    ]);
  });

  it('follows runc for the conversions', () => {
    expect([2, 1024, 262144].map(cpuSharesToWeight)).toEqual([1, 39, 10000]);
    expect([10, 500, 1000].map(blkioWeightToIoWeight)).toEqual([1, 4950, 10000]);
    expect(cpuMax(undefined, undefined)).toBeUndefined();
    expect(cpuMax(-1, 100000)).toBe('max 100000');
    expect(cpuMax(20000, undefined)).toBe('20000');
    expect(cpuMax(undefined, 50000)).toBe('max 50000');
    expect(swapMax({ limit: 100, swap: 100 })).toBe('0');
    expect(swapMax({ limit: 100, swap: -1 })).toBe('max');
    expect(swapMax({ limit: 100 })).toBeUndefined();
    expect(() => swapMax({ swap: 100 })).toThrow(/a memory\+swap limit needs a memory limit/);
    expect(() => swapMax({ limit: 200, swap: 100 })).toThrow(/100 is below the memory limit 200/);
  });

  it.each([
    [{ memory: { kernel: 1 } }, '/linux/resources/memory/kernel: cgroup v2 has no kernel memory limit'],
    [{ memory: { swappiness: 0 } }, '/linux/resources/memory/swappiness: cgroup v2 has no per-cgroup swappiness'],
    [{ memory: { disableOOMKiller: true } }, '/linux/resources/memory/disableOOMKiller: cgroup v2 cannot disable the OOM killer'],
    [{ memory: { useHierarchy: false } }, '/linux/resources/memory/useHierarchy: cgroup v2 is always hierarchical'],
    [{ cpu: { realtimeRuntime: 1000 } }, '/linux/resources/cpu/realtimeRuntime: cgroup v2 has no realtime CPU limits'],
    [{ blockIO: { leafWeight: 100 } }, '/linux/resources/blockIO/leafWeight: cgroup v2 has no leaf weight'],
    [{ network: { classID: 1 } }, '/linux/resources/network/classID: cgroup v2 has no net_cls controller'],
    [{ network: { priorities: [{ name: 'lo', priority: 1 }] } }, '/linux/resources/network/priorities: cgroup v2 has no net_prio controller'],
    [{ unified: { '../x': '1' } }, '/linux/resources/unified/..~1x: "../x" is not a cgroup file name such as "memory.high"'],
  ] as Array<[LinuxResources, string]>)('refuses %j', (resources, message) => {
    expect(() => v2ResourceWrites(resources)).toThrow(message);
  });

  it('names huge page sizes as the kernel does', () => {
    expect(['2MB', '2048KB', '1GB', '1048576KB', '64KB'].map((s) => checkedPageSize(s, 'x'))).toEqual(['2MB', '2MB', '1GB', '1GB', '64KB']);
  });
});
