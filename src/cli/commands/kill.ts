// ocits kill [--all] ID [SIGNAL]: SIGTERM unless told otherwise.
import { defineCommand } from '../command';

export const killCommand = defineCommand({
  name: 'kill',
  usage: '[--all] <container-id> [signal]',
  describe: 'send a signal to a container (default SIGTERM): a name (KILL, SIGKILL) or a number',
  args: { min: 1, max: 2 },
  flags: {
    all: { type: 'boolean', alias: 'a', default: false, describe: "signal every process in the container's cgroup" },
  },
  run: async ({ global, flags, args: [id, signalName] }) => {
    const { StateStore } = await import('../../lifecycle/store');
    const { parseSignal } = await import('../../lifecycle/signals');
    const { killContainer } = await import('../../lifecycle/kill');
    // runc treats an empty signal as the default too.
    const signal = parseSignal(signalName === undefined || signalName === '' ? 'SIGTERM' : signalName);
    killContainer(new StateStore(global.root), id, signal, flags.all);
  },
});
