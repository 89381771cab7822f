// ocits registry serve|gc: serve the image store as a distribution-spec 1.1
// registry, or remove the blobs nothing in it reaches (safe while it serves).
import { OcitsError } from '../../errors';
import { writeStdout } from '../../output';
import { defineCommand } from '../command';
import { STORE_FLAG } from '../image-flags';

const DEFAULT_LISTEN = '127.0.0.1:5000';
const SERVE_FLAGS = ['listen', 'htpasswd', 'tls-cert', 'tls-key', 'read-only', 'timeout'] as const;

export const registryCommand = defineCommand({
  name: 'registry',
  usage:
    'serve [--store DIR] [--listen ADDR:PORT] [--htpasswd FILE] [--tls-cert F --tls-key F] [--read-only] [--timeout SECONDS] [--log-format text|json] | gc [--store DIR] [--dry-run]',
  describe: 'registry serve: serve the image store as an OCI registry; registry gc: remove blobs no manifest or referrer reaches',
  args: { min: 1, max: 1 },
  flags: {
    store: STORE_FLAG,
    listen: { type: 'string', describe: `serve: address and port to listen on (default ${DEFAULT_LISTEN}; port 0 picks a free one)` },
    htpasswd: { type: 'string', describe: 'serve: require Basic auth by this htpasswd file of bcrypt hashes (htpasswd -B)' },
    'tls-cert': { type: 'string', describe: 'serve: serve HTTPS with this PEM certificate (with --tls-key)' },
    'tls-key': { type: 'string', describe: 'serve: the PEM private key of --tls-cert' },
    'read-only': { type: 'boolean', describe: 'serve: refuse every push and delete (405)' },
    timeout: {
      type: 'number',
      describe: 'serve: seconds a client has to send its request headers, and to send or read each 1 KiB of a body (default 60)',
    },
    'dry-run': { type: 'boolean', describe: 'gc: list what would be removed, remove nothing' },
  },
  run: async ({ global, flags, args }) => {
    const { ImageStore, defaultStoreDir } = await import('../../image/store');
    const store = new ImageStore(defaultStoreDir(flags.store));
    if (args[0] === 'gc') {
      const given = SERVE_FLAGS.filter((flag) => flags[flag] !== undefined);
      if (given.length > 0) throw new OcitsError(`registry gc: --${given[0]} is a flag of registry serve`);
      const { pruneStore, pruneReport } = await import('../../image/prune');
      const dryRun = flags['dry-run'] === true;
      writeStdout(pruneReport(pruneStore(store, { dryRun }), dryRun));
      return;
    }
    if (args[0] !== 'serve') throw new OcitsError(`unknown command "registry ${args[0]}"; the registry command has: serve, gc`);
    if (flags['dry-run'] !== undefined) throw new OcitsError('registry serve: --dry-run is a flag of registry gc');
    const timeout = flags.timeout ?? 60;
    if (!Number.isFinite(timeout) || timeout <= 0 || timeout > 86400) throw new OcitsError(`--timeout must be between 0 and 86400 seconds, not ${timeout}`);
    const { serveRegistry } = await import('../../registry/server');
    await serveRegistry({
      store,
      listen: flags.listen ?? DEFAULT_LISTEN,
      ...(flags.htpasswd !== undefined ? { htpasswd: flags.htpasswd } : {}),
      ...(flags['tls-cert'] !== undefined ? { tlsCert: flags['tls-cert'] } : {}),
      ...(flags['tls-key'] !== undefined ? { tlsKey: flags['tls-key'] } : {}),
      readOnly: flags['read-only'] === true,
      logFormat: global.logFormat,
      timeoutMs: timeout * 1000,
    });
  },
});
