// ocits bundle [--platform P] [--rootless | --overlay] REF DIR: an image of the store as a runnable bundle.
import { defineCommand } from '../command';
import { PLATFORM_FLAG, STORE_FLAG } from '../image-flags';

export const bundleCommand = defineCommand({
  name: 'bundle',
  usage: '[--platform os/arch[/variant]] [--rootless | --overlay] REF DIR',
  describe: 'unpack an image of the store into DIR/rootfs and write DIR/config.json (DIR must not exist or be empty)',
  args: { min: 2, max: 2 },
  flags: {
    store: STORE_FLAG,
    platform: PLATFORM_FLAG,
    rootless: { type: 'boolean', default: false, describe: 'unpack as an unprivileged user: no owners, device nodes as empty files, no security.* xattrs; a config with a user namespace' },
    overlay: {
      type: 'boolean',
      default: false,
      describe: 'mount DIR/rootfs as an overlay over a copy of the image the store keeps unpacked (made by the first such bundle), writes going to DIR/overlay; remove with umount DIR/rootfs',
    },
  },
  run: async ({ flags, args }) => {
    const [{ makeBundle }, { ImageStore, defaultStoreDir }] = await Promise.all([import('../../image/bundle'), import('../../image/store')]);
    await makeBundle(args[0], args[1], {
      store: new ImageStore(defaultStoreDir(flags.store)),
      ...(flags.platform !== undefined ? { platform: flags.platform } : {}),
      rootless: flags.rootless,
      overlay: flags.overlay,
    });
  },
});
