// ocits image prune: removes blobs no name reaches, partial downloads no pull is writing, unpacked
// copies of images no name reaches and no overlay uses, and the build cache's records of layers
// that went with them.
import { OcitsError } from '../../errors';
import { writeStdout } from '../../output';
import { defineCommand } from '../command';
import { STORE_FLAG } from '../image-flags';

export const imageCommand = defineCommand({
  name: 'image',
  usage: 'prune',
  describe: 'image prune: remove blobs no image uses (build cache layers included), stale partial downloads, and unpacked copies (bundle --overlay) no image or overlay uses from the store',
  args: { min: 1, max: 1 },
  flags: { store: STORE_FLAG },
  run: async ({ flags, args }) => {
    if (args[0] !== 'prune') throw new OcitsError(`unknown command "image ${args[0]}"; the image command has: prune`);
    const [{ ImageStore, defaultStoreDir }, { pruneStore, pruneReport }, { dropStaleCacheRecords }] = await Promise.all([
      import('../../image/store'),
      import('../../image/prune'),
      import('../../build/cache'),
    ]);
    const store = new ImageStore(defaultStoreDir(flags.store));
    const result = pruneStore(store);
    dropStaleCacheRecords(store);
    writeStdout(pruneReport(result));
  },
});
