// `exec`: runs another process in a running container. The process spec is
// --process's file or the container's own process with the flags applied
// (plan/exec.ts builds it and the rest of the plan); the addon's child joins the container's cgroup and namespaces, forks into
// its pid namespace and runs the process with the init's code for limits,
// credentials and terminal. Without --detach we stay, as a child subreaper,
// and exit with the process's status.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addon } from '../addon';
import type { CgroupJoin } from '../addon-plan';
import { openCgroupJoinFds } from '../cgroups/membership';
import { cgroupForExec } from '../cgroups/placement';
import { OcitsError } from '../errors';
import { tracer } from '../log';
import { type ExecProcessOptions, openExecNamespaces, planExecProcess, resolveProcess } from '../plan/exec';
import { liveHost } from '../plan/host';
import { isOpen } from '../plan/passed-fds';
import { awaitExec } from '../plan/protocol';
import { planSeccomp, sendToSeccompListener } from '../plan/seccomp';
import { isSameLiveProcess } from './process-status';
import { assertSealedExecutable } from './sealed-exe';
import { openContainerRoot } from './host-mounts';
import { specState } from './state';
import { forwardSignals } from './signal-forwarding';
import type { StateStore } from './store';
import { openConsole, relayTerminal, type ConsoleChannel, type TerminalRelay } from './terminal';
import { writeFileAtomically } from './write-file';

const trace = tracer('exec');

export interface ExecOptions extends ExecProcessOptions {
  consoleSocket?: string;
  detach: boolean;
  pidFile?: string;
  preserveFds: number;
  ignorePaused: boolean;
}

/** Returns the status for `exec` itself: the process's, 128+N for signal N; 0 when detached. */
export async function execInContainer(store: StateStore, id: string, options: ExecOptions): Promise<number> {
  if (options.detach) {
    startProcess(store, id, options);
    return 0;
  }
  // Before the process starts: it may be signalled as soon as it runs.
  let started: StartedProcess | undefined;
  const forwarders = forwardSignals(() => started?.pid);
  let terminal: TerminalRelay | undefined;
  try {
    started = startProcess(store, id, options);
    const exited = addon().waitForExit(started.pid);
    if (started.consoleMaster !== undefined) terminal = relayTerminal(started.consoleMaster);
    const status = await exited;
    await terminal?.finished();
    return status.code ?? 128 + (status.signal ?? 0);
  } finally {
    for (const [signal, handler] of forwarders) process.off(signal, handler);
  }
}

interface StartedProcess {
  /** Host pid. */
  pid: number;
  /** The pty master, for a foreground exec with a terminal. */
  consoleMaster?: number;
}

function startProcess(store: StateStore, id: string, options: ExecOptions): StartedProcess {
  if (!Number.isInteger(options.preserveFds) || options.preserveFds < 0) {
    throw new OcitsError(`--preserve-fds: ${options.preserveFds} is not a number of fds`);
  }
  // As create: each must be open, which also bounds the count the addon loops over as an int.
  for (let fd = 3; fd < 3 + options.preserveFds; ++fd) {
    if (!isOpen(fd)) throw new OcitsError(`preserved fd ${fd} (--preserve-fds ${options.preserveFds}) is not open`);
  }
  // The lock goes once the child is spawned: the child has dropped our fds,
  // the lock's among them, and a paused container's `resume` must not wait
  // for a process it froze.
  const operation = options.ignorePaused ? 'exec --ignore-paused' : 'exec';
  const { spawned, console, handOverListener } = store.withContainer(id, operation, (record, status) => {
    const opened: number[] = [];
    let console: ConsoleChannel | undefined;
    try {
      const resolved = resolveProcess(record.bundle, options, liveHost);
      const processSpec = resolved.process;
      // The container's filter holds for every process in it, as in runc.
      const containerSeccomp = resolved.config.linux?.seccomp;
      const seccomp = containerSeccomp !== undefined ? planSeccomp(containerSeccomp, liveHost.seccomp) : null;
      const terminal = processSpec.terminal === true;
      checkConsole(options, terminal);

      const namespaces = openExecNamespaces(record.pid!, opened);
      const root = record.rootfsMountBefore !== undefined ? openContainerRoot(record.pid!, opened) : -1;
      // Opened first, checked second: the fds are the recorded process's if it
      // is still alive now.
      if (!isSameLiveProcess(record.pid!, record.pidStartTime!)) throw new OcitsError('cannot exec in a stopped container');
      const cgroup: CgroupJoin = record.cgroup !== undefined ? openCgroupJoinFds(cgroupForExec(record.cgroup, record.pid!)) : { dir: -1, tasks: [] };
      opened.push(...cgroup.tasks, ...(cgroup.dir >= 0 ? [cgroup.dir] : []));
      console = openConsole({ consoleSocket: options.consoleSocket }, terminal);

      // Before the intermediate child exits, or its child goes to init.
      if (!options.detach) addon().becomeChildSubreaper();
      assertSealedExecutable();
      const child = addon().spawnExecProcess({
        cgroup,
        namespaces,
        preservedFds: options.preserveFds,
        oomScoreAdj: processSpec.oomScoreAdj !== undefined ? String(processSpec.oomScoreAdj) : null,
        root,
        process: { ...planExecProcess(processSpec, console.childEnd, record.pid!, liveHost), seccomp },
      });
      trace('exec child %d', child.pid);
      // As runc: the agent gets each exec'd process's notify fd too, with the container's state.
      const state = specState(record, status);
      const handOverListener = (notifyFd: number, pid: number) => sendToSeccompListener(containerSeccomp!, notifyFd, pid, state);
      return { spawned: child, console, handOverListener };
    } catch (error) {
      console?.close();
      throw error;
    } finally {
      for (const fd of opened) fs.closeSync(fd);
    }
  });
  try {
    console.closeChildEnd();
    const pid = awaitExec(spawned, options.detach, handOverListener);
    const consoleMaster = console.receiveMaster();
    // runc writes the pid file with or without --detach.
    if (options.pidFile !== undefined) writeFileAtomically(path.resolve(options.pidFile), String(pid), 'pid file');
    return { pid, ...(consoleMaster !== undefined ? { consoleMaster } : {}) };
  } finally {
    console.close();
  }
}

function checkConsole(options: ExecOptions, terminal: boolean): void {
  if (options.detach && terminal && options.consoleSocket === undefined) {
    throw new OcitsError('cannot allocate tty if ocits will detach without setting console socket');
  }
  if (options.consoleSocket !== undefined && !(options.detach && terminal)) {
    throw new OcitsError('cannot use console socket if ocits will not detach or allocate tty');
  }
}

