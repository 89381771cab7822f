// linux.seccomp as a BPF program, compiled before clone() (the child cannot
// run libseccomp, which allocates). This module is the policy: which names
// mean which actions, operators and architectures, what is skipped and what is
// refused, and how the notify fd reaches the listener. addon/seccomp_filter.cc
// is the mechanism: libseccomp calls and the export.
import * as fs from 'node:fs';
import { addon } from '../addon';
import type { SeccompFilter, SeccompFilterRules } from '../addon-plan';
import { OcitsError, messageOf, quoted } from '../errors';
import { tracer } from '../log';
import type { Seccomp, SeccompArg } from '../spec/types';
import {
  SECCOMP_ACTIONS, SECCOMP_ACTIONS_WITH_ERRNO, SECCOMP_ARCHITECTURES, SECCOMP_FILTER_FLAG_NEW_LISTENER, SECCOMP_FLAGS,
  SECCOMP_OPERATORS,
} from '../spec/names';
import { OCI_VERSION } from '../spec/version';
import type { SeccompHost } from './host';

const trace = tracer('seccomp');

const EPERM = 1;
/** BPF_MAXINSNS: the kernel refuses longer programs. */
const MAX_INSTRUCTIONS = 4096;
const SOCK_FILTER_SIZE = 8;
/** The syscall arguments a rule can test: seccomp_data.args[0..5]. */
const ARGUMENT_COUNT = 6;
const TSYNC = SECCOMP_FLAGS.get('SECCOMP_FILTER_FLAG_TSYNC')!;
const WAIT_KILLABLE_RECV = SECCOMP_FLAGS.get('SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV')!;

// Between loading the filter and handing its notify fd over, the init
// process sends the fd with sendmsg: a notify rule there would wait for a
// listener that can never have the fd. runc refuses the same way for write.
const NOTIFY_FORBIDDEN = new Set(['sendmsg']);

type FilterRule = SeccompFilterRules['rules'][number];
type FilterCondition = FilterRule['conditions'][number];

const at = (...segments: Array<string | number>): string => ['/linux/seccomp', ...segments].join('/');

function actionValue(name: string, errnoRet: number | undefined, where: string): number {
  const base = SECCOMP_ACTIONS.get(name);
  if (base === undefined) throw new OcitsError(`${where}: unknown seccomp action ${name}`);
  if (!SECCOMP_ACTIONS_WITH_ERRNO.has(name)) return base;
  // EPERM is runc's default for an action that returns an errno.
  return base + ((errnoRet ?? EPERM) & 0xffff);
}

/** A JSON number as a uint64; 2^64-1 arrives rounded up to 2^64. */
function uint64(value: number): bigint {
  const exact = BigInt(Math.trunc(value));
  return exact >= 1n << 64n ? (1n << 64n) - 1n : BigInt.asUintN(64, exact);
}

function condition(arg: SeccompArg, where: string): FilterCondition {
  if (!Number.isInteger(arg.index) || arg.index < 0 || arg.index >= ARGUMENT_COUNT) {
    throw new OcitsError(`${where}/index: ${arg.index} is not a syscall argument (0 to ${ARGUMENT_COUNT - 1})`);
  }
  const op = SECCOMP_OPERATORS.get(arg.op);
  if (op === undefined) throw new OcitsError(`${where}/op: unknown seccomp operator ${arg.op}`);
  return { index: arg.index, op, value: uint64(arg.value), valueTwo: uint64(arg.valueTwo ?? 0) };
}

function architectureTokens(seccomp: Seccomp, host: SeccompHost): number[] {
  return (seccomp.architectures ?? []).map((name, i) => {
    if (!SECCOMP_ARCHITECTURES.has(name)) throw new OcitsError(`${at('architectures', i)}: unknown seccomp architecture ${name}`);
    const token = host.archToken(name);
    if (token === 0) {
      throw new OcitsError(`${at('architectures', i)}: ${name} is not supported by libseccomp ${host.version()}`);
    }
    return token;
  });
}

function filterRules(seccomp: Seccomp, defaultAction: number, host: SeccompHost): FilterRule[] {
  const rules: FilterRule[] = [];
  (seccomp.syscalls ?? []).forEach((entry, i) => {
    const action = actionValue(entry.action, entry.errnoRet, at('syscalls', i, 'action'));
    const conditions = (entry.args ?? []).map((arg, j) => condition(arg, at('syscalls', i, 'args', j)));
    // libseccomp refuses a rule that repeats the default action; runc drops it.
    if (action === defaultAction) return;
    // libseccomp ANDs the conditions of one rule and cannot hold two on the
    // same argument; runc then adds each as a rule of its own (an OR).
    const indexes = conditions.map((c) => c.index);
    const groups = new Set(indexes).size < indexes.length ? conditions.map((c) => [c]) : [conditions];
    for (const name of entry.names) {
      if (entry.action === 'SCMP_ACT_NOTIFY' && NOTIFY_FORBIDDEN.has(name)) {
        throw new OcitsError(`${at('syscalls', i)}: SCMP_ACT_NOTIFY cannot be used for ${name}: the init process passes the notify fd with it`);
      }
      const syscall = host.syscallNumber(name);
      if (syscall === -1) {
        // A name this libseccomp does not know is a syscall this kernel is
        // unlikely to have; runc skips it the same way.
        trace('unknown seccomp syscall %s ignored', name);
        continue;
      }
      for (const group of groups) rules.push({ syscall, action, conditions: group });
    }
  });
  return rules;
}

function usesNotify(seccomp: Seccomp): boolean {
  return (seccomp.syscalls ?? []).some((entry) => entry.action === 'SCMP_ACT_NOTIFY');
}

function filterFlags(seccomp: Seccomp, listener: boolean, host: SeccompHost): number {
  let flags = listener ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
  (seccomp.flags ?? []).forEach((name, i) => {
    const flag = SECCOMP_FLAGS.get(name);
    if (flag === undefined) throw new OcitsError(`${at('flags', i)}: unknown seccomp flag ${name}`);
    // The init process has one thread, so there is nothing to synchronise;
    // and the kernel refuses TSYNC together with NEW_LISTENER.
    if (flag === TSYNC) return;
    // It only changes how a notifying syscall waits; without a listener the
    // kernel refuses it, and libseccomp leaves it out likewise.
    if (flag === WAIT_KILLABLE_RECV && !listener) return;
    if (!host.flagSupported(name)) throw new OcitsError(`${at('flags', i)}: ${name} is not supported by this kernel`);
    flags |= flag;
  });
  return flags;
}

/** Compiles linux.seccomp; throws a one-line error naming the field at fault. */
export function planSeccomp(seccomp: Seccomp, host: SeccompHost): SeccompFilter {
  if (seccomp.defaultAction === 'SCMP_ACT_NOTIFY') {
    // Every syscall of the init process after loading, sendmsg included, would notify.
    throw new OcitsError(`${at('defaultAction')}: SCMP_ACT_NOTIFY cannot be the default action`);
  }
  const defaultAction = actionValue(seccomp.defaultAction, seccomp.defaultErrnoRet, at('defaultAction'));
  const architectures = architectureTokens(seccomp, host);
  const rules = filterRules(seccomp, defaultAction, host);
  const listener = usesNotify(seccomp);
  if (listener && seccomp.listenerPath === undefined) {
    throw new OcitsError(`${at('listenerPath')}: SCMP_ACT_NOTIFY needs a listenerPath to send the notify fd to`);
  }
  const flags = filterFlags(seccomp, listener, host);
  let program: Buffer;
  try {
    program = host.compile({ defaultAction, architectures, rules });
  } catch (error) {
    throw new OcitsError(`/linux/seccomp: ${messageOf(error)}`);
  }
  const instructions = program.length / SOCK_FILTER_SIZE;
  if (instructions > MAX_INSTRUCTIONS) {
    throw new OcitsError(`/linux/seccomp: the filter compiles to ${instructions} BPF instructions; the kernel takes at most ${MAX_INSTRUCTIONS}`);
  }
  return { program, flags, listener };
}

/**
 * Hands the notify fd of the process processPid (the init, or a process
 * `exec` started) to the seccomp agent at listenerPath: one connection, the
 * container process state as JSON with the fd as SCM_RIGHTS, then close
 * (config-linux.md, "The Container Process State"). state is the
 * container's.
 */
export function sendToSeccompListener(seccomp: Seccomp, notifyFd: number, processPid: number, state: object): void {
  const listenerPath = seccomp.listenerPath!;
  const processState = {
    ociVersion: OCI_VERSION,
    fds: ['seccompFd'],
    pid: processPid,
    ...(seccomp.listenerMetadata !== undefined ? { metadata: seccomp.listenerMetadata } : {}),
    state,
  };
  let socket: number;
  try {
    socket = addon().connectUnix(listenerPath);
  } catch (error) {
    throw new OcitsError(`${at('listenerPath')}: cannot connect to ${quoted(listenerPath)}: ${messageOf(error)}`);
  }
  try {
    addon().sendWithFd(socket, Buffer.from(JSON.stringify(processState)), notifyFd);
  } catch (error) {
    throw new OcitsError(`${at('listenerPath')}: cannot send the seccomp fd to ${quoted(listenerPath)}: ${messageOf(error)}`);
  } finally {
    fs.closeSync(socket);
  }
}
