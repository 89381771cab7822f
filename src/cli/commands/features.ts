// ocits features: the features document of this build, as JSON.
import type { CommandModule } from 'yargs';
import type { GlobalArgs } from '../global-args';

export const featuresCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'features',
  describe: 'print what this build supports, as the runtime-spec features document',
  handler: async () => {
    const { features } = await import('../../spec/features');
    process.stdout.write(JSON.stringify(features(), null, 4) + '\n');
  },
};
