// runc's global flags, shared by every command module.
import * as os from 'node:os';
import * as path from 'node:path';
import type { LogFormat } from '../log';

export type RootlessMode = 'auto' | 'true' | 'false';

export interface GlobalArgs {
  root: string;
  log?: string;
  logFormat: LogFormat;
  debug: boolean;
  rootless: RootlessMode;
  systemdCgroup: boolean;
}

/**
 * /run/ocits for root; an unprivileged user cannot write there, so like runc
 * we use $XDG_RUNTIME_DIR/ocits when it is set.
 */
export function defaultRoot(): string {
  const runtimeDir = process.env.XDG_RUNTIME_DIR;
  if (os.userInfo().uid !== 0 && runtimeDir) return path.join(runtimeDir, 'ocits');
  return '/run/ocits';
}
