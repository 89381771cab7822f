// The container's terminal. With --console-socket the pty master goes to the
// engine's socket; `run` and `exec` in the foreground take it themselves and
// relay it to their own stdin and stdout.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as Tty from 'node:tty';
import { addon } from '../addon';
import { OcitsError, messageOf, quoted } from '../errors';
import { writeAll } from '../output';
import { once } from './cleanup';

export interface ConsoleChannel {
  /** The fd the init process sends the pty master on, or -1. */
  childEnd: number;
  closeChildEnd(): void;
  receiveMaster(): number | undefined;
  close(): void;
}

// With --console-socket the master goes straight to the engine's socket. For
// `run` and `exec` in the foreground it comes back to us over a socketpair.
export function openConsole(
  options: { consoleSocket?: string; keepConsole?: boolean },
  terminal: boolean,
): ConsoleChannel {
  if (!terminal) {
    return { childEnd: -1, closeChildEnd: () => {}, receiveMaster: () => undefined, close: () => {} };
  }
  if (options.consoleSocket !== undefined) {
    const socket = connectConsoleSocket(options.consoleSocket);
    const closeSocket = once(() => fs.closeSync(socket));
    return { childEnd: socket, closeChildEnd: closeSocket, receiveMaster: () => undefined, close: closeSocket };
  }
  const [ours, theirs] = addon().socketPair();
  const open = new Set([ours, theirs]);
  const closeOne = (fd: number): void => {
    if (open.delete(fd)) fs.closeSync(fd);
  };
  return {
    childEnd: theirs,
    closeChildEnd: () => closeOne(theirs),
    receiveMaster: () => {
      const master = addon().receiveFd(ours);
      closeOne(ours);
      return master;
    },
    close: () => {
      closeOne(ours);
      closeOne(theirs);
    },
  };
}

function connectConsoleSocket(socketPath: string): number {
  try {
    return addon().connectUnix(path.resolve(socketPath));
  } catch (error) {
    throw new OcitsError(`--console-socket: cannot connect to ${quoted(socketPath)}: ${messageOf(error)}`);
  }
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
