// `kill`: signals the container's init process, or with --all every process
// in its cgroup. The init process is signalled through a pidfd opened before
// its start time is checked, so a recycled pid is never hit.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { addon } from '../addon';
import { thaw } from '../cgroups/freezer';
import { cgroupPids, killThroughCgroup } from '../cgroups/membership';
import { OcitsError, isErrno } from '../errors';
import { sleepSync } from '../sleep';
import { isSameLiveProcess, readProcessStat } from './process-status';
import { statusOf } from './state';
import type { ContainerRecord, StateStore } from './store';

export const SIGKILL = os.constants.signals.SIGKILL;

export function killContainer(store: StateStore, id: string, signal: number, all: boolean): void {
  store.withLock(id, () => {
    const record = store.read(id);
    const status = statusOf(store, record);
    // Engines match "container not running".
    if (status === 'stopped') throw new OcitsError('container not running');
    if (status === 'creating') throw new OcitsError(`container ${id} is still being created`);
    if (all && record.cgroup !== undefined) {
      if (signal !== SIGKILL || !killThroughCgroup(record.cgroup)) {
        for (const pid of cgroupPids(record.cgroup)) signalQuietly(pid, signal);
      }
      // Frozen tasks act on SIGKILL only once thawed (v1 freezer), as runc's kill --all.
      if (signal === SIGKILL && status === 'paused') thaw(record.cgroup);
      return;
    }
    signalInit(record, signal);
  });
}

export function signalInit(record: ContainerRecord, signal: number): void {
  let pidfd: number;
  try {
    pidfd = addon().pidfdOpen(record.pid!);
  } catch (error) {
    // Exited (and reaped) since its status was read.
    if (isErrno(error, 'ESRCH')) throw new OcitsError('container not running');
    throw error;
  }
  try {
    if (readProcessStat(record.pid!)?.startTime !== record.pidStartTime) throw new OcitsError('container not running');
    addon().pidfdSendSignal(pidfd, signal);
  } finally {
    fs.closeSync(pidfd);
  }
}

/** Signals pid; one that has already exited is not an error. */
export function signalQuietly(pid: number, signal: number): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if (!isErrno(error, 'ESRCH')) throw error; // exited meanwhile
  }
}

// SIGKILL takes effect at once, but the exit itself may take a moment, and a
// command that returns before it lets the next one see the container running.
export function awaitExit(record: ContainerRecord): void {
  for (let waited = 0; isSameLiveProcess(record.pid!, record.pidStartTime!); waited++) {
    if (waited > 10000) throw new OcitsError(`container ${record.id}: process ${record.pid} did not exit after SIGKILL`);
    sleepSync(1);
  }
}
