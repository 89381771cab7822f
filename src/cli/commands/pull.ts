// ocits pull [flags] REF: an image from a registry into the store; prints its manifest digest.
import { defineCommand } from '../command';
import { PLATFORM_FLAG, REGISTRY_FLAGS, STORE_FLAG, TRANSFER_FLAGS } from '../image-flags';

export const pullCommand = defineCommand({
  name: 'pull',
  usage: '[--platform os/arch[/variant]] [--tls-verify=false] [--creds USER:PASS] [--authfile F] [--jobs N] [--quiet] REF',
  describe: 'download an image from a registry into the image store',
  args: { min: 1, max: 1 },
  flags: {
    store: STORE_FLAG,
    platform: PLATFORM_FLAG,
    ...REGISTRY_FLAGS,
    ...TRANSFER_FLAGS,
  },
  run: async ({ flags, args }) => {
    const [{ pullImage }, { ImageStore, defaultStoreDir }, { Progress }, { writeStdout }] = await Promise.all([
      import('../../image/pull'),
      import('../../image/store'),
      import('../../image/progress'),
      import('../../output'),
    ]);
    const result = await pullImage(args[0], {
      store: new ImageStore(defaultStoreDir(flags.store)),
      ...(flags.platform !== undefined ? { platform: flags.platform } : {}),
      tlsVerify: flags['tls-verify'],
      ...(flags.creds !== undefined ? { creds: flags.creds } : {}),
      ...(flags.authfile !== undefined ? { authFile: flags.authfile } : {}),
      jobs: flags.jobs,
      progress: Progress.forStderr(flags.quiet),
    });
    writeStdout(`${result.digest}\n`);
  },
});
