// `kill`: signals the container's init process, or with --all every process
// in its cgroup.
import { thaw } from '../cgroups/freezer';
import { cgroupPids, killThroughCgroup } from '../cgroups/membership';
import { SIGKILL, signalInit, signalQuietly } from './process-signals';
import type { StateStore } from './store';

export function killContainer(store: StateStore, id: string, signal: number, all: boolean): void {
  store.withContainer(id, all ? 'kill --all' : 'kill', (record, status) => {
    if (all && record.cgroup !== undefined) {
      if (signal !== SIGKILL || !killThroughCgroup(record.cgroup)) {
        for (const pid of cgroupPids(record.cgroup)) signalQuietly(pid, signal);
      }
      // Frozen tasks act on SIGKILL only once thawed (v1 freezer), as runc's kill --all.
      if (signal === SIGKILL && status === 'paused') thaw(record.cgroup);
      return;
    }
    // Only --all reaches a stopped container (state.ts, as runc 1.1.5): one
    // with no cgroup of its own has nothing left to signal.
    if (status === 'stopped') return;
    signalInit(record, signal);
  });
}
