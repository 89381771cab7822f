// ocits run [create flags] [--detach] [--keep] ID: create, start and wait.
import type { CommandModule } from 'yargs';
import type { GlobalArgs } from '../global-args';
import { createOptionsOf, withCreateFlags, type CreateFlags } from './create-options';

interface RunArgs extends GlobalArgs, CreateFlags {
  detach: boolean;
  keep: boolean;
}

export const runCommand: CommandModule<GlobalArgs, RunArgs> = {
  command: 'run <container-id>',
  describe: 'create and start a container, and wait for it to exit',
  builder: (yargs) =>
    withCreateFlags(yargs)
      .option('detach', { alias: 'd', type: 'boolean', default: false, describe: 'return once the container has started' })
      .option('keep', { type: 'boolean', default: false, describe: 'do not delete the container after it exits' }),
  handler: async (args) => {
    const { StateStore } = await import('../../lifecycle/store');
    const { runContainer } = await import('../../lifecycle/run');
    const status = await runContainer(new StateStore(args.root), args['container-id'], {
      ...createOptionsOf(args),
      detach: args.detach,
      keep: args.keep,
    });
    process.exitCode = status;
  },
};
