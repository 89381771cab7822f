// ocits rmi REF...: removes names from the store, then the blobs no other name reaches.
import { writeStdout } from '../../output';
import { defineCommand } from '../command';
import { STORE_FLAG } from '../image-flags';

export const rmiCommand = defineCommand({
  name: 'rmi',
  usage: 'REF...',
  describe: 'remove images from the store (their blobs go when no other image uses them)',
  args: { min: 1, max: Infinity },
  flags: { store: STORE_FLAG },
  run: async ({ flags, args }) => {
    const [{ ImageStore, defaultStoreDir }, { findStoredReference }, { pruneStore }] = await Promise.all([
      import('../../image/store'),
      import('../../image/stored-image'),
      import('../../image/prune'),
    ]);
    const store = new ImageStore(defaultStoreDir(flags.store));
    // Every name is checked before any is removed: a typo removes nothing.
    const names = args.map((text) => findStoredReference(store, text).name);
    const removed = store.removeReferences(names);
    pruneStore(store);
    writeStdout(removed.map((name) => `untagged: ${name}\n`).join(''));
  },
});
