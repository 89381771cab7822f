// ocits delete [--force] ID
import { defineCommand } from '../command';

export const deleteCommand = defineCommand({
  name: 'delete',
  usage: '[--force] <container-id>',
  describe: 'delete a stopped container (--force: kill it first)',
  args: { min: 1, max: 1 },
  flags: {
    force: { type: 'boolean', alias: 'f', default: false, describe: 'kill a running container, then delete it' },
  },
  run: async ({ global, flags, args: [id] }) => {
    const { StateStore } = await import('../../lifecycle/store');
    const { deleteContainer } = await import('../../lifecycle/delete');
    deleteContainer(new StateStore(global.root), id, flags.force);
  },
});
