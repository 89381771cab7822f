// `run`: create and start, then (unless detached) stay with the container:
// forward our signals to it, relay its terminal, and exit with its status.
import { addon, type ExitStatus } from '../addon';
import { messageOf } from '../errors';
import { tracer } from '../log';
import { createContainer, type CreateOptions } from './create';
import { deleteContainer } from './delete';
import { startContainer } from './start';
import { forwardSignals } from './signal-forwarding';
import type { StateStore } from './store';
import { relayTerminal, type TerminalRelay } from './terminal';

const trace = tracer('run');

export interface RunOptions extends Omit<CreateOptions, 'keepConsole'> {
  detach: boolean;
  /** Keep the stopped container instead of deleting it. */
  keep: boolean;
}

/** Returns the exit status for `run` itself: the container's, 128+N for signal N. */
export async function runContainer(store: StateStore, id: string, options: RunOptions): Promise<number> {
  const foreground = !options.detach;
  const created = createContainer(store, id, { ...options, keepConsole: foreground && options.consoleSocket === undefined });
  if (!foreground) {
    startOrDelete(store, id);
    return 0;
  }
  // Wait from before start: the container can exit right away.
  const exited = addon().waitForExit(created.pid);
  const forwarders = forwardSignals(() => created.pid);
  let terminal: TerminalRelay | undefined;
  let status: ExitStatus;
  try {
    try {
      if (created.consoleMaster !== undefined) terminal = relayTerminal(created.consoleMaster);
    } catch (error) {
      deleteContainer(store, id, true);
      throw error;
    }
    startOrDelete(store, id);
    status = await exited;
  } finally {
    for (const [signal, handler] of forwarders) process.off(signal, handler);
  }
  await terminal?.finished();
  if (!options.keep) deleteContainer(store, id, true);
  return status.code ?? 128 + (status.signal ?? 0);
}

function startOrDelete(store: StateStore, id: string): void {
  try {
    startContainer(store, id);
  } catch (error) {
    try {
      deleteContainer(store, id, true);
    } catch (cleanup) {
      trace('delete after failed start: %s', messageOf(cleanup));
    }
    throw error;
  }
}

