// `events`: the container's stats every --interval, and an "oom" event each
// time the kernel's OOM killer strikes in its cgroup, as runc's JSON lines
// ({"type","id","data"}); --stats prints one stats event and exits. The OOM
// counter (memory.oom_control or memory.events) is polled between stats.
// Unlike runc, which keeps logging errors, the stream ends once the
// container has stopped (after its last OOM event).
import * as fs from 'node:fs';
import { oomKillCount, readStats } from '../cgroups/stats';
import { OcitsError } from '../errors';
import { sleepSync } from '../sleep';
import { cgroupOf, statusOf } from './state';
import type { StateStore } from './store';

export interface ContainerEvent {
  type: 'stats' | 'oom';
  id: string;
  data?: unknown;
}

const OOM_POLL_MS = 100;

export function statsEvent(store: StateStore, id: string): ContainerEvent {
  const { record } = store.readFor(id, 'events');
  return { type: 'stats', id, data: readStats(cgroupOf(record)) };
}

/** Writes events to fd until the container stops. */
export function watchEvents(store: StateStore, id: string, intervalMs: number, fd: number): void {
  const { record } = store.readFor(id, 'events');
  const cgroup = cgroupOf(record);
  let kills = oomKillCount(cgroup) ?? 0;
  let nextStats = Date.now() + intervalMs;
  for (;;) {
    const now = oomKillCount(cgroup) ?? kills;
    if (now > kills) fs.writeSync(fd, formatEvent({ type: 'oom', id }));
    kills = Math.max(kills, now);
    if (statusOf(store.containerDir(id), record) === 'stopped') return;
    if (Date.now() >= nextStats) {
      fs.writeSync(fd, formatEvent({ type: 'stats', id, data: readStats(cgroup) }));
      nextStats += intervalMs;
    }
    sleepSync(Math.max(1, Math.min(OOM_POLL_MS, nextStats - Date.now())));
  }
}

/** One JSON line; bigint counters are printed as exact JSON numbers. */
export function formatEvent(event: ContainerEvent): string {
  const marked = JSON.stringify(event, (_key, value: unknown) => (typeof value === 'bigint' ? `\u0000${value}\u0000` : value));
  return marked.replace(/"\\u0000(-?\d+)\\u0000"/g, '$1') + '\n';
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };

/** A Go duration ("5s", "100ms", "1m30s") in milliseconds, as runc's --interval takes. */
export function parseDuration(text: string): number {
  const pattern = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let end = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    total += Number(match[1]) * DURATION_UNITS[match[2]];
    end = pattern.lastIndex;
  }
  if (text === '' || end !== text.length) throw new OcitsError(`--interval: invalid duration ${JSON.stringify(text)}`);
  if (total <= 0) throw new OcitsError('duration interval must be greater than 0');
  return total;
}
