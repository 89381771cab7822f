// ocits spec [--bundle DIR] [--rootless]: write the default config.json.
import { BUNDLE_FLAG, defineCommand } from '../command';

export const specCommand = defineCommand({
  name: 'spec',
  usage: '[--bundle DIR] [--rootless]',
  describe: 'create a new config.json in the bundle, the same default runc writes',
  args: { min: 0, max: 0 },
  flags: {
    bundle: BUNDLE_FLAG,
    // runc's `spec --rootless` is a flag of spec's own, not the global --rootless.
    rootless: { type: 'boolean', default: false, describe: 'write a config for an unprivileged user' },
  },
  run: async ({ flags }) => {
    const { writeDefaultConfig } = await import('../../spec/write-default-config');
    writeDefaultConfig(flags.bundle, flags.rootless);
  },
});
