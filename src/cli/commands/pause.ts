// ocits pause ID: suspend every process in a container (its cgroup's freezer).
import type { CommandModule } from 'yargs';
import type { GlobalArgs } from '../global-args';

interface PauseArgs extends GlobalArgs {
  'container-id': string;
}

export const pauseCommand: CommandModule<GlobalArgs, PauseArgs> = {
  command: 'pause <container-id>',
  describe: 'suspend every process in a container',
  builder: (yargs) => yargs.positional('container-id', { type: 'string', demandOption: true }),
  handler: async (args) => {
    const { StateStore } = await import('../../lifecycle/store');
    const { pauseContainer } = await import('../../lifecycle/pause');
    pauseContainer(new StateStore(args.root), args['container-id']);
  },
};
