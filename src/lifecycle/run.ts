// `run`: create and start, then (unless detached) stay with the container:
// forward our signals to it, relay its terminal, and exit with its status.
import type * as Tty from 'node:tty';
import { addon, type ExitStatus } from '../addon';
import { messageOf } from '../errors';
import { tracer } from '../log';
import { writeAll } from '../output';
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

/**
 * Sends the signals we get on to target(). Node delivers a signal from the
 * event loop, so handlers installed before a synchronous spawn also catch
 * what arrives during it, once target() knows the pid.
 */
export function forwardSignals(target: () => number | undefined): Array<[NodeJS.Signals, () => void]> {
  return FORWARDED_SIGNALS.map((signal) => {
    const handler = (): void => {
      const pid = target();
      if (pid === undefined) return;
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
  // Our terminal's size goes to the pty, now and on every change; the kernel
  // then sends SIGWINCH to the container's foreground processes.
  const resize = (): void => addon().copyWindowSize(0, master);
  if (raw) {
    resize();
    process.on('SIGWINCH', resize);
  }
  const forward = (data: Buffer): void => {
    try {
      writeAll(master, data);
    } catch {
      // the container's side is gone
    }
  };
  stdin.on('data', forward);
  return {
    finished: async () => {
      await closed;
      stdin.off('data', forward);
      process.off('SIGWINCH', resize);
      if (raw) stdin.setRawMode(false);
      stdin.pause();
      stdin.unref?.();
    },
  };
}
