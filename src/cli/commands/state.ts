// ocits state ID: the container's state as JSON, in runc's layout.
import type { CommandModule } from 'yargs';
import type { GlobalArgs } from '../global-args';

interface StateArgs extends GlobalArgs {
  'container-id': string;
}

export const stateCommand: CommandModule<GlobalArgs, StateArgs> = {
  command: 'state <container-id>',
  describe: 'print the state of a container',
  builder: (yargs) => yargs.positional('container-id', { type: 'string', demandOption: true }),
  handler: async (args) => {
    const { StateStore } = await import('../../lifecycle/store');
    const { containerState } = await import('../../lifecycle/state');
    const state = containerState(new StateStore(args.root), args['container-id']);
    process.stdout.write(JSON.stringify(state, null, 2) + '\n');
  },
};
