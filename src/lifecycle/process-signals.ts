// Signalling a container's processes. The init process is signalled through
// a pidfd opened before its start time is checked, so a recycled pid is never
// hit; any other pid is signalled quietly, since it may have exited.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { addon } from '../addon';
import { OcitsError, isErrno } from '../errors';
import { sleepSync } from '../sleep';
import { isSameLiveProcess, readProcessStat } from './process-status';
import type { ContainerRecord } from './state';

export const SIGKILL = os.constants.signals.SIGKILL;

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
