// ocits start ID: run the user process of a created container.
import type { CommandModule } from 'yargs';
import type { GlobalArgs } from '../global-args';

interface StartArgs extends GlobalArgs {
  'container-id': string;
}

export const startCommand: CommandModule<GlobalArgs, StartArgs> = {
  command: 'start <container-id>',
  describe: 'start a created container',
  builder: (yargs) => yargs.positional('container-id', { type: 'string', demandOption: true }),
  handler: async (args) => {
    const { StateStore } = await import('../../lifecycle/store');
    const { startContainer } = await import('../../lifecycle/start');
    startContainer(new StateStore(args.root), args['container-id']);
  },
};
