// linux.sysctl: only keys the kernel keeps per namespace, and only when the
// container has that namespace of its own, so a container can never change
// the host's settings. The rules are runc's (libcontainer/configs/validate).
import type { Sysctl } from '../addon-plan';
import { OcitsError } from '../errors';
import type { RuntimeConfig } from '../spec/types';

// The System V IPC keys the ipc namespace holds; fs.mqueue.* is too.
const IPC_KEYS = new Set([
  'kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem',
  'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced',
]);

const KEY_SYNTAX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$/;

/** Why key may not be set with these namespaces, or undefined when it may. */
function refusal(key: string, namespaces: ReadonlySet<string>): string | undefined {
  if (IPC_KEYS.has(key) || key.startsWith('fs.mqueue.')) {
    return namespaces.has('ipc') ? undefined : 'is not allowed in the host ipc namespace';
  }
  if (key.startsWith('net.')) {
    return namespaces.has('network') ? undefined : 'is not allowed in the host network namespace';
  }
  if (namespaces.has('uts')) {
    if (key === 'kernel.domainname') return undefined;
    if (key === 'kernel.hostname') return 'is not allowed: it conflicts with the /hostname field';
  }
  return 'is not in a separate kernel namespace';
}

export function planSysctls(config: RuntimeConfig): Sysctl[] {
  const namespaces = new Set((config.linux?.namespaces ?? []).map((namespace) => namespace.type));
  return Object.entries(config.linux?.sysctl ?? {}).map(([key, value]) => {
    // The key becomes a path under /proc/sys; nothing may climb out of it.
    if (!KEY_SYNTAX.test(key)) throw new OcitsError(`/linux/sysctl/${key}: not a sysctl name`);
    const problem = refusal(key, namespaces);
    if (problem !== undefined) throw new OcitsError(`/linux/sysctl/${key}: sysctl ${key} ${problem}`);
    return { path: `proc/sys/${key.replace(/\./g, '/')}`, value, key };
  });
}
