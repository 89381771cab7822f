// ocits login [--username U] [--password-stdin] REGISTRY: checks the credentials with the registry, then records them in auth.json.
import { OcitsError } from '../../errors';
import { defineCommand } from '../command';
import { REGISTRY_FLAGS } from '../image-flags';
import { registryArgument } from '../registry-argument';

export const loginCommand = defineCommand({
  name: 'login',
  usage: '--username U --password-stdin [--tls-verify=false] [--authfile F] REGISTRY',
  describe: 'record credentials for a registry in auth.json (default $XDG_RUNTIME_DIR/containers/auth.json), which pull and push read',
  args: { min: 1, max: 1 },
  flags: {
    username: { type: 'string', alias: 'u', describe: 'the user name' },
    'password-stdin': { type: 'boolean', describe: 'read the password from standard input' },
    'tls-verify': REGISTRY_FLAGS['tls-verify'],
    authfile: { type: 'string', describe: 'the auth file to write; default $REGISTRY_AUTH_FILE, then $XDG_RUNTIME_DIR/containers/auth.json' },
  },
  run: async ({ flags, args }) => {
    const registry = registryArgument(args[0]);
    if (flags.username === undefined || flags.username === '' || flags.username.includes(':')) {
      throw new OcitsError('login: give --username, a name without ":"');
    }
    if (flags['password-stdin'] !== true) throw new OcitsError('login: give the password on standard input with --password-stdin');
    const [{ readFileSync }, { RegistryClient }, { registryHost }, { loginAuthFile, saveCredentials }, { writeStdout }] = await Promise.all([
      import('node:fs'),
      import('../../image/registry-client'),
      import('../../image/reference'),
      import('../../image/credentials'),
      import('../../output'),
    ]);
    const password = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
    if (password === '') throw new OcitsError('login: the password on standard input is empty');
    const credentials = { username: flags.username, password };
    const host = registryHost({ domain: registry, path: '' });
    await new RegistryClient(host, '', { tlsVerify: flags['tls-verify'], credentials, attempts: 2 }).checkCredentials();
    const file = loginAuthFile(flags.authfile);
    saveCredentials(file, registry, credentials);
    writeStdout('Login Succeeded!\n');
  },
});
