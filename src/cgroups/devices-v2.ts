// Device rules on cgroup v2, which has no devices.allow/deny: a
// BPF_PROG_TYPE_CGROUP_DEVICE program attached to the container's cgroup
// answers every open and mknod of a device node. This module writes that
// program from the v1 kernel's view of the rules (device-rules.ts), so v1
// and v2 hosts enforce the same list; the addon loads and attaches it.
import { addon } from '../addon';
import { OcitsError, messageOf, quoted } from '../errors';
import { tracer } from '../log';
import type { DevicePolicy } from './device-rules';
import { ACCESS_ALL } from './device-rules';

const trace = tracer('cgroups');

/** One struct bpf_insn. */
export interface BpfInstruction {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

// Opcodes (linux/bpf_common.h, linux/bpf.h): class | operation | source.
export const BPF_LDX_MEM_W = 0x61; // dst = *(u32 *)(src + off)
export const BPF_ALU32_AND_K = 0x54; // w(dst) &= imm
export const BPF_ALU32_RSH_K = 0x74; // w(dst) >>= imm
export const BPF_ALU32_MOV_K = 0xb4; // w(dst) = imm
export const BPF_ALU32_MOV_X = 0xbc; // w(dst) = w(src)
// 32-bit compares (BPF_JMP32): every value the program compares is a u32.
export const BPF_JMP32_JEQ_K = 0x16; // if w(dst) == imm: pc += off
export const BPF_JMP32_JNE_K = 0x56; // if w(dst) != imm: pc += off
export const BPF_JMP32_JNE_X = 0x5e; // if w(dst) != w(src): pc += off
export const BPF_JMP_EXIT = 0x95; // return r0

/** Types in the low 16 bits of bpf_cgroup_dev_ctx.access_type (BPF_DEVCG_DEV_*). */
const DEVICE_TYPE = { b: 1, c: 2 } as const;

// Registers of the program: R1 is the context on entry; the program keeps
// the device's type, access, major and minor in R2..R5 and uses R0 for the
// verdict and as scratch.
const R0 = 0;
const R1 = 1;
const TYPE = 2;
const ACCESS = 3;
const MAJOR = 4;
const MINOR = 5;

/** The licence the program is loaded under; it calls no GPL-only helper. */
export const DEVICE_FILTER_LICENSE = 'Apache-2.0';

const insn = (code: number, dst: number, src: number, off: number, imm: number): BpfInstruction => ({ code, dst, src, off, imm });
/** Marks a jump to the end of the current block; resolved when the block is done. */
const NEXT_BLOCK = Number.NaN;

/**
 * The device filter for a policy. It loads the context, then has one block
 * per exception that returns the opposite of the default when the device
 * matches, and ends by returning the default (1 allows, 0 denies).
 *
 * A match is what the v1 kernel checks (match_exception and
 * match_exception_partial): when the default denies, an exception allows an
 * access only if it covers every bit asked for (open O_RDWR asks for read and
 * write at once); when the default allows, an exception denies an access that
 * asks for any bit it names.
 */
export function deviceFilterProgram(policy: DevicePolicy): BpfInstruction[] {
  const program: BpfInstruction[] = [
    // struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }
    insn(BPF_LDX_MEM_W, TYPE, R1, 0, 0),
    insn(BPF_ALU32_AND_K, TYPE, 0, 0, 0xffff),
    insn(BPF_LDX_MEM_W, ACCESS, R1, 0, 0),
    insn(BPF_ALU32_RSH_K, ACCESS, 0, 0, 16),
    insn(BPF_LDX_MEM_W, MAJOR, R1, 4, 0),
    insn(BPF_LDX_MEM_W, MINOR, R1, 8, 0),
  ];
  const exceptionVerdict = policy.defaultAllow ? 0 : 1;
  for (const exception of policy.exceptions) {
    const block: BpfInstruction[] = [insn(BPF_JMP32_JNE_K, TYPE, 0, NEXT_BLOCK, DEVICE_TYPE[exception.type])];
    if (policy.defaultAllow) {
      // Any access bit in common: an access always asks for at least one bit.
      if (exception.access !== ACCESS_ALL) {
        block.push(
          insn(BPF_ALU32_MOV_X, R0, ACCESS, 0, 0),
          insn(BPF_ALU32_AND_K, R0, 0, 0, exception.access),
          insn(BPF_JMP32_JEQ_K, R0, 0, NEXT_BLOCK, 0),
        );
      }
    } else if (exception.access !== ACCESS_ALL) {
      // Every access bit covered: (access & allowed) == access.
      block.push(
        insn(BPF_ALU32_MOV_X, R0, ACCESS, 0, 0),
        insn(BPF_ALU32_AND_K, R0, 0, 0, exception.access),
        insn(BPF_JMP32_JNE_X, R0, ACCESS, NEXT_BLOCK, 0),
      );
    }
    // The immediate is the u32 device number's bit pattern as an s32.
    if (exception.major !== undefined) block.push(insn(BPF_JMP32_JNE_K, MAJOR, 0, NEXT_BLOCK, exception.major | 0));
    if (exception.minor !== undefined) block.push(insn(BPF_JMP32_JNE_K, MINOR, 0, NEXT_BLOCK, exception.minor | 0));
    block.push(insn(BPF_ALU32_MOV_K, R0, 0, 0, exceptionVerdict), insn(BPF_JMP_EXIT, 0, 0, 0, 0));
    block.forEach((instruction, i) => {
      if (Number.isNaN(instruction.off)) instruction.off = block.length - (i + 1);
    });
    program.push(...block);
  }
  program.push(insn(BPF_ALU32_MOV_K, R0, 0, 0, policy.defaultAllow ? 1 : 0), insn(BPF_JMP_EXIT, 0, 0, 0, 0));
  return program;
}

/** The program as the kernel reads it: 8-byte struct bpf_insn, little-endian. */
export function encodeProgram(program: readonly BpfInstruction[]): Buffer {
  const buffer = Buffer.alloc(program.length * 8);
  program.forEach(({ code, dst, src, off, imm }, i) => {
    buffer.writeUInt8(code, i * 8);
    buffer.writeUInt8((src << 4) | dst, i * 8 + 1);
    buffer.writeInt16LE(off, i * 8 + 2);
    buffer.writeInt32LE(imm, i * 8 + 4);
  });
  return buffer;
}

/**
 * Attaches the policy's program to a cgroup2 directory, replacing the device
 * programs attached there before (so `update` can call it again).
 */
export function attachDeviceFilter(dir: string, policy: DevicePolicy): void {
  const program = deviceFilterProgram(policy);
  try {
    addon().attachDeviceProgram(dir, encodeProgram(program), DEVICE_FILTER_LICENSE);
  } catch (error) {
    throw new OcitsError(`cannot attach the device filter to cgroup ${quoted(dir)}: ${messageOf(error)}`);
  }
  trace('attached a %d-instruction device filter to %s', program.length, dir);
}
