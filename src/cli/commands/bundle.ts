// ocits bundle [--platform P] [--rootless] REF DIR: an image of the store as a runnable bundle.
import { defineCommand } from '../command';
import { PLATFORM_FLAG, STORE_FLAG } from '../image-flags';

export const bundleCommand = defineCommand({
  name: 'bundle',
  usage: '[--platform os/arch[/variant]] [--rootless] REF DIR',
  describe: 'unpack an image of the store into DIR/rootfs and write DIR/config.json (DIR must not exist or be empty)',
  args: { min: 2, max: 2 },
  flags: {
    store: STORE_FLAG,
    platform: PLATFORM_FLAG,
    rootless: { type: 'boolean', default: false, describe: 'unpack as an unprivileged user: no owners, device nodes as empty files, no security.* xattrs; a config with a user namespace' },
  },
  run: async ({ flags, args }) => {
    const [{ makeBundle }, { ImageStore, defaultStoreDir }] = await Promise.all([import('../../image/bundle'), import('../../image/store')]);
    await makeBundle(args[0], args[1], {
      store: new ImageStore(defaultStoreDir(flags.store)),
      ...(flags.platform !== undefined ? { platform: flags.platform } : {}),
      rootless: flags.rootless,
    });
  },
});
