// ocits logout [--authfile F] REGISTRY: removes the credentials login recorded for a registry.
import { OcitsError } from '../../errors';
import { defineCommand } from '../command';
import { registryArgument } from '../registry-argument';

export const logoutCommand = defineCommand({
  name: 'logout',
  usage: '[--authfile F] REGISTRY',
  describe: 'remove the credentials for a registry from auth.json',
  args: { min: 1, max: 1 },
  flags: {
    authfile: { type: 'string', describe: 'the auth file to edit; default $REGISTRY_AUTH_FILE, then $XDG_RUNTIME_DIR/containers/auth.json' },
  },
  run: async ({ flags, args }) => {
    const registry = registryArgument(args[0]);
    const [{ loginAuthFile, removeCredentials }, { writeStdout }] = await Promise.all([import('../../image/credentials'), import('../../output')]);
    const file = loginAuthFile(flags.authfile);
    if (!removeCredentials(file, registry)) throw new OcitsError(`not logged in to ${registry} (in ${file})`);
    writeStdout(`Removed login credentials for ${registry}\n`);
  },
});
