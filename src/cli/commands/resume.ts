// ocits resume ID: resume every process of a paused container (its cgroup's freezer).
import { defineCommand } from '../command';

export const resumeCommand = defineCommand({
  name: 'resume',
  usage: '<container-id>',
  describe: 'resume every process of a paused container',
  args: { min: 1, max: 1 },
  flags: {},
  run: async ({ global, args: [id] }) => {
    const { StateStore } = await import('../../lifecycle/store');
    const { resumeContainer } = await import('../../lifecycle/pause');
    resumeContainer(new StateStore(global.root), id);
  },
});
