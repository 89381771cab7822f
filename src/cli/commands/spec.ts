// ocits spec [--bundle DIR] [--rootless]: write the default config.json.
import type { CommandModule } from 'yargs';
import type { GlobalArgs } from '../global-args';

interface SpecArgs extends Omit<GlobalArgs, 'rootless'> {
  bundle: string;
  rootless: string | undefined;
}

export const specCommand: CommandModule<GlobalArgs, SpecArgs> = {
  command: 'spec',
  describe: 'create a new config.json in the bundle, the same default runc writes',
  builder: (yargs) =>
    yargs
      .option('bundle', { alias: 'b', type: 'string', default: '.', describe: 'path to the bundle directory' })
      // runc's `spec --rootless` is a bare flag; the global --rootless takes a
      // value. Both share one string option here (yargs cannot type one name
      // two ways), so a bare flag arrives as ''.
      .option('rootless', { type: 'string', describe: 'write a config for an unprivileged user' }),
  handler: async (args) => {
    const { writeDefaultConfig } = await import('../../spec/write-default-config');
    const rootless = args.rootless === '' || args.rootless === 'true';
    writeDefaultConfig(args.bundle, rootless);
  },
};
