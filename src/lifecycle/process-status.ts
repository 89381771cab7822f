// Whether a recorded pid is still our container's process. A pid alone is
// not enough: after the container exits the kernel may hand the same pid to an
// unrelated process, so we also compare the start time recorded at create.
import * as fs from 'node:fs';

export interface ProcessStat {
  /** One-letter state from /proc/PID/stat: R, S, D, Z, T, ... */
  state: string;
  /** Start time in clock ticks since boot (field 22). */
  startTime: number;
}

export function readProcessStat(pid: number): ProcessStat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses; everything
  // after its closing parenthesis is space-separated, starting at field 3.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0], startTime: Number(fields[19]) };
}

/** True when pid is alive, not a zombie, and started at startTime. */
export function isSameLiveProcess(pid: number, startTime: number): boolean {
  const stat = readProcessStat(pid);
  if (stat === undefined) return false;
  if (stat.state === 'Z' || stat.state === 'X') return false;
  return stat.startTime === startTime;
}
