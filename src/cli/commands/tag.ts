// ocits tag SRC DST: another name for an image of the store.
import { defineCommand } from '../command';
import { STORE_FLAG } from '../image-flags';

export const tagCommand = defineCommand({
  name: 'tag',
  usage: 'SRC DST',
  describe: 'give an image of the store another name',
  args: { min: 2, max: 2 },
  flags: { store: STORE_FLAG },
  run: async ({ flags, args }) => {
    const [{ ImageStore, defaultStoreDir }, { findStoredReference }, { normalizeReference }] = await Promise.all([
      import('../../image/store'),
      import('../../image/stored-image'),
      import('../../image/reference'),
    ]);
    const store = new ImageStore(defaultStoreDir(flags.store));
    const destination = normalizeReference(args[1]);
    const { descriptor } = findStoredReference(store, args[0]);
    store.setReference(destination, descriptor);
  },
});
