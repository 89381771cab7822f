// ocits start ID: run the user process of a created container.
import { defineCommand } from '../command';

export const startCommand = defineCommand({
  name: 'start',
  usage: '<container-id>',
  describe: 'start a created container',
  args: { min: 1, max: 1 },
  flags: {},
  run: async ({ global, args: [id] }) => {
    const { StateStore } = await import('../../lifecycle/store');
    const { startContainer } = await import('../../lifecycle/start');
    startContainer(new StateStore(global.root), id);
  },
});
