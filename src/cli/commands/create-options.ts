// The flags `create` and `run` share, as runc spells them.
import type { Argv } from 'yargs';
import { OcitsError } from '../../errors';
import type { GlobalArgs } from '../global-args';

export interface CreateFlags {
  'container-id': string;
  bundle: string;
  'console-socket'?: string;
  'pid-file'?: string;
  'no-pivot': boolean;
  'no-new-keyring': boolean;
  'preserve-fds': number;
}

export function withCreateFlags<T extends GlobalArgs>(yargs: Argv<T>): Argv<T & CreateFlags> {
  return yargs
    .positional('container-id', { type: 'string', demandOption: true })
    .option('bundle', { alias: 'b', type: 'string', default: '.', describe: 'path to the bundle directory' })
    .option('console-socket', { type: 'string', describe: 'unix socket that receives the pty master (process.terminal)' })
    .option('pid-file', { type: 'string', describe: 'file to write the container process id to' })
    .option('no-pivot', { type: 'boolean', default: false, describe: 'use MS_MOVE and chroot instead of pivot_root' })
    .option('no-new-keyring', { type: 'boolean', default: false, describe: 'accepted for runc compatibility: ocits never creates a session keyring' })
    .option('preserve-fds', { type: 'number', default: 0, describe: 'pass this many extra fds (3 and up) to the container' }) as unknown as Argv<T & CreateFlags>;
}

export function createOptionsOf(args: CreateFlags): { bundle: string; pidFile?: string; consoleSocket?: string; noPivot: boolean } {
  if (args['preserve-fds'] !== 0) throw new OcitsError('--preserve-fds is not supported by ocits yet');
  return {
    bundle: args.bundle,
    noPivot: args['no-pivot'],
    ...(args['pid-file'] !== undefined ? { pidFile: args['pid-file'] } : {}),
    ...(args['console-socket'] !== undefined ? { consoleSocket: args['console-socket'] } : {}),
  };
}
