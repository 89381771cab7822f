// `pause` and `resume`: freeze and thaw every process of the container
// through its cgroup. As runc, a created container can be paused too, and
// the errors are runc's, which engines match.
import { freeze, thaw } from '../cgroups/freezer';
import type { ContainerCgroup } from '../cgroups/paths';
import { OcitsError } from '../errors';
import type { ContainerRecord, StateStore } from './store';

export function pauseContainer(store: StateStore, id: string): void {
  store.withContainer(id, 'pause', (record) => freeze(cgroupOf(record)));
}

export function resumeContainer(store: StateStore, id: string): void {
  store.withContainer(id, 'resume', (record) => thaw(cgroupOf(record)));
}

export function cgroupOf(record: ContainerRecord): ContainerCgroup {
  if (record.cgroup === undefined) throw new OcitsError(`container ${record.id} has no cgroup`);
  return record.cgroup;
}
