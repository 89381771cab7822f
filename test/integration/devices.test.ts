// Device rules: the effective list (deny all, the config's rules, runc's
// defaults), its v1 kernel reading, and the cgroup v2 eBPF program built
// from it. The program is run here by a small interpreter of the opcodes it
// uses, against the v1 kernel's checks; the addon then loads it for real on
// this host's cgroup2 hierarchy.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addon } from '../../src/addon';
import {
  ACCESS_ALL, ACCESS_MKNOD, ACCESS_READ, ACCESS_WRITE, DEFAULT_DEVICE_RULES,
  type DevicePolicy, deviceRuleLine, devicePolicy, effectiveDeviceRules,
} from '../../src/cgroups/device-rules';
import {
  BPF_ALU32_AND_K, BPF_ALU32_MOV_K, BPF_ALU32_MOV_X, BPF_ALU32_RSH_K, BPF_JMP32_JEQ_K, BPF_JMP32_JNE_K,
  BPF_JMP32_JNE_X, BPF_JMP_EXIT, BPF_LDX_MEM_W, DEVICE_FILTER_LICENSE, attachDeviceFilter, deviceFilterProgram,
  encodeProgram,
} from '../../src/cgroups/devices-v2';
import { detectCgroupHost } from '../../src/cgroups/host';
import type { DeviceRule } from '../../src/spec/types';
import { removeTestCgroups, runJoined, testCgroupName } from '../helpers/cgroups';

const deny = (rule: Omit<DeviceRule, 'allow'>): DeviceRule => ({ allow: false, ...rule });
const allow = (rule: Omit<DeviceRule, 'allow'>): DeviceRule => ({ allow: true, ...rule });
const policyOf = (rules: DeviceRule[]): DevicePolicy => devicePolicy(effectiveDeviceRules(rules).slice(0, rules.length + 1));

describe('the effective device rules', () => {
  it('start from deny all and end with runc\'s defaults', () => {
    const rules = effectiveDeviceRules([allow({ type: 'c', major: 10, minor: 229, access: 'rw' })]);
    expect(rules.map((rule) => `${rule.allow ? 'allow' : 'deny'} ${deviceRuleLine(rule)}`)).toEqual([
      'deny a *:* rwm',
      'allow c 10:229 rw',
      // runc 1.1.5 leaves exactly these in devices.list for its default config.
      'allow c *:* m', 'allow b *:* m', 'allow c 1:3 rwm', 'allow c 1:8 rwm', 'allow c 1:7 rwm', 'allow c 5:0 rwm',
      'allow c 1:5 rwm', 'allow c 1:9 rwm', 'allow c 136:* rwm', 'allow c 5:2 rwm', 'allow c 10:200 rwm',
    ]);
    expect(DEFAULT_DEVICE_RULES).toHaveLength(11);
  });

  it.each([
    [deny({ access: 'rwm' }), 'a *:* rwm'],
    [allow({ type: 'a', major: 1, access: 'r' }), 'a *:* rwm'],
    [allow({ type: 'c', major: 10, minor: 229, access: 'mwr' }), 'c 10:229 rwm'],
    [deny({ type: 'b', major: 8, minor: -1, access: 'w' }), 'b 8:* w'],
    [allow({ type: 'c', access: 'm' }), 'c *:* m'],
  ])('%j is written to v1 as %j', (rule, line) => {
    expect(deviceRuleLine(effectiveDeviceRules([rule])[1])).toBe(line);
  });

  it.each([
    [allow({ type: 'c' }), '/linux/resources/devices/0/access: "" must be a non-empty combination of r, w and m'],
    [allow({ type: 'c', access: 'rx' }), '/linux/resources/devices/0/access: "rx" must be'],
    [allow({ type: 'c', major: -2, access: 'r' }), '/linux/resources/devices/0/major: -2 is not a device number'],
    [allow({ type: 'c', minor: 2 ** 32, access: 'r' }), '/linux/resources/devices/0/minor: 4294967296 is not a device number'],
    [allow({ type: 'p' as 'c', access: 'r' }), '/linux/resources/devices/0/type: "p" is not one of'],
  ])('refuses %j', (rule, message) => {
    expect(() => effectiveDeviceRules([rule])).toThrow(message);
  });
});

describe('the v1 kernel\'s reading of a rule list', () => {
  it('keeps exceptions to the default, merged by type and numbers', () => {
    expect(policyOf([allow({ type: 'c', major: 1, minor: 3, access: 'r' }), allow({ type: 'c', major: 1, minor: 3, access: 'w' })]))
      .toEqual({ defaultAllow: false, exceptions: [{ type: 'c', major: 1, minor: 3, access: ACCESS_READ | ACCESS_WRITE }] });
  });

  it('lets a rule that agrees with the default take access from the exact same exception only', () => {
    const policy = policyOf([
      allow({ type: 'c', major: 1, minor: 3, access: 'rwm' }),
      allow({ type: 'c', major: 1, access: 'rw' }),
      deny({ type: 'c', major: 1, minor: 3, access: 'w' }),
      deny({ type: 'c', major: 1, minor: 5, access: 'rwm' }), // nothing to take from
      deny({ type: 'c', major: 1, access: 'rw' }), // removes the whole c 1:* exception
    ]);
    expect(policy).toEqual({ defaultAllow: false, exceptions: [{ type: 'c', major: 1, minor: 3, access: ACCESS_READ | ACCESS_MKNOD }] });
  });

  it('resets everything on a type "a" rule', () => {
    expect(policyOf([allow({ type: 'c', major: 1, minor: 3, access: 'r' }), allow({ access: 'rwm' }), deny({ type: 'b', access: 'm' })]))
      .toEqual({ defaultAllow: true, exceptions: [{ type: 'b', access: ACCESS_MKNOD }] });
  });

  it('gives runc\'s default config (deny all) the devices runc allows', () => {
    const policy = devicePolicy(effectiveDeviceRules([deny({ access: 'rwm' })]));
    expect(policy.defaultAllow).toBe(false);
    expect(policy.exceptions.map((e) => deviceRuleLine({ ...e, allow: true }))).toEqual([
      'c *:* m', 'b *:* m', 'c 1:3 rwm', 'c 1:8 rwm', 'c 1:7 rwm', 'c 5:0 rwm', 'c 1:5 rwm', 'c 1:9 rwm', 'c 136:* rwm',
      'c 5:2 rwm', 'c 10:200 rwm',
    ]);
  });
});

// --- the program

/** Runs the encoded program on one bpf_cgroup_dev_ctx; only the opcodes devices-v2 emits. */
function runProgram(code: Buffer, type: number, major: number, minor: number, access: number): number {
  const context = [((access << 16) | type) >>> 0, major >>> 0, minor >>> 0];
  const registers = new Array<number>(11).fill(0);
  for (let pc = 0, steps = 0; steps < 10000; pc++, steps++) {
    if (pc < 0 || pc * 8 >= code.length) throw new Error(`pc ${pc} ran off the program`);
    const op = code.readUInt8(pc * 8);
    const dst = code.readUInt8(pc * 8 + 1) & 0xf;
    const src = code.readUInt8(pc * 8 + 1) >> 4;
    const off = code.readInt16LE(pc * 8 + 2);
    const imm = code.readInt32LE(pc * 8 + 4) >>> 0;
    const r = registers;
    switch (op) {
      case BPF_LDX_MEM_W:
        if (src !== 1 || off % 4 !== 0 || off < 0 || off > 8) throw new Error(`bad context load at ${pc}`);
        r[dst] = context[off / 4];
        break;
      case BPF_ALU32_AND_K: r[dst] = (r[dst] & imm) >>> 0; break;
      case BPF_ALU32_RSH_K: r[dst] = r[dst] >>> imm; break;
      case BPF_ALU32_MOV_K: r[dst] = imm; break;
      case BPF_ALU32_MOV_X: r[dst] = r[src]; break;
      case BPF_JMP32_JEQ_K: if (r[dst] === imm) pc += off; break;
      case BPF_JMP32_JNE_K: if (r[dst] !== imm) pc += off; break;
      case BPF_JMP32_JNE_X: if (r[dst] !== r[src]) pc += off; break;
      case BPF_JMP_EXIT: return r[0];
      default: throw new Error(`opcode 0x${op.toString(16)} at ${pc}`);
    }
  }
  throw new Error('the program did not end');
}

/** security/device_cgroup.c's verdict for one access. */
function v1KernelAllows(policy: DevicePolicy, type: 'b' | 'c', major: number, minor: number, access: number): boolean {
  const matching = policy.exceptions.filter(
    (e) => e.type === type && (e.major === undefined || e.major === major) && (e.minor === undefined || e.minor === minor),
  );
  // Default allow: denied if any exception shares an access bit. Default deny:
  // allowed only if one exception covers every bit.
  return policy.defaultAllow
    ? !matching.some((e) => (e.access & access) !== 0)
    : matching.some((e) => (access & ~e.access) === 0);
}

describe('the cgroup v2 device filter', () => {
  it('loads the context, then one block per exception, then the default', () => {
    const program = deviceFilterProgram({
      defaultAllow: false,
      exceptions: [{ type: 'c', major: 1, minor: 3, access: ACCESS_ALL }, { type: 'b', access: ACCESS_READ | ACCESS_MKNOD }],
    });
    expect(program.map(({ code, dst, src, off, imm }) => [code, dst, src, off, imm])).toEqual([
      [BPF_LDX_MEM_W, 2, 1, 0, 0], // r2 = ctx->access_type
      [BPF_ALU32_AND_K, 2, 0, 0, 0xffff], // the device type
      [BPF_LDX_MEM_W, 3, 1, 0, 0],
      [BPF_ALU32_RSH_K, 3, 0, 0, 16], // the access asked for
      [BPF_LDX_MEM_W, 4, 1, 4, 0], // major
      [BPF_LDX_MEM_W, 5, 1, 8, 0], // minor
      // c 1:3 rwm: any access, so no access check
      [BPF_JMP32_JNE_K, 2, 0, 4, 2],
      [BPF_JMP32_JNE_K, 4, 0, 3, 1],
      [BPF_JMP32_JNE_K, 5, 0, 2, 3],
      [BPF_ALU32_MOV_K, 0, 0, 0, 1],
      [BPF_JMP_EXIT, 0, 0, 0, 0],
      // b *:* rm: every bit asked for must be in rm
      [BPF_JMP32_JNE_K, 2, 0, 5, 1],
      [BPF_ALU32_MOV_X, 0, 3, 0, 0],
      [BPF_ALU32_AND_K, 0, 0, 0, ACCESS_READ | ACCESS_MKNOD],
      [BPF_JMP32_JNE_X, 0, 3, 2, 0],
      [BPF_ALU32_MOV_K, 0, 0, 0, 1],
      [BPF_JMP_EXIT, 0, 0, 0, 0],
      // the default: deny
      [BPF_ALU32_MOV_K, 0, 0, 0, 0],
      [BPF_JMP_EXIT, 0, 0, 0, 0],
    ]);
  });

  it('encodes struct bpf_insn: code, dst | src << 4, s16 offset, s32 immediate', () => {
    const code = encodeProgram([{ code: 0x56, dst: 5, src: 0, off: -2, imm: 0xfffffffe | 0 }, { code: 0x5e, dst: 0, src: 3, off: 1, imm: 0 }]);
    expect(code.toString('hex')).toBe('5605feff' + 'feffffff' + '5e300100' + '00000000');
  });

  it('encodes device numbers above 2^31 as their u32 bit pattern', () => {
    const code = encodeProgram(deviceFilterProgram({ defaultAllow: false, exceptions: [{ type: 'c', major: 0xfffffff0, access: ACCESS_ALL }] }));
    expect(runProgram(code, 2, 0xfffffff0, 0, ACCESS_READ)).toBe(1);
    expect(runProgram(code, 2, 0x7ffffff0, 0, ACCESS_READ)).toBe(0);
  });

  const POLICIES: Array<[string, DeviceRule[]]> = [
    ['runc\'s default config', [deny({ access: 'rwm' })]],
    ['no rules at all', []],
    ['deny all, allow one device read-only', [deny({ access: 'rwm' }), allow({ type: 'c', major: 10, minor: 229, access: 'r' })]],
    ['allow all but some', [allow({ access: 'rwm' }), deny({ type: 'c', major: 1, minor: 5, access: 'r' }), deny({ type: 'b', major: 8, access: 'w' })]],
    ['allow all, deny every block device', [allow({ access: 'rwm' }), deny({ type: 'b', access: 'rwm' })]],
    ['allow all then take an allowed device back', [allow({ access: 'rwm' }), deny({ type: 'c', major: 1, minor: 3, access: 'rwm' })]],
  ];
  const DEVICES: Array<['b' | 'c', number, number]> = [
    ['c', 1, 3], ['c', 1, 5], ['c', 1, 11], ['c', 5, 0], ['c', 10, 229], ['c', 10, 200], ['c', 136, 7], ['c', 4, 1],
    ['b', 8, 0], ['b', 8, 1], ['b', 7, 0],
  ];
  const ACCESSES = [ACCESS_READ, ACCESS_WRITE, ACCESS_MKNOD, ACCESS_READ | ACCESS_WRITE, ACCESS_ALL];

  it.each(POLICIES)('decides like the v1 kernel for %s', (_name, configRules) => {
    // With and without runc's defaults, so default-allow policies keep their exceptions.
    for (const rules of [effectiveDeviceRules(configRules), effectiveDeviceRules(configRules).slice(0, configRules.length + 1)]) {
      const policy = devicePolicy(rules);
      const code = encodeProgram(deviceFilterProgram(policy));
      for (const [type, major, minor] of DEVICES) {
        for (const access of ACCESSES) {
          const expected = v1KernelAllows(policy, type, major, minor, access) ? 1 : 0;
          const seen = runProgram(code, type === 'b' ? 1 : 2, major, minor, access);
          if (seen !== expected) throw new Error(`${type} ${major}:${minor} access ${access}: program says ${seen}, kernel ${expected}`);
        }
      }
    }
  });
});

// --- the addon, on this host's cgroup2 hierarchy (the unified one of a hybrid host)

const cgroup2 = detectCgroupHost().hierarchies.find((h) => h.fstype === 'cgroup2');

(cgroup2 ? describe : describe.skip)('loading and attaching the device filter', () => {
  const dirs: string[] = [];
  const makeCgroup = (): string => {
    const dir = path.join(cgroup2?.mountPoint ?? '/', cgroup2?.ownPath ?? '/', testCgroupName());
    fs.mkdirSync(dir);
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    expect(removeTestCgroups(dirs)).toEqual([]);
  });

  it('replaces the cgroup\'s program on every attach', () => {
    const dir = makeCgroup();
    expect(addon().deviceProgramIds(dir)).toEqual([]);
    attachDeviceFilter(dir, devicePolicy(effectiveDeviceRules([])));
    const [first] = addon().deviceProgramIds(dir);
    attachDeviceFilter(dir, devicePolicy(effectiveDeviceRules([deny({ access: 'rwm' })])));
    const now = addon().deviceProgramIds(dir);
    expect(now).toHaveLength(1);
    expect(now[0]).not.toBe(first);
  });

  it('fails with the verifier\'s log when the kernel refuses the program', () => {
    const dir = makeCgroup();
    // r0 is never set before exit.
    const unsafe = encodeProgram([{ code: BPF_JMP_EXIT, dst: 0, src: 0, off: 0, imm: 0 }]);
    expect(() => addon().attachDeviceProgram(dir, unsafe, DEVICE_FILTER_LICENSE)).toThrow(
      new RegExp(`^bpf\\(BPF_PROG_LOAD\\) ${dir}: Permission denied \\(verifier log: .*R0 !read_ok`),
    );
    expect(addon().deviceProgramIds(dir)).toEqual([]);
    expect(() => addon().attachDeviceProgram(path.join(dir, 'absent'), unsafe, 'GPL')).toThrow(/^open .*absent: No such file or directory$/);
  });

  it('has the kernel deny what the rules deny to a process in the cgroup', async () => {
    const dir = makeCgroup();
    attachDeviceFilter(dir, devicePolicy(effectiveDeviceRules([deny({ access: 'rwm' }), deny({ type: 'c', major: 1, minor: 5, access: 'r' })])));
    // /dev/kmsg (c 1:11) is not in the list; /dev/null and /dev/zero are.
    const probe = 'for d in kmsg null zero; do (exec 3</dev/$d) 2>/dev/null && echo $d-open || echo $d-denied; done';
    const joined = (pid: number): void => fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
    expect(await runJoined(probe, joined)).toBe('kmsg-denied\nnull-open\nzero-open\n');
  });
});
