// The closed sets of names a config may use, with the numbers the kernel
// gives them. Semantic checks validate against these; later layers turn the
// names into numbers for the launch plan.

/** Linux capabilities by name, with their bit numbers (include/uapi/linux/capability.h). */
export const CAPABILITIES: ReadonlyMap<string, number> = new Map(
  [
    'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID',
    'SETPCAP', 'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW',
    'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT',
    'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD',
    'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG',
    'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF', 'CHECKPOINT_RESTORE',
  ].map((name, bit) => [`CAP_${name}`, bit]),
);

/** Resource limits by name, with their numbers (include/uapi/asm-generic/resource.h). */
export const RLIMITS: ReadonlyMap<string, number> = new Map(
  [
    'CPU', 'FSIZE', 'DATA', 'STACK', 'CORE', 'RSS', 'NPROC', 'NOFILE', 'MEMLOCK', 'AS', 'LOCKS',
    'SIGPENDING', 'MSGQUEUE', 'NICE', 'RTPRIO', 'RTTIME',
  ].map((name, number) => [`RLIMIT_${name}`, number]),
);

/**
 * Seccomp actions with libseccomp's values (seccomp.h), which are the
 * kernel's SECCOMP_RET_*; an errno or trace value goes in the low 16 bits.
 */
export const SECCOMP_ACTIONS: ReadonlyMap<string, number> = new Map([
  ['SCMP_ACT_KILL', 0x00000000], ['SCMP_ACT_KILL_PROCESS', 0x80000000], ['SCMP_ACT_KILL_THREAD', 0x00000000],
  ['SCMP_ACT_TRAP', 0x00030000], ['SCMP_ACT_ERRNO', 0x00050000], ['SCMP_ACT_TRACE', 0x7ff00000],
  ['SCMP_ACT_ALLOW', 0x7fff0000], ['SCMP_ACT_LOG', 0x7ffc0000], ['SCMP_ACT_NOTIFY', 0x7fc00000],
]);

/** The actions that carry an errno (errnoRet / defaultErrnoRet). */
export const SECCOMP_ACTIONS_WITH_ERRNO: ReadonlySet<string> = new Set([
  'SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE',
]);

/** Comparison operators with their enum scmp_compare values. */
export const SECCOMP_OPERATORS: ReadonlyMap<string, number> = new Map([
  ['SCMP_CMP_NE', 1], ['SCMP_CMP_LT', 2], ['SCMP_CMP_LE', 3], ['SCMP_CMP_EQ', 4], ['SCMP_CMP_GE', 5],
  ['SCMP_CMP_GT', 6], ['SCMP_CMP_MASKED_EQ', 7],
]);

/** Architectures with libseccomp's names for them (seccomp_arch_resolve_name). */
export const SECCOMP_ARCHITECTURES: ReadonlyMap<string, string> = new Map(
  [
    'X86', 'X86_64', 'X32', 'ARM', 'AARCH64', 'MIPS', 'MIPS64', 'MIPS64N32', 'MIPSEL', 'MIPSEL64',
    'MIPSEL64N32', 'PPC', 'PPC64', 'PPC64LE', 'S390', 'S390X', 'PARISC', 'PARISC64', 'RISCV64',
    'LOONGARCH64', 'M68K', 'SH', 'SHEB',
  ].map((name) => [`SCMP_ARCH_${name}`, name.toLowerCase()]),
);

/** SECCOMP_FILTER_FLAG_* bits (linux/seccomp.h). */
export const SECCOMP_FLAGS: ReadonlyMap<string, number> = new Map([
  ['SECCOMP_FILTER_FLAG_TSYNC', 1], ['SECCOMP_FILTER_FLAG_LOG', 2], ['SECCOMP_FILTER_FLAG_SPEC_ALLOW', 4],
  ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV', 32],
]);
export const SECCOMP_FILTER_FLAG_NEW_LISTENER = 8;
