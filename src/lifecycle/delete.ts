// `delete`: destroys a stopped container (its cgroup and state), then runs
// its poststop hooks. A created container is deleted too, as runc does; a
// running one only with --force, which kills it first.
import { thaw } from '../cgroups/freezer';
import { removeCgroup } from '../cgroups/membership';
import { OcitsError } from '../errors';
import { OCI_VERSION } from '../spec/version';
import { runHooksWarningOnFailure } from './hooks';
import { isSameLiveProcess } from './process-status';
import { SIGKILL, awaitExit, signalInit } from './kill';
import { statusOf } from './state';
import type { StateStore } from './store';

export function deleteContainer(store: StateStore, id: string, force: boolean): void {
  store.withLock(id, () => {
    const record = store.read(id);
    const status = statusOf(store, record);
    if ((status === 'running' || status === 'paused') && !force) {
      throw new OcitsError(`cannot delete container ${id} that is not stopped: ${status}`);
    }
    if (status === 'running' || status === 'created' || status === 'paused') {
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
    if (record.cgroup !== undefined) removeCgroup(record.cgroup);
    store.remove(id);
    runHooksWarningOnFailure('poststop', record.hooks?.poststop, {
      ociVersion: OCI_VERSION, id, status: 'stopped', bundle: record.bundle, annotations: record.annotations ?? {},
    });
  });
}
