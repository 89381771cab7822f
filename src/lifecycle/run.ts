// `run`: create and start, then (unless detached) stay with the container:
// forward our signals to it, relay its terminal, and exit with its status.
import * as fs from 'node:fs';
import type * as Tty from 'node:tty';
import { addon, type ExitStatus } from '../addon';
import { isErrno, messageOf } from '../errors';
import { tracer } from '../log';
import { createContainer, type CreateOptions } from './create';
import { deleteContainer } from './delete';
import { startContainer } from './start';
import type { StateStore } from './store';

const trace = tracer('run');

export interface RunOptions extends Omit<CreateOptions, 'keepConsole'> {
  detach: boolean;
  /** Keep the stopped container instead of deleting it. */
  keep: boolean;
}

// What a shell in front of `run` may send that the container should get.
const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

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
  const forwarders = forwardSignals(created.pid);
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

export function forwardSignals(pid: number): Array<[NodeJS.Signals, () => void]> {
  return FORWARDED_SIGNALS.map((signal) => {
    const handler = (): void => {
      try {
        process.kill(pid, signal);
      } catch {
        // it has exited; waitForExit reports that
      }
    };
    process.on(signal, handler);
    return [signal, handler];
  });
}

export interface TerminalRelay {
  /** Resolves once the container's output is all written out. */
  finished(): Promise<void>;
}

// Our stdin goes to the pty, the pty's output to our stdout; with a terminal
// of our own it is put in raw mode so keys reach the container unchanged.
export function relayTerminal(master: number): TerminalRelay {
  // libuv treats the master as a terminal: read it as one, and write to it
  // directly, since a second handle on the same fd is not allowed.
  // Loaded here: node:tty brings the stream and net modules, 6 ms that a
  // container without a terminal should not pay.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const tty = require('node:tty') as typeof Tty;
  const pty = new tty.ReadStream(master);
  const closed = new Promise<void>((resolve) => {
    pty.on('close', () => resolve());
    // The kernel reports EIO on the master once the container's side is gone.
    pty.on('error', () => resolve());
  });
  pty.pipe(process.stdout, { end: false });
  const stdin = process.stdin;
  const raw = stdin.isTTY === true;
  if (raw) stdin.setRawMode(true);
  const forward = (data: Buffer): void => writeAll(master, data);
  stdin.on('data', forward);
  return {
    finished: async () => {
      await closed;
      stdin.off('data', forward);
      if (raw) stdin.setRawMode(false);
      stdin.pause();
      stdin.unref?.();
    },
  };
}

function writeAll(fd: number, data: Buffer): void {
  let offset = 0;
  while (offset < data.length) {
    try {
      offset += fs.writeSync(fd, data, offset);
    } catch (error) {
      if (!isErrno(error, 'EAGAIN')) return; // the container's side is gone
    }
  }
}
