// The typed surface of the C++ addon (addon/). It is loaded on first use, so
// commands that need no syscall beyond Node's never pay for loading it.
import * as path from 'node:path';
import type { ExecPlan, InitMessageFormat, Plan, SeccompFilterRules } from './addon-plan';

export type LockMode = 'exclusive' | 'shared' | 'unlock';

/** How a process ended: exactly one of code and signal is set. */
export interface ExitStatus {
  code: number | null;
  signal: number | null;
}

/** A connection to systemd's manager over D-Bus (opaque; closed when collected or at exit). */
export interface SystemdBus {
  readonly systemdBus: unique symbol;
}

/** A value for a D-Bus signature: 't' and 'x' take bigints, arrays and structs take arrays. */
export type BusValue = boolean | number | bigint | string | BusValue[];

/** A unit property as systemd's Manager takes it: name, D-Bus signature, value. */
export type UnitProperty = [name: string, signature: string, value: BusValue];

/** What an addon error from systemd carries besides its message. */
export interface SystemdError extends Error {
  /** The D-Bus error name, e.g. org.freedesktop.systemd1.NoSuchUnit. */
  dbusName?: string;
}

export interface Addon {
  /** flock(2); false only when wait is false and the lock is held elsewhere. */
  flock(fd: number, mode: LockMode, wait: boolean): boolean;
  /** The version of the libseccomp the addon is linked with, e.g. "2.5.4". */
  seccompVersion(): string;

  /** libseccomp's number for a syscall on this architecture; -1 when unknown. */
  seccompSyscallNumber(name: string): number;
  /** The AUDIT_ARCH token of a libseccomp architecture name; 0 when unknown. */
  seccompArchToken(name: string): number;
  /** Builds a filter with libseccomp and exports it: struct sock_filter[]. */
  compileSeccompFilter(filter: SeccompFilterRules): Buffer;
  /** Whether the kernel knows these SECCOMP_FILTER_FLAG_* bits. */
  seccompFlagSupported(flags: number): boolean;
  /** One sendmsg with payload and fd as SCM_RIGHTS (then the rest of payload). */
  sendWithFd(socket: number, payload: Buffer, fd: number): void;

  /** Clones the container's init process, which then runs the plan. */
  spawnContainerInit(plan: Plan): { pid: number; socket: number };
  /** One message from the init process; empty when it has closed its end. */
  initReceive(socket: number): Buffer;
  /** Like initReceive, with the fd the message carried (-1 for none). */
  initReceiveWithFd(socket: number): { message: Buffer; fd: number };
  initSend(socket: number, payload: Buffer): void;
  /** The CLONE_NEW* type of an open namespace file (ioctl NS_GET_NSTYPE); throws for any other file. */
  namespaceType(fd: number): number;
  /** Names of the init steps, indexed by the step number in messages. */
  initStepNames(): string[];
  /** The message kinds and layout (addon/init/plan.h, struct Message). */
  initMessageFormat(): InitMessageFormat;

  /**
   * Clones the `exec` child, which joins the container and forks the process;
   * read its pid and any failure from the socket as for the init.
   */
  spawnExecProcess(plan: ExecPlan): { pid: number; socket: number };
  /** PR_SET_CHILD_SUBREAPER: orphaned descendants become our children. */
  becomeChildSubreaper(): void;

  /** Resolves when the child exits (waitpid on a worker thread). */
  waitForExit(pid: number): Promise<ExitStatus>;
  /** Blocking waitpid for a child. */
  reap(pid: number): ExitStatus;
  pidfdOpen(pid: number): number;
  pidfdSendSignal(pidfd: number, signal: number): void;
  /** Blocks until fd is readable or hung up (true), or timeoutMs pass (false). */
  waitReadable(fd: number, timeoutMs: number): boolean;
  /** Gives the terminal `to` the window size of the terminal `from` (TIOCGWINSZ, TIOCSWINSZ). */
  copyWindowSize(from: number, to: number): void;
  mkfifo(file: string, mode: number): void;
  /** umount2(MNT_DETACH | UMOUNT_NOFOLLOW): the mount at file and everything below it. */
  detachMount(file: string): void;
  /** A connected pair of SOCK_STREAM unix sockets, close-on-exec. */
  socketPair(): [number, number];
  /** A connected SOCK_STREAM unix socket. */
  connectUnix(socketPath: string): number;
  /** Receives one fd sent with SCM_RIGHTS. */
  receiveFd(socket: number): number;

  /**
   * Loads a BPF_PROG_TYPE_CGROUP_DEVICE program (struct bpf_insn array) and
   * attaches it to the cgroup2 directory with BPF_F_ALLOW_MULTI, then detaches
   * the device programs attached there before. A program the verifier
   * refuses fails with its log in the message.
   */
  attachDeviceProgram(cgroupDir: string, instructions: Buffer, license: string): void;
  /** Ids of the device programs attached to this cgroup2 directory itself. */
  deviceProgramIds(cgroupDir: string): number[];

  /** Connects to the system bus, or the caller's user bus, and checks that systemd answers there. */
  systemdConnect(user: boolean): SystemdBus;
  /** StartTransientUnit(name, "fail", properties), then waits up to timeoutMs for its job; throws unless the job is done. */
  systemdStartTransientUnit(bus: SystemdBus, name: string, properties: UnitProperty[], timeoutMs: number): void;
  /**
   * StopUnit(name, mode), waits for its job, then ResetFailedUnit; false when there is no such unit.
   * mode is systemd's job mode: "replace", or "fail" to be refused when the stop conflicts with a queued job.
   */
  systemdStopUnit(bus: SystemdBus, name: string, mode: 'replace' | 'fail', timeoutMs: number): boolean;
  /** SetUnitProperties(name, runtime, properties). */
  systemdSetUnitProperties(bus: SystemdBus, name: string, properties: UnitProperty[]): void;
  /** AttachProcessesToUnit(name, subcgroup, pids): moves processes into a running unit's cgroup, or one below it. */
  systemdAttachProcesses(bus: SystemdBus, name: string, subcgroup: string, pids: number[]): void;
  /** The unit's ActiveState (active, inactive, failed, activating ...), or null when systemd has no such unit loaded (GetUnit: NoSuchUnit). */
  systemdUnitActiveState(bus: SystemdBus, name: string): string | null;
  /** A string property of the manager: ControlGroup, Version. */
  systemdManagerProperty(bus: SystemdBus, name: string): string;
}

let loaded: Addon | undefined;

export function addon(): Addon {
  // bin/ocits names the addon for the compiled program, which runs from a
  // sealed copy and cannot find its checkout; Node running src/ (tests) or a
  // bundle one level below the checkout finds it from there.
  loaded ??= require(process.env.OCITS_ADDON ?? path.join(__dirname, '..', 'build', 'Release', 'ocits.node')) as Addon;
  return loaded;
}
