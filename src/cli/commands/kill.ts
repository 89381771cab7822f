// ocits kill [--all] ID [SIGNAL]: SIGTERM unless told otherwise.
import type { CommandModule } from 'yargs';
import type { GlobalArgs } from '../global-args';

interface KillArgs extends GlobalArgs {
  'container-id': string;
  signal: string;
  all: boolean;
}

export const killCommand: CommandModule<GlobalArgs, KillArgs> = {
  command: 'kill <container-id> [signal]',
  describe: 'send a signal to a container (default SIGTERM)',
  builder: (yargs) =>
    yargs
      .positional('container-id', { type: 'string', demandOption: true })
      .positional('signal', { type: 'string', default: 'SIGTERM', describe: 'a name (KILL, SIGKILL) or a number' })
      .option('all', { alias: 'a', type: 'boolean', default: false, describe: "signal every process in the container's cgroup" }),
  handler: async (args) => {
    const { StateStore } = await import('../../lifecycle/store');
    const { parseSignal } = await import('../../lifecycle/signals');
    const { killContainer } = await import('../../lifecycle/kill');
    // runc treats an empty signal as the default too.
    const signal = parseSignal(args.signal === '' ? 'SIGTERM' : args.signal);
    killContainer(new StateStore(args.root), args['container-id'], signal, args.all);
  },
};
