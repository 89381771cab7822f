// The pure half of the systemd cgroup driver: cgroupsPath "slice:prefix:name",
// the GVariant text of org.systemd.property.* annotations, and the unit
// properties linux.resources becomes (runc's translation).
import { parseGVariant } from '../../../src/cgroups/gvariant';
import { planScope } from '../../../src/cgroups/systemd';
import { expandSlice, parseSystemdCgroupsPath, sliceChain } from '../../../src/cgroups/systemd-path';
import {
  accountingProperties,
  annotationProperties,
  cpuQuotaProperties,
  deviceProperties,
  listToBitmask,
  resourceProperties,
} from '../../../src/cgroups/systemd-properties';

const INFINITY = 2n ** 64n - 1n;

describe('systemd cgroupsPath', () => {
  it('reads slice:prefix:name into a scope in its slice', () => {
    expect(parseSystemdCgroupsPath('system.slice:docker:abc', 'x', false)).toEqual({
      slice: 'system.slice',
      slices: ['system.slice'],
      unit: 'docker-abc.scope',
      path: '/system.slice/docker-abc.scope',
    });
    expect(parseSystemdCgroupsPath('kubepods-besteffort-pod123.slice:cri-containerd:abc', 'x', false)).toEqual({
      slice: 'kubepods-besteffort-pod123.slice',
      slices: ['kubepods.slice', 'kubepods-besteffort.slice', 'kubepods-besteffort-pod123.slice'],
      unit: 'cri-containerd-abc.scope',
      path: '/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod123.slice/cri-containerd-abc.scope',
    });
  });

  it('defaults to :ocits:ID in system.slice, or user.slice for a user instance', () => {
    expect(parseSystemdCgroupsPath(undefined, 'c1', false).path).toBe('/system.slice/ocits-c1.scope');
    expect(parseSystemdCgroupsPath('', 'c1', true).path).toBe('/user.slice/ocits-c1.scope');
    expect(parseSystemdCgroupsPath('::c1', 'x', false).unit).toBe('c1.scope');
    expect(parseSystemdCgroupsPath('-.slice:p:c1', 'x', false).path).toBe('/p-c1.scope');
  });

  it('refuses what is not slice:prefix:name, naming the field', () => {
    expect(() => parseSystemdCgroupsPath('/mygroup/c1', 'c1', false)).toThrow(
      '/linux/cgroupsPath: expected "slice:prefix:name" for systemd cgroups (--systemd-cgroup), such as "system.slice:ocits:c1", got "/mygroup/c1"',
    );
    expect(() => parseSystemdCgroupsPath('a:b', 'c1', false)).toThrow('expected "slice:prefix:name"');
    expect(() => parseSystemdCgroupsPath('system.slice:p:', 'c1', false)).toThrow('has an empty name');
    expect(() => parseSystemdCgroupsPath('system.slice:p:c 1', 'c1', false)).toThrow('has " ", which systemd does not allow in unit names');
    expect(() => parseSystemdCgroupsPath('system.slice::my.slice', 'c1', false)).toThrow('names a slice as the container\'s unit');
  });

  it('expands and refuses slice names as runc does', () => {
    expect(expandSlice('a-b-c.slice')).toBe('/a.slice/a-b.slice/a-b-c.slice');
    expect(expandSlice('-.slice')).toBe('/');
    expect(sliceChain('a-b-c.slice')).toEqual(['a.slice', 'a-b.slice', 'a-b-c.slice']);
    expect(sliceChain('-.slice')).toEqual([]);
    for (const bad of ['system', '.slice', 'user.slice/user-1000.slice', 'a--b.slice', '-a.slice', 'a-.slice']) {
      expect(() => expandSlice(bad)).toThrow(`/linux/cgroupsPath: ${JSON.stringify(bad)} is not a valid slice name`);
      expect(() => sliceChain(bad)).toThrow(`/linux/cgroupsPath: ${JSON.stringify(bad)} is not a valid slice name`);
    }
  });
});

describe('the scope plan', () => {
  it("refuses a non-root caller's own systemd on a host that is not pure cgroup v2, before asking systemd", () => {
    const hybrid = { mode: 'hybrid' as const, hierarchies: [] };
    expect(() => planScope(hybrid, { ociVersion: '1.3.0', root: { path: 'rootfs' } }, 'c1', false)).toThrow(
      '--systemd-cgroup: a non-root caller can use its own systemd instance only on a cgroup v2 host',
    );
  });
});

describe('GVariant text', () => {
  it('reads typed and untyped values', () => {
    expect(parseGVariant('uint64 123456789')).toEqual({ signature: 't', value: 123456789n });
    expect(parseGVariant("'inactive-or-failed'")).toEqual({ signature: 's', value: 'inactive-or-failed' });
    expect(parseGVariant('"a\\"b"')).toEqual({ signature: 's', value: 'a"b' });
    expect(parseGVariant('true')).toEqual({ signature: 'b', value: true });
    expect(parseGVariant('42')).toEqual({ signature: 'i', value: 42 });
    expect(parseGVariant('-1.5')).toEqual({ signature: 'd', value: -1.5 });
    expect(parseGVariant('@t 5')).toEqual({ signature: 't', value: 5n });
    expect(parseGVariant("['a', 'b']")).toEqual({ signature: 'as', value: ['a', 'b'] });
    expect(parseGVariant('@as []')).toEqual({ signature: 'as', value: [] });
    expect(parseGVariant("[('/dev/null', 'rw')]")).toEqual({ signature: 'a(ss)', value: [['/dev/null', 'rw']] });
    expect(parseGVariant('[uint32 1, 2]')).toEqual({ signature: 'au', value: [1, 2] });
  });

  it('refuses what it cannot read, saying where', () => {
    expect(() => parseGVariant('uint64')).toThrow('a value is missing at offset 6');
    expect(() => parseGVariant('byte 256')).toThrow('256 is out of the range of type y');
    expect(() => parseGVariant('[]')).toThrow('an empty array needs a type');
    expect(() => parseGVariant("[1, 'a']")).toThrow('a value of type s where i is expected');
    expect(() => parseGVariant('{1: 2}')).toThrow('not supported by ocits');
    expect(() => parseGVariant('bogus')).toThrow('unknown word "bogus"');
    expect(() => parseGVariant("'open")).toThrow('no closing quote');
    expect(() => parseGVariant('1 2')).toThrow('unexpected text after the value');
  });
});

describe('unit properties', () => {
  it('turns org.systemd.property.* annotations into properties, Sec into USec', () => {
    expect(
      annotationProperties({
        'org.systemd.property.TimeoutStopSec': 'uint64 123',
        'org.systemd.property.CollectMode': "'inactive-or-failed'",
        'org.systemd.property.TimeoutStopUSec': 'uint64 5',
        'org.systemd.property.RuntimeMaxSec': '1.5',
        'other.annotation': 'x',
      }),
    ).toEqual([
      ['TimeoutStopUSec', 't', 123000000n],
      ['CollectMode', 's', 'inactive-or-failed'],
      ['TimeoutStopUSec', 't', 5n],
      ['RuntimeMaxUSec', 't', 1500000n],
    ]);
  });

  it('refuses bad annotation names and values as runc does, by name', () => {
    expect(() => annotationProperties({ 'org.systemd.property.Ab': '1' })).toThrow(
      '/annotations/org.systemd.property.Ab: "Ab" is not a systemd property name: too short',
    );
    expect(() => annotationProperties({ 'org.systemd.property.Foo-Bar': '1' })).toThrow(
      '/annotations/org.systemd.property.Foo-Bar: "Foo-Bar" is not a systemd property name: it has a character other than a latin letter',
    );
    expect(() => annotationProperties({ 'org.systemd.property.CollectMode': 'inactive' })).toThrow(
      '/annotations/org.systemd.property.CollectMode: "inactive" is not a GVariant value',
    );
    expect(() => annotationProperties({ 'org.systemd.property.TimeoutStopSec': "'soon'" })).toThrow('takes a number of seconds');
  });

  it('translates v2 resources as runc does', () => {
    const properties = resourceProperties('unified', {
      memory: { limit: 64 << 20, reservation: 16 << 20, swap: 128 << 20 },
      cpu: { shares: 512, quota: 30000, period: 100000, cpus: '0-1', mems: '0' },
      pids: { limit: 40 },
      blockIO: { weight: 500 },
    });
    expect(properties).toEqual([
      ['MemoryMax', 't', 67108864n],
      ['MemoryLow', 't', 16777216n],
      ['MemorySwapMax', 't', 67108864n],
      ['CPUWeight', 't', 20n],
      ['CPUQuotaPeriodUSec', 't', 100000n],
      ['CPUQuotaPerSecUSec', 't', 300000n],
      ['AllowedCPUs', 'ay', [3]],
      ['AllowedMemoryNodes', 'ay', [1]],
      ['TasksMax', 't', 40n],
      ['IOWeight', 't', 4950n],
    ]);
    expect(resourceProperties('unified', { memory: { limit: -1 }, pids: { limit: -1 } })).toEqual([
      ['MemoryMax', 't', INFINITY],
      ['TasksMax', 't', INFINITY],
    ]);
    expect(accountingProperties('unified').map(([name]) => name)).toEqual(['CPUAccounting', 'IOAccounting', 'MemoryAccounting', 'TasksAccounting']);
  });

  it('translates the unified entries systemd has a property for, after the converted ones', () => {
    expect(
      resourceProperties('unified', {
        memory: { limit: 1 << 20 },
        unified: { 'memory.max': 'max', 'memory.high': '1000', 'cpu.max': '50000 200000', 'pids.max': '7', 'cpu.idle': '1', 'io.max': '8:0 rbps=1' },
      }),
    ).toEqual([
      ['MemoryMax', 't', 1048576n],
      ['MemoryMax', 't', INFINITY],
      ['MemoryHigh', 't', 1000n],
      ['CPUQuotaPeriodUSec', 't', 200000n],
      ['CPUQuotaPerSecUSec', 't', 250000n],
      ['TasksMax', 't', 7n],
      ['CPUWeight', 't', 0n],
    ]);
    expect(() => resourceProperties('unified', { unified: { 'memory.high': '1G' } })).toThrow(
      '/linux/resources/unified/memory.high: "1G" is not a number or "max", which systemd\'s property for it needs',
    );
  });

  it('translates v1 resources to the v1 properties', () => {
    expect(resourceProperties('hybrid', { memory: { limit: 1 << 20 }, cpu: { shares: 512 }, blockIO: { weight: 300 } })).toEqual([
      ['MemoryLimit', 't', 1048576n],
      ['CPUShares', 't', 512n],
      ['BlockIOWeight', 't', 300n],
    ]);
    expect(accountingProperties('hybrid')[1][0]).toBe('BlockIOAccounting');
  });

  it('rounds the CPU quota per second up to whole percent', () => {
    expect(cpuQuotaProperties(12345, 100000)).toEqual([
      ['CPUQuotaPeriodUSec', 't', 100000n],
      ['CPUQuotaPerSecUSec', 't', 130000n],
    ]);
    expect(cpuQuotaProperties(-1, undefined)).toEqual([['CPUQuotaPerSecUSec', 't', INFINITY]]);
    expect(cpuQuotaProperties(undefined, undefined)).toEqual([]);
  });

  it('makes CPU lists bitmasks, CPU 0 in the low bit of the first byte', () => {
    expect(listToBitmask('0-2,9', '/p')).toEqual([7, 2]);
    expect(() => listToBitmask('2-1', '/p')).toThrow('/p: "2-1" is not a range');
  });

  it('lists the allowed devices for a strict policy', () => {
    const procDevices = new Map([['c 136', 'pts']]);
    expect(deviceProperties([{ allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }], procDevices)).toEqual([
      ['DevicePolicy', 's', 'strict'],
      [
        'DeviceAllow',
        'a(ss)',
        [
          ['/dev/char/10:229', 'rw'],
          ['char-*', 'm'],
          ['block-*', 'm'],
          ['/dev/char/1:3', 'rwm'],
          ['/dev/char/1:8', 'rwm'],
          ['/dev/char/1:7', 'rwm'],
          ['/dev/char/5:0', 'rwm'],
          ['/dev/char/1:5', 'rwm'],
          ['/dev/char/1:9', 'rwm'],
          ['char-pts', 'rwm'],
          ['/dev/char/5:2', 'rwm'],
          ['/dev/char/10:200', 'rwm'],
        ],
      ],
    ]);
    expect(deviceProperties([{ allow: true, access: 'rwm' }], procDevices)).toEqual([
      ['DevicePolicy', 's', 'auto'],
      ['DeviceAllow', 'a(ss)', []],
    ]);
  });
});
