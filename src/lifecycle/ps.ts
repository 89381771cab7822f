// `ps`: the container's processes, from its cgroup. The table is the host's
// ps(1) output cut down to the container's pids, found by the PID column of
// its header, as runc does; so any ps options that keep a PID column work.
import { spawnSync } from 'node:child_process';
import { cgroupPids } from '../cgroups/membership';
import { OcitsError } from '../errors';
import type { StateStore } from './store';

/** Host pids of every process in the container's cgroup; empty once it is gone. */
export function containerPids(store: StateStore, id: string): number[] {
  const record = store.read(id);
  return record.cgroup === undefined ? [] : cgroupPids(record.cgroup).sort((a, b) => a - b);
}

/** runc prints a Go nil slice, so no processes is "null". */
export function formatPidsJson(pids: number[]): string {
  return JSON.stringify(pids.length > 0 ? pids : null) + '\n';
}

/** Runs ps with psArgs (default -ef) and keeps the header and the container's lines. */
export function psTable(pids: number[], psArgs: string[]): string {
  const args = psArgs.length > 0 ? psArgs : ['-ef'];
  const result = spawnSync('ps', args, { encoding: 'utf8' });
  if (result.error !== undefined) throw new OcitsError(`cannot run ps: ${result.error.message}`);
  if (result.status !== 0) {
    throw new OcitsError(`ps ${args.join(' ')} failed (exit status ${result.status}): ${result.stderr.trim().split('\n')[0] ?? ''}`);
  }
  return filterPsOutput(result.stdout, pids);
}

export function filterPsOutput(output: string, pids: number[]): string {
  const [header, ...lines] = output.split('\n');
  const pidColumn = header.trim().split(/\s+/).indexOf('PID');
  if (pidColumn < 0) throw new OcitsError("couldn't find PID field in ps output");
  const wanted = new Set(pids);
  const kept = lines.filter((line) => {
    if (line.trim() === '') return false;
    const pid = Number(line.trim().split(/\s+/)[pidColumn]);
    if (!Number.isInteger(pid)) throw new OcitsError(`unable to parse pid from ps output line: ${line}`);
    return wanted.has(pid);
  });
  return [header, ...kept].map((line) => line + '\n').join('');
}
