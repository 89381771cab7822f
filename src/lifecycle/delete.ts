// `delete`: destroys a stopped container (its cgroup and state), then runs
// its poststop hooks. A created container is deleted too, as runc does; a
// running one only with --force, which kills it first.
import { thaw } from '../cgroups/freezer';
import { removeCgroup } from '../cgroups/membership';
import { stopCreatedSlices, stopScope } from '../cgroups/systemd';
import { ContainerNotFoundError } from '../errors';
import { runHooksWarningOnFailure } from './hooks';
import { unmountContainerMounts } from './host-mounts';
import { isSameLiveProcess } from './process-status';
import { SIGKILL, awaitExit, signalInit } from './process-signals';
import { specState } from './state';
import type { StateStore } from './store';

export function deleteContainer(store: StateStore, id: string, force: boolean): void {
  try {
    deleteRecorded(store, id, force);
  } catch (error) {
    if (!(error instanceof ContainerNotFoundError)) throw error;
    // As runc: the directory a create killed before its first state write
    // is removed, and --force makes a missing container no error, which
    // engines' cleanup relies on.
    store.removeAbandoned(id);
    if (!force) throw error;
  }
}

function deleteRecorded(store: StateStore, id: string, force: boolean): void {
  store.withContainer(id, force ? 'delete --force' : 'delete', (record, status) => {
    // Under the lock, "creating" is a create that was killed: its init may
    // live on if it got as far as recording it.
    if (status === 'running' || status === 'created' || status === 'paused' || (status === 'creating' && record.pid !== undefined)) {
      try {
        signalInit(record, SIGKILL);
      } catch (error) {
        // It may have exited between the status check and the signal.
        if (isSameLiveProcess(record.pid!, record.pidStartTime!)) throw error;
      }
      // A frozen task does not die until it is thawed (v1 freezer).
      if (status === 'paused') thaw(record.cgroup!);
      awaitExit(record);
    }
    if (record.rootfsMountBefore !== undefined) unmountContainerMounts(record.rootfs, record.rootfsMountBefore);
    // systemd removes the scope's cgroup; what is left (v1 hierarchies it
    // does not manage, or a create killed early) goes as without it.
    if (record.systemd !== undefined) stopScope(record.systemd);
    if (record.cgroup !== undefined) removeCgroup(record.cgroup);
    // Last, once the scope's cgroups are gone from every hierarchy: an empty slice is one no one else uses.
    if (record.systemd !== undefined && record.cgroup !== undefined) stopCreatedSlices(record.systemd, record.cgroup);
    store.remove(id);
    runHooksWarningOnFailure('poststop', record.hooks?.poststop, specState(record, 'stopped'));
  });
}
