// `start`: opens exec.fifo, which lets the waiting init process run the
// startContainer hooks and execve the user's program. The init process writes
// "0" once the fifo is open and, if a hook or execve then fails, a failure
// message after it; end of file means execve succeeded (the fifo is
// close-on-exec) or the process died.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addon } from '../addon';
import { OcitsError, isErrno } from '../errors';
import { decodeMessage, describeFailure } from '../plan/protocol';
import { runHooks } from './hooks';
import { SIGKILL, awaitExit, signalQuietly } from './process-signals';
import { isSameLiveProcess } from './process-status';
import { EXEC_FIFO, specState } from './state';
import type { ContainerRecord, StateStore } from './store';

export function startContainer(store: StateStore, id: string): void {
  store.withContainer(id, 'start', (record) => {
    const fifo = path.join(store.containerDir(id), EXEC_FIFO);
    const reply = readFifo(fifo, record);
    fs.rmSync(fifo, { force: true });
    if (reply.length === 0) throw new OcitsError('container init exited before start');
    const failure = decodeMessage(reply.subarray(1));
    if (failure !== undefined) throw new OcitsError(describeFailure(failure));

    // runtime-spec: a failed poststart hook is an error that stops the container.
    const state = specState(record, 'running');
    try {
      runHooks('poststart', record.hooks?.poststart, state);
    } catch (error) {
      signalQuietly(record.pid!, SIGKILL);
      awaitExit(record);
      throw error;
    }
  });
}

// Reads everything the init process writes until it closes the fifo. The
// read end is non-blocking so a process that dies before opening its end
// cannot hang us.
const LIVENESS_CHECK_MS = 50;

function readFifo(fifo: string, record: ContainerRecord): Buffer {
  const fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const chunks: Buffer[] = [];
  const chunk = Buffer.alloc(4096);
  let gone = false;
  try {
    for (;;) {
      let count: number;
      try {
        count = fs.readSync(fd, chunk);
      } catch (error) {
        if (!isErrno(error, 'EAGAIN')) throw error;
        count = -1;
      }
      if (count > 0) {
        chunks.push(Buffer.from(chunk.subarray(0, count)));
        continue;
      }
      // End of file after "0": the writer is gone, by execve or by exit.
      if (count === 0 && chunks.length > 0) break;
      if (gone) break;
      // A dead process gets one more read: it may have written "0", run and
      // exited since the last one.
      gone = !isSameLiveProcess(record.pid!, record.pidStartTime!);
      if (gone) continue;
      // Until the init opens its end the fifo never reads as ready, so a
      // timeout lets us look again whether the init is still alive.
      addon().waitReadable(fd, LIVENESS_CHECK_MS);
    }
  } finally {
    fs.closeSync(fd);
  }
  return Buffer.concat(chunks);
}
