// ocits delete [--force] ID
import type { CommandModule } from 'yargs';
import type { GlobalArgs } from '../global-args';

interface DeleteArgs extends GlobalArgs {
  'container-id': string;
  force: boolean;
}

export const deleteCommand: CommandModule<GlobalArgs, DeleteArgs> = {
  command: 'delete <container-id>',
  describe: 'delete a stopped container (--force: kill it first)',
  builder: (yargs) =>
    yargs
      .positional('container-id', { type: 'string', demandOption: true })
      .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'kill a running container, then delete it' }),
  handler: async (args) => {
    const { StateStore } = await import('../../lifecycle/store');
    const { deleteContainer } = await import('../../lifecycle/delete');
    deleteContainer(new StateStore(args.root), args['container-id'], args.force);
  },
};
