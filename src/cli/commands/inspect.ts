// ocits inspect [--platform P] REF: the manifest and config of an image of the store, as JSON.
import { writeStdout } from '../../output';
import { defineCommand } from '../command';
import { PLATFORM_FLAG, STORE_FLAG } from '../image-flags';

export const inspectCommand = defineCommand({
  name: 'inspect',
  usage: '[--platform os/arch[/variant]] REF',
  describe: 'print the manifest and config of an image in the store as JSON',
  args: { min: 1, max: 1 },
  flags: { store: STORE_FLAG, platform: PLATFORM_FLAG },
  run: async ({ flags, args }) => {
    const [{ inspectImage }, { ImageStore, defaultStoreDir }] = await Promise.all([import('../../image/inspect'), import('../../image/store')]);
    const document = inspectImage(new ImageStore(defaultStoreDir(flags.store)), args[0], flags.platform);
    writeStdout(JSON.stringify(document, null, 2) + '\n');
  },
});
