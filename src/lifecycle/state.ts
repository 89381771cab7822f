// `state`: the container's status is read from the live process, never from
// a stored field, so it is right even after the container exits on its own.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isFrozen } from '../cgroups/freezer';
import { OCI_VERSION } from '../spec/version';
import type { ContainerStatus } from '../spec/types';
import { isSameLiveProcess } from './process-status';
import { EXEC_FIFO, type ContainerRecord, type StateStore } from './store';

/** The state document as runc prints it: the OCI state plus rootfs, created and owner. */
export interface ContainerStateReport {
  ociVersion: string;
  id: string;
  pid: number;
  status: ContainerStatus;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
}

export function statusOf(store: StateStore, record: ContainerRecord): ContainerStatus {
  if (record.status === 'creating') return 'creating';
  if (record.pid === undefined || record.pidStartTime === undefined) return 'stopped';
  if (!isSameLiveProcess(record.pid, record.pidStartTime)) return 'stopped';
  // As runc: a frozen cgroup makes a created or running container paused.
  if (record.cgroup !== undefined && isFrozen(record.cgroup)) return 'paused';
  const fifo = path.join(store.containerDir(record.id), EXEC_FIFO);
  return fs.existsSync(fifo) ? 'created' : 'running';
}

export function containerState(store: StateStore, id: string): ContainerStateReport {
  const record = store.read(id);
  const status = statusOf(store, record);
  return {
    ociVersion: OCI_VERSION,
    id: record.id,
    // runc reports pid 0 once the process is gone; a stale pid could name another process.
    pid: status === 'stopped' ? 0 : (record.pid ?? 0),
    status,
    bundle: record.bundle,
    rootfs: record.rootfs,
    created: record.created,
    owner: record.owner,
    ...(record.annotations !== undefined ? { annotations: record.annotations } : {}),
  };
}
