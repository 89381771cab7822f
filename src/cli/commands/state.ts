// ocits state ID: the container's state as JSON, in runc's layout.
import { writeStdout } from '../../output';
import { defineCommand } from '../command';

export const stateCommand = defineCommand({
  name: 'state',
  usage: '<container-id>',
  describe: 'print the state of a container',
  args: { min: 1, max: 1 },
  flags: {},
  run: async ({ global, args: [id] }) => {
    const { StateStore } = await import('../../lifecycle/store');
    const { containerState } = await import('../../lifecycle/state');
    writeStdout(JSON.stringify(containerState(new StateStore(global.root), id), null, 2) + '\n');
  },
});
