// ocits create [--bundle DIR] [--pid-file F] [--console-socket S] ID
import type { CommandModule } from 'yargs';
import type { GlobalArgs } from '../global-args';
import { createOptionsOf, withCreateFlags, type CreateFlags } from './create-options';

export const createCommand: CommandModule<GlobalArgs, GlobalArgs & CreateFlags> = {
  command: 'create <container-id>',
  describe: 'create a container; its process waits for start',
  builder: (yargs) => withCreateFlags(yargs),
  handler: async (args) => {
    const { StateStore } = await import('../../lifecycle/store');
    const { createContainer } = await import('../../lifecycle/create');
    createContainer(new StateStore(args.root), args['container-id'], createOptionsOf(args));
  },
};
