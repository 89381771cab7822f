// ocits run [create flags] [--detach] [--keep] ID: create, start and wait.
import { defineCommand } from '../command';
import { CREATE_FLAGS, createOptionsOf } from './create-options';

export const runCommand = defineCommand({
  name: 'run',
  usage: '[flags] <container-id>',
  describe: 'create and start a container, and wait for it to exit',
  args: { min: 1, max: 1 },
  flags: {
    ...CREATE_FLAGS,
    detach: { type: 'boolean', alias: 'd', default: false, describe: 'return once the container has started' },
    keep: { type: 'boolean', default: false, describe: 'do not delete the container after it exits' },
  },
  run: async ({ global, flags, args: [id] }) => {
    const { StateStore } = await import('../../lifecycle/store');
    const { runContainer } = await import('../../lifecycle/run');
    return runContainer(new StateStore(global.root), id, {
      ...createOptionsOf(flags),
      systemdCgroup: global.systemdCgroup,
      detach: flags.detach,
      keep: flags.keep,
    });
  },
});
