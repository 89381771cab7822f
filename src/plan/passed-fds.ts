// The caller's fds that `create` and `run` hand to the container process, as
// runc does: first the systemd socket-activation fds (LISTEN_FDS, when
// LISTEN_PID names us), then --preserve-fds N more. They sit at 3 and up in
// our own process (a caller's fds come before any Node opens), and the
// process gets them at the same numbers; every other fd is closed.
import * as fs from 'node:fs';
import { OcitsError } from '../errors';

export interface PassedFds {
  /** fds 3 .. 3+count-1. */
  count: number;
  /** Added to the process's environment. */
  env: string[];
}

export function passedFds(preserveFds: number, environment: NodeJS.ProcessEnv = process.env): PassedFds {
  if (!Number.isInteger(preserveFds) || preserveFds < 0) {
    throw new OcitsError(`--preserve-fds: ${preserveFds} is not a number of fds`);
  }
  const listenFds = socketActivationFds(environment);
  const count = listenFds + preserveFds;
  for (let fd = 3; fd < 3 + count; ++fd) {
    if (!isOpen(fd)) {
      const what = fd < 3 + listenFds ? `LISTEN_FDS fd ${fd}` : `preserved fd ${fd} (--preserve-fds ${preserveFds})`;
      throw new OcitsError(`${what} is not open`);
    }
  }
  // runc tells the process it is fd 3's listener as pid 1 of its namespace.
  return { count, env: listenFds > 0 ? [`LISTEN_FDS=${listenFds}`, 'LISTEN_PID=1'] : [] };
}

// Whether fd is open. As in runc, a number the caller left free may hold
// one of our own fds (Node's epoll, say), and --preserve-fds passes it too:
// Node marks the caller's fds close-on-exec as it does its own, so nothing
// tells them apart. Passing more than the caller opened is the caller's error.
export function isOpen(fd: number): boolean {
  try {
    fs.fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

// sd_listen_fds(3): the fds are ours only when LISTEN_PID is our pid.
function socketActivationFds(environment: NodeJS.ProcessEnv): number {
  const count = environment.LISTEN_FDS;
  if (count === undefined || count === '' || environment.LISTEN_PID !== String(process.pid)) return 0;
  if (!/^[0-9]+$/.test(count)) return 0;
  return Number(count);
}
