// `pause` and `resume`: freeze and thaw every process of the container
// through its cgroup. As runc, a created container can be paused too, and
// the errors are runc's, which engines match.
import { freeze, thaw } from '../cgroups/freezer';
import { cgroupOf } from './state';
import type { StateStore } from './store';

export function pauseContainer(store: StateStore, id: string): void {
  store.withContainer(id, 'pause', (record) => freeze(cgroupOf(record)));
}

export function resumeContainer(store: StateStore, id: string): void {
  store.withContainer(id, 'resume', (record) => thaw(cgroupOf(record)));
}

