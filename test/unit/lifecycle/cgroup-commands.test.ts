// The pure parts of update, ps and events: runc's flag syntax, the PID
// column filter, Go durations, and exact JSON for 64-bit counters.
import { count, cpuList, flatKeyed } from '../../../src/cgroups/stats';
import { formatEvent, parseDuration } from '../../../src/lifecycle/events';
import { filterPsOutput, formatPidsJson } from '../../../src/lifecycle/ps';
import { resourcesFromFlags, size } from '../../../src/lifecycle/update';

describe('update flags', () => {
  it('reads sizes as runc (go-units RAMInBytes, binary units) and -1 as unlimited', () => {
    expect(size('memory', '1024')).toBe(1024);
    expect(size('memory', '512m')).toBe(512 << 20);
    expect(size('memory', '1g')).toBe(1 << 30);
    expect(size('memory', '1.5GiB')).toBe(1.5 * (1 << 30));
    expect(size('memory', '2 kb')).toBe(2048);
    expect(size('memory-swap', '-1')).toBe(-1);
    expect(() => size('memory', 'bogus')).toThrow("invalid value for memory: invalid size: 'bogus'");
    expect(() => size('memory', '-2')).toThrow("invalid value for memory: invalid size: '-2'");
  });

  it('builds LinuxResources from only the flags given', () => {
    expect(resourcesFromFlags({})).toEqual({});
    expect(
      resourcesFromFlags({
        memory: '1g', memorySwap: '-1', memoryReservation: '256m', cpuShare: '512', cpuQuota: '-1', cpuPeriod: '100000',
        cpuBurst: '10', cpuRtPeriod: '1000000', cpuRtRuntime: '950000', cpusetCpus: '0-1', cpusetMems: '0', pidsLimit: '-1', blkioWeight: '300',
      }),
    ).toEqual({
      memory: { limit: 1 << 30, reservation: 256 << 20, swap: -1 },
      cpu: { shares: 512, quota: -1, period: 100000, burst: 10, realtimePeriod: 1000000, realtimeRuntime: 950000, cpus: '0-1', mems: '0' },
      pids: { limit: -1 },
      blockIO: { weight: 300 },
    });
    expect(() => resourcesFromFlags({ cpuPeriod: '-5' })).toThrow('invalid value for cpu-period: "-5" is not a non-negative integer');
    expect(() => resourcesFromFlags({ l3CacheSchema: 'L3:0=f' })).toThrow(/Intel RDT is not supported/);
  });
});

describe('ps', () => {
  const output = [
    'UID          PID    PPID  C STIME TTY          TIME CMD',
    'root           1       0  0 05:11 ?        00:00:01 /sbin/init',
    'root         412       1  0 05:11 ?        00:00:00 sleep 1000',
    'root         413     412  0 05:11 ?        00:00:00 sh -c a b c',
    '',
  ].join('\n');

  it('keeps the header and the lines whose PID column is the container\'s', () => {
    expect(filterPsOutput(output, [413, 412])).toBe(`${output.split('\n')[0]}\n${output.split('\n')[2]}\n${output.split('\n')[3]}\n`);
    expect(filterPsOutput(output, [])).toBe(`${output.split('\n')[0]}\n`);
  });

  it('needs a PID column', () => {
    expect(() => filterPsOutput('COMMAND\nsleep\n', [1])).toThrow("couldn't find PID field in ps output");
  });

  it('prints JSON pids, null for none as runc', () => {
    expect(formatPidsJson([3, 5])).toBe('[3,5]\n');
    expect(formatPidsJson([])).toBe('null\n');
  });
});

describe('events', () => {
  it('parses Go durations', () => {
    expect(parseDuration('5s')).toBe(5000);
    expect(parseDuration('100ms')).toBe(100);
    expect(parseDuration('1m30s')).toBe(90000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(() => parseDuration('5')).toThrow('--interval: invalid duration "5"');
    expect(() => parseDuration('0s')).toThrow('duration interval must be greater than 0');
  });

  it('prints 64-bit counters exactly', () => {
    const limit = count('9223372036854771712');
    expect(typeof limit).toBe('bigint');
    expect(count('max')).toBe(2n ** 64n - 1n);
    expect(count('4096')).toBe(4096);
    expect(formatEvent({ type: 'stats', id: 'x', data: { limit, max: count('max'), n: 1 } })).toBe(
      '{"type":"stats","id":"x","data":{"limit":9223372036854771712,"max":18446744073709551615,"n":1}}\n',
    );
    expect(formatEvent({ type: 'oom', id: 'x' })).toBe('{"type":"oom","id":"x"}\n');
  });

  it('reads flat keyed files and cpu lists', () => {
    expect(flatKeyed('oom_kill_disable 0\nunder_oom 0\noom_kill 3\n')).toEqual({ oom_kill_disable: 0, under_oom: 0, oom_kill: 3 });
    expect(cpuList('0-2,4\n')).toEqual([0, 1, 2, 4]);
    expect(cpuList('')).toEqual([]);
  });
});
