// Logging in the shape engines expect from runc. containerd's shim and podman
// pass `--log FILE --log-format json` and read the last "error" line of that
// file when a command fails, so every error goes there as one JSON line.
// Developer tracing uses the `debug` package; --debug (or DEBUG=ocits:*) turns
// it on and routes it into the same log.
import * as fs from 'node:fs';
import { format } from 'node:util';
import type createDebug from 'debug';
import { writeStderr } from './output';

export type LogFormat = 'text' | 'json';
export type LogLevel = 'debug' | 'warning' | 'error';

export interface LogSettings {
  /** Append entries here instead of writing them to stderr. */
  file?: string;
  format: LogFormat;
  debug: boolean;
}

let settings: LogSettings = { format: 'text', debug: false };
let logFd: number | undefined;

/** Opens the log file (created when missing, always appended to). */
export function configureLog(next: LogSettings): void {
  settings = next;
  if (next.file !== undefined) logFd = fs.openSync(next.file, 'a', 0o644);
  if (next.debug) loadDebug().enable('ocits:*');
}

export type Tracer = (formatter: string, ...args: unknown[]) => void;

/**
 * A tracer for one area of the code, e.g. tracer('store'). The debug
 * package is loaded only when tracing is on (--debug or DEBUG=...): every
 * engine operation starts a Node, and most never trace.
 */
export function tracer(area: string): Tracer {
  let trace: createDebug.Debugger | undefined;
  return (formatter, ...args) => {
    if (!settings.debug && process.env.DEBUG === undefined) return;
    if (trace === undefined) {
      trace = loadDebug()(`ocits:${area}`);
      trace.log = (...parts: unknown[]) => writeEntry('debug', format(...parts));
    }
    trace(formatter, ...args);
  };
}

let debugModule: typeof createDebug | undefined;

function loadDebug(): typeof createDebug {
  if (debugModule === undefined) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    debugModule = require('debug') as typeof createDebug;
    // debug's default adds colours and a timestamp; our entries carry their own.
    debugModule.formatArgs = function formatArgs(this: createDebug.Debugger, args: unknown[]) {
      args[0] = `${this.namespace} ${String(args[0])}`;
    };
  }
  return debugModule;
}

// logrus prints the time as RFC 3339 in whole seconds; so do we.
function timestamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function formatEntry(level: LogLevel, msg: string): string {
  if (settings.format === 'json') return JSON.stringify({ level, msg, time: timestamp() });
  return `time="${timestamp()}" level=${level} msg=${JSON.stringify(msg)}`;
}

function writeEntry(level: LogLevel, msg: string): void {
  if (logFd !== undefined) {
    fs.writeSync(logFd, formatEntry(level, msg) + '\n');
    return;
  }
  // Debug entries look like runc's on stderr too, in either format; what a
  // person must read (errors, warnings) stays one plain line.
  if (settings.format === 'json' || level === 'debug') {
    writeStderr(formatEntry(level, msg) + '\n');
    return;
  }
  const prefix = level === 'error' ? '' : `${level}: `;
  writeStderr(`ocits: ${prefix}${msg}\n`);
}

/**
 * Reports the error that ends this command. With a log file it also goes to
 * stderr as plain text, as runc does, so a person at a terminal sees it too.
 */
export function logError(msg: string): void {
  writeEntry('error', msg);
  if (logFd !== undefined) writeStderr(`ocits: ${msg}\n`);
}

/**
 * Reports a problem that does not stop the command, such as a failed
 * poststop hook: the spec has the runtime log a warning and go on.
 */
export function logWarning(msg: string): void {
  writeEntry('warning', msg);
}
