// The conversation with the init process and the exec child: the messages
// they send (addon/init/plan.h, struct Message), what the parent expects
// next, and how a failure among them becomes one readable line.
import * as fs from 'node:fs';
import { addon } from '../addon';
import type { InitMessageFormat } from '../addon-plan';
import { OcitsError, isErrno, quoted, systemErrorText } from '../errors';
import type { RuntimeConfig } from '../spec/types';
import type { InitPlan } from './init';

/**
 * What the init says: mounted (run the runtime hooks), ready, error,
 * seccompListener (with the notify fd), mapIds (it is in a new user
 * namespace and waits for its id maps), initPid (index: the pid of the init
 * the first child forked); execPid from the exec child (index: the process's
 * pid); continue from us.
 */
export type MessageKind = keyof InitMessageFormat['kinds'];

let format: InitMessageFormat | undefined;

function messageFormat(): InitMessageFormat {
  format ??= addon().initMessageFormat();
  return format;
}

export interface InitMessage {
  kind: number;
  step: number;
  index: number;
  errno: number;
  detail: string;
}

/** Decodes one message; undefined for an empty or short read (the child is gone). */
export function decodeMessage(bytes: Buffer): InitMessage | undefined {
  const { size, detailOffset } = messageFormat();
  if (bytes.length < size) return undefined;
  const end = bytes.indexOf(0, detailOffset);
  return {
    kind: bytes.readInt32LE(0),
    step: bytes.readInt32LE(4),
    index: bytes.readInt32LE(8),
    errno: bytes.readInt32LE(12),
    detail: bytes.toString('utf8', detailOffset, end < 0 ? size : end),
  };
}

/** Tells the waiting init process to go on. */
export function sendContinue(socket: number): void {
  const bytes = Buffer.alloc(messageFormat().size);
  bytes.writeInt32LE(messageFormat().kinds.continue, 0);
  addon().initSend(socket, bytes);
}

/**
 * The exec child asked to be placed in its cgroup (CgroupJoin.fromParent)
 * and waits; one we cannot place is killed.
 */
function placeExecChild(spawned: { pid: number; socket: number }, place: (pid: number) => void): void {
  const { kinds } = messageFormat();
  const request = decodeMessage(addon().initReceive(spawned.socket));
  try {
    if (request === undefined) throw new OcitsError('exec: the process exited before it was set up');
    if (request.kind === kinds.error) throw new OcitsError(describeFailure(request));
    if (request.kind !== kinds.placeMe) throw new OcitsError(`exec: unexpected message ${request.kind}`);
    place(spawned.pid);
  } catch (error) {
    killAndReap(spawned.pid);
    throw error;
  }
  sendContinue(spawned.socket);
}

/** Kills a child of ours and reaps it; one that has exited already is only reaped. */
export function killAndReap(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch (error) {
    if (!isErrno(error, 'ESRCH')) throw error;
  }
  addon().reap(pid);
}

/**
 * One line for a failed step. The plan, when known, names the config item
 * the step worked on.
 */
export function describeFailure(message: InitMessage, plan?: InitPlan, configMountDestination?: (index: number) => string): string {
  const step = addon().initStepNames()[message.step] ?? `step ${message.step}`;
  const cause = message.errno !== 0 ? (systemErrorText(message.errno) ?? `errno ${message.errno}`) : '';
  const join = (what: string): string => [what, message.detail, cause].filter((part) => part !== '').join(': ');

  if (step === 'find executable') return `exec: "${message.detail}": executable file not found in $PATH`;
  if (step.endsWith('hook')) {
    // "(PATH) failed: why: its output", as a runtime hook's failure reads;
    // the output made one line.
    const output = message.detail.split('\n').map((line) => line.trim()).filter((line) => line !== '').join('; ');
    return [`${step} #${message.index} ${output}`, cause].filter((part) => part !== '').join(': ');
  }
  if (step === 'exec') return `exec ${message.detail}: ${cause}`;
  if (plan !== undefined && message.index >= 0) {
    const item = itemOf(step, message.index, plan, configMountDestination);
    if (item !== undefined) return join(`${step} ${item}`);
  }
  return join(step);
}

function itemOf(
  step: string,
  index: number,
  plan: InitPlan,
  configMountDestination?: (index: number) => string,
): string | undefined {
  switch (step) {
    case 'mount target':
    case 'mount':
    case 'remount':
    case 'mount propagation':
    case 'tmpfs copy-up': {
      const mount = plan.mounts[index];
      if (mount === undefined) return undefined;
      const destination = configMountDestination?.(mount.configIndex) ?? `/${mount.target}`;
      return `/mounts/${mount.configIndex} (${quoted(destination)})`;
    }
    case 'device':
      return plan.devices[index] !== undefined ? `/${plan.devices[index].path}` : undefined;
    case 'symlink':
      return plan.symlinks[index] !== undefined ? `/${plan.symlinks[index].path}` : undefined;
    case 'masked path':
      return plan.maskedPaths[index] !== undefined ? `/${plan.maskedPaths[index]}` : undefined;
    case 'readonly path':
      return plan.readonlyPaths[index] !== undefined ? `/${plan.readonlyPaths[index]}` : undefined;
    case 'cgroup':
      return index < 0 ? 'the cgroup2 cgroup' : `the tasks file of cgroup #${index}`;
    case 'sysctl':
      return plan.sysctls[index] !== undefined ? `/linux/sysctl/${plan.sysctls[index].key}` : undefined;
    case 'join namespace':
      return plan.namespaces.joins[index] !== undefined ? `/linux/namespaces/${plan.namespaces.joins[index].configIndex}/path` : undefined;
    case 'rlimit':
      return `/process/rlimits/${index}`;
    case 'capability bounding set':
    case 'capabilities':
      return `capability ${index}`;
    default:
      return undefined;
  }
}

export function expectMessage(socket: number, kind: MessageKind, plan: InitPlan, config: RuntimeConfig): InitMessage {
  return checkMessage(addon().initReceive(socket), kind, plan, config);
}

/**
 * One message on the init socket may be no larger than its send buffer
 * (net.core.wmem_default, about 208 KB), and annotations alone may be 256 KB
 * (Kubernetes's limit): the documents go in pieces of this size.
 */
const STATE_MESSAGE_BYTES = 64 * 1024;

/**
 * Sends the state documents the container's hooks read. An init that failed
 * before it read them (an idmapped mount's source, say) may have closed its
 * end already: then its failure is what to report, not the broken pipe.
 */
export function sendStateDocuments(socket: number, documents: string, plan: InitPlan, config: RuntimeConfig): void {
  const bytes = Buffer.from(documents);
  try {
    for (let offset = 0; offset < bytes.length; offset += STATE_MESSAGE_BYTES) {
      addon().initSend(socket, bytes.subarray(offset, offset + STATE_MESSAGE_BYTES));
    }
  } catch (error) {
    if (!isErrno(error, 'EPIPE') && !isErrno(error, 'ECONNRESET')) throw error;
    expectMessage(socket, 'mounted', plan, config); // throws the init's failure, or that it exited
    throw error;
  }
}

/** The seccomp notify fd, which the init process sends once it loaded its filter. */
export function expectListenerFd(socket: number, plan: InitPlan, config: RuntimeConfig): number {
  const { message, fd } = addon().initReceiveWithFd(socket);
  try {
    checkMessage(message, 'seccompListener', plan, config);
    if (fd < 0) throw new OcitsError('container init sent no seccomp notify fd');
  } catch (error) {
    if (fd >= 0) fs.closeSync(fd);
    throw error;
  }
  return fd;
}

function checkMessage(bytes: Buffer, kind: MessageKind, plan: InitPlan, config: RuntimeConfig): InitMessage {
  const { kinds } = messageFormat();
  const message = decodeMessage(bytes);
  if (message === undefined) throw new OcitsError('container init exited before it was set up');
  if (message.kind === kinds.error) {
    const destination = (index: number): string => config.mounts?.[index]?.destination ?? '?';
    throw new OcitsError(`container init failed: ${describeFailure(message, plan, destination)}`);
  }
  if (message.kind !== kinds[kind]) throw new OcitsError(`container init sent message ${message.kind}, expected ${kinds[kind]}`);
  return message;
}

/**
 * Reads the child's messages: the pid of the process it forked; with a
 * seccomp listener, the process's notify fd, which handOverListener passes
 * on before the process may go on; then either a failure or the end of the
 * socket, which execve closes. Returns the pid. With place, the child
 * first waits to be put in its cgroup (placeExecChild).
 */
export function awaitExec(
  spawned: { pid: number; socket: number },
  detached: boolean,
  handOverListener: (notifyFd: number, pid: number) => void,
  place?: (pid: number) => void,
): number {
  const { kinds } = messageFormat();
  let pid: number | undefined;
  try {
    if (place !== undefined) placeExecChild(spawned, place);
    const first = decodeMessage(addon().initReceive(spawned.socket));
    addon().reap(spawned.pid);
    if (first === undefined) throw new OcitsError('exec: the process exited before it was set up');
    if (first.kind === kinds.error) throw new OcitsError(describeFailure(first));
    if (first.kind !== kinds.execPid) throw new OcitsError(`exec: unexpected message ${first.kind}`);
    pid = first.index;
    let next = addon().initReceiveWithFd(spawned.socket);
    if (decodeMessage(next.message)?.kind === kinds.seccompListener && next.fd >= 0) {
      try {
        handOverListener(next.fd, pid);
      } catch (error) {
        // It waits for our word and must not run without its agent: it
        // exits once the socket closes. Ours to reap unless detached (then
        // its pid may be another's by now, so it is not signalled either).
        if (!detached) killAndReap(pid);
        throw error;
      } finally {
        fs.closeSync(next.fd);
      }
      sendContinue(spawned.socket);
      next = addon().initReceiveWithFd(spawned.socket);
    }
    if (next.fd >= 0) fs.closeSync(next.fd);
    const last = decodeMessage(next.message);
    if (last?.kind === kinds.error) {
      // It has exited; as its subreaper we reap it.
      if (!detached) addon().reap(pid);
      throw new OcitsError(describeFailure(last));
    }
    return pid;
  } finally {
    fs.closeSync(spawned.socket);
  }
}
