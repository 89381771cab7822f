// ocits spec [--bundle DIR] [--rootless]: write the default config.json.
import type { CommandModule } from 'yargs';
import type { GlobalArgs } from '../global-args';

interface SpecArgs extends Omit<GlobalArgs, 'rootless'> {
  bundle: string;
  rootless: boolean | string;
}

export const specCommand: CommandModule<GlobalArgs, SpecArgs> = {
  command: 'spec',
  describe: 'create a new config.json in the bundle, the same default runc writes',
  builder: (yargs) =>
    yargs
      .option('bundle', { alias: 'b', type: 'string', default: '.', describe: 'path to the bundle directory' })
      // Replaces the global --rootless value inside this command, as in runc.
      .option('rootless', { type: 'boolean', default: false, describe: 'write a config for an unprivileged user' }),
  handler: async (args) => {
    const { writeDefaultConfig } = await import('../../spec/write-default-config');
    writeDefaultConfig(args.bundle, args.rootless === true || args.rootless === 'true');
  },
};
