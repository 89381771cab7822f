// ocits pause ID: suspend every process in a container (its cgroup's freezer).
import { defineCommand } from '../command';

export const pauseCommand = defineCommand({
  name: 'pause',
  usage: '<container-id>',
  describe: 'suspend every process in a container',
  args: { min: 1, max: 1 },
  flags: {},
  run: async ({ global, args: [id] }) => {
    const { StateStore } = await import('../../lifecycle/store');
    const { pauseContainer } = await import('../../lifecycle/pause');
    pauseContainer(new StateStore(global.root), id);
  },
});
