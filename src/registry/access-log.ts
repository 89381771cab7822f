// One line per request, as logfmt text or a JSON object (--log-format), on
// stdout: the server's output is its log.
import type { LogFormat } from '../log';
import { writeStdout } from '../output';

export interface AccessRecord {
  remote: string;
  user: string | undefined;
  method: string;
  /** The path and query as the client sent them, cut to a sane length. */
  target: string;
  status: number;
  /** Body bytes sent. */
  bytes: number;
  durationMs: number;
  agent: string | undefined;
  /** Why a request failed, when it did. */
  error?: string;
}

const MAX_TARGET = 1024;

export function formatAccessRecord(record: AccessRecord, format: LogFormat, time = new Date()): string {
  const fields = {
    time: time.toISOString(),
    remote: record.remote,
    user: record.user ?? '-',
    method: record.method,
    target: record.target.length > MAX_TARGET ? `${record.target.slice(0, MAX_TARGET)}...` : record.target,
    status: record.status,
    bytes: record.bytes,
    duration_ms: Math.round(record.durationMs * 10) / 10,
    agent: record.agent ?? '-',
    ...(record.error !== undefined ? { error: record.error } : {}),
  };
  if (format === 'json') return JSON.stringify(fields);
  // logfmt: every value that is not a plain word is JSON-quoted, so a newline in a path cannot break the line.
  return Object.entries(fields)
    .map(([key, value]) => `${key}=${typeof value === 'number' || /^[\w.:/@+-]+$/.test(value) ? value : JSON.stringify(value)}`)
    .join(' ');
}

export function writeAccessRecord(record: AccessRecord, format: LogFormat): void {
  writeStdout(`${formatAccessRecord(record, format)}\n`);
}
