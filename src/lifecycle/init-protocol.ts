// The messages the init process sends (addon/init/plan.h, struct Message) and
// how a failure among them becomes one readable line.
import { addon } from '../addon';
import { quoted, systemErrorText } from '../errors';
import type { InitPlan } from './init-plan';

export const MESSAGE_MOUNTED = 1;
export const MESSAGE_READY = 2;
export const MESSAGE_ERROR = 3;
export const MESSAGE_CONTINUE = 4;
export const MESSAGE_SECCOMP_LISTENER = 6;
/** The init is in a new user namespace and waits for its id maps. */
export const MESSAGE_MAP_IDS = 7;
/** index: the pid of the init the first child forked (addon/init/namespaces.cc). */
export const MESSAGE_INIT_PID = 8;

const DETAIL_OFFSET = 16;
export const MESSAGE_SIZE = DETAIL_OFFSET + 1024;

export interface InitMessage {
  kind: number;
  step: number;
  index: number;
  errno: number;
  detail: string;
}

/** Decodes one message; undefined for an empty or short read (the child is gone). */
export function decodeMessage(bytes: Buffer): InitMessage | undefined {
  if (bytes.length < MESSAGE_SIZE) return undefined;
  const end = bytes.indexOf(0, DETAIL_OFFSET);
  return {
    kind: bytes.readInt32LE(0),
    step: bytes.readInt32LE(4),
    index: bytes.readInt32LE(8),
    errno: bytes.readInt32LE(12),
    detail: bytes.toString('utf8', DETAIL_OFFSET, end < 0 ? MESSAGE_SIZE : end),
  };
}

export function continueMessage(): Buffer {
  const bytes = Buffer.alloc(MESSAGE_SIZE);
  bytes.writeInt32LE(MESSAGE_CONTINUE, 0);
  return bytes;
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
    // The detail quotes the hook's output: made one line, as for runtime hooks.
    const output = message.detail.split('\n').map((line) => line.trim()).filter((line) => line !== '').join('; ');
    return `${step} #${message.index} failed: ${output}`;
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
