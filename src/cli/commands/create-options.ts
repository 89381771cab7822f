// The flags `create` and `run` share, as runc spells them.
import { BUNDLE_FLAG, type FlagValues } from '../command';

export const CREATE_FLAGS = {
  bundle: BUNDLE_FLAG,
  'console-socket': { type: 'string', describe: 'unix socket that receives the pty master (process.terminal)' },
  'pid-file': { type: 'string', describe: 'file to write the container process id to' },
  'no-pivot': { type: 'boolean', default: false, describe: 'use MS_MOVE and chroot instead of pivot_root' },
  'no-new-keyring': { type: 'boolean', default: false, describe: 'accepted for runc compatibility: ocits never creates a session keyring' },
  'preserve-fds': { type: 'number', default: 0, describe: 'pass this many extra fds (3 and up) to the container' },
} as const;

export function createOptionsOf(flags: FlagValues<typeof CREATE_FLAGS>): {
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  noPivot: boolean;
  preserveFds: number;
} {
  return {
    bundle: flags.bundle,
    noPivot: flags['no-pivot'],
    preserveFds: flags['preserve-fds'],
    ...(flags['pid-file'] !== undefined ? { pidFile: flags['pid-file'] } : {}),
    ...(flags['console-socket'] !== undefined ? { consoleSocket: flags['console-socket'] } : {}),
  };
}
