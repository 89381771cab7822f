// runc's global flags, shared by every command module.
import * as path from 'node:path';
import { OcitsError } from '../errors';
import type { LogFormat } from '../log';
import type { FlagSpecs, GlobalArgs, ParsedFlags, RootlessMode } from './command';

export const GLOBAL_FLAGS: FlagSpecs = {
  root: { type: 'string', describe: 'directory for container state (keep it on tmpfs); default /run/ocits, or $XDG_RUNTIME_DIR/ocits for a non-root user' },
  log: { type: 'string', describe: 'write log entries to this file instead of stderr' },
  'log-format': { type: 'string', default: 'text', describe: 'log entry format: text or json' },
  debug: { type: 'boolean', default: false, describe: 'log debug entries' },
  rootless: { type: 'string', default: 'auto', describe: 'ignore cgroup permission errors: auto, true or false' },
  'systemd-cgroup': { type: 'boolean', default: false, describe: 'systemd owns the container cgroup: a transient scope from linux.cgroupsPath "slice:prefix:name"' },
};

const LOG_FORMATS: readonly string[] = ['text', 'json'];
const ROOTLESS_MODES: readonly string[] = ['auto', 'true', 'false'];

/** Checks the parsed global flags and fills in the computed default of --root. */
export function globalArgsOf(flags: ParsedFlags): GlobalArgs {
  const logFormat = flags['log-format'] as string;
  if (!LOG_FORMATS.includes(logFormat)) throw new OcitsError(`invalid log-format: ${logFormat}`);
  const rootless = flags.rootless as string;
  if (!ROOTLESS_MODES.includes(rootless)) {
    throw new OcitsError(`--rootless: ${JSON.stringify(rootless)} is not one of auto, true, false`);
  }
  return {
    root: (flags.root as string | undefined) ?? defaultRoot(),
    ...(flags.log !== undefined ? { log: flags.log as string } : {}),
    logFormat: logFormat as LogFormat,
    debug: flags.debug as boolean,
    rootless: rootless as RootlessMode,
    systemdCgroup: flags['systemd-cgroup'] as boolean,
  };
}

/**
 * /run/ocits for root; an unprivileged user cannot write there, so like runc
 * we use $XDG_RUNTIME_DIR/ocits when it is set.
 */
export function defaultRoot(): string {
  const runtimeDir = process.env.XDG_RUNTIME_DIR;
  if (process.getuid?.() !== 0 && runtimeDir) return path.join(runtimeDir, 'ocits');
  return '/run/ocits';
}
