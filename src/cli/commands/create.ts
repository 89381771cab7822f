// ocits create [--bundle DIR] [--pid-file F] [--console-socket S] ID
import { defineCommand } from '../command';
import { CREATE_FLAGS, createOptionsOf } from './create-options';

export const createCommand = defineCommand({
  name: 'create',
  usage: '[flags] <container-id>',
  describe: 'create a container; its process waits for start',
  args: { min: 1, max: 1 },
  flags: CREATE_FLAGS,
  run: async ({ global, flags, args: [id] }) => {
    const { StateStore } = await import('../../lifecycle/store');
    const { createContainer } = await import('../../lifecycle/create');
    createContainer(new StateStore(global.root), id, { ...createOptionsOf(flags), systemdCgroup: global.systemdCgroup });
  },
});
