// ocits features: the features document of this build, as JSON.
import { writeStdout } from '../../output';
import { defineCommand } from '../command';

export const featuresCommand = defineCommand({
  name: 'features',
  usage: '',
  describe: 'print what this build supports, as the runtime-spec features document',
  args: { min: 0, max: 0 },
  flags: {},
  run: async () => {
    const { features } = await import('../../plan/features');
    writeStdout(JSON.stringify(features(), null, 4) + '\n');
  },
});
