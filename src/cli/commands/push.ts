// ocits push [flags] REF [DEST]: an image of the store to a registry; prints the pushed manifest's digest.
import { defineCommand } from '../command';
import { REGISTRY_FLAGS, STORE_FLAG, TRANSFER_FLAGS } from '../image-flags';

export const pushCommand = defineCommand({
  name: 'push',
  usage: '[--tls-verify=false] [--creds USER:PASS] [--authfile F] [--jobs N] [--quiet] REF [DEST]',
  describe: 'send an image of the image store to a registry (to DEST, else where its name points)',
  args: { min: 1, max: 2 },
  flags: {
    store: STORE_FLAG,
    ...REGISTRY_FLAGS,
    ...TRANSFER_FLAGS,
  },
  run: async ({ flags, args }) => {
    const [{ pushImage }, { ImageStore, defaultStoreDir }, { Progress }, { writeStdout }] = await Promise.all([
      import('../../image/push'),
      import('../../image/store'),
      import('../../image/progress'),
      import('../../output'),
    ]);
    const progress = Progress.forStderr(flags.quiet);
    const result = await pushImage(args[0], args[1], {
      store: new ImageStore(defaultStoreDir(flags.store)),
      tlsVerify: flags['tls-verify'],
      ...(flags.creds !== undefined ? { creds: flags.creds } : {}),
      ...(flags.authfile !== undefined ? { authFile: flags.authfile } : {}),
      jobs: flags.jobs,
      progress,
    });
    progress.message(`${result.uploaded} blobs sent, ${result.mounted} mounted, ${result.skipped} already there`);
    writeStdout(`${result.digest}\n`);
  },
});
