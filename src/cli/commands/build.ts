// ocits build [flags] CONTEXT: an image from a Dockerfile into the store, every RUN step an ocits container.
import * as fs from 'node:fs';
import { OcitsError } from '../../errors';
import { defineCommand } from '../command';
import { PLATFORM_FLAG, REGISTRY_FLAGS, STORE_FLAG } from '../image-flags';

export const buildCommand = defineCommand({
  name: 'build',
  usage:
    '[-f FILE] [-t REF]... [--build-arg K=V]... [--target STAGE] [--no-cache] [--network host|none] [--secret id=ID,src=PATH|env=VAR]... [--compress gzip|zstd] [--progress auto|plain|quiet] [--platform P] [--tls-verify=false] [--creds U:P] [--authfile F] CONTEXT',
  describe: 'build an image from a Dockerfile into the image store; prints the manifest digest',
  args: { min: 1, max: 1 },
  flags: {
    store: STORE_FLAG,
    file: { type: 'string', alias: 'f', describe: 'the Dockerfile; default CONTEXT/Dockerfile' },
    tag: { type: 'strings', alias: 't', describe: 'a name for the image (repeatable); without one nothing names the result and `ocits image prune` removes it' },
    'build-arg': { type: 'strings', describe: 'K=V for an ARG (repeatable); K alone takes the value of $K' },
    target: { type: 'string', describe: 'build this stage (an AS name) and what it needs, not the last stage' },
    'no-cache': { type: 'boolean', default: false, describe: 'run every step, reusing no layer from earlier builds' },
    network: { type: 'string', default: 'host', describe: "RUN steps' network: host (the host's) or none (loopback only)" },
    secret: { type: 'strings', describe: 'id=ID,src=PATH or id=ID,env=VAR: a file (or variable) RUN --mount=type=secret,id=ID can read, never in a layer (repeatable)' },
    compress: { type: 'string', default: 'gzip', describe: 'layer compression: gzip or zstd' },
    progress: { type: 'string', default: 'auto', describe: "auto or plain: BuildKit's plain step output on stderr; quiet: only a failing step's output" },
    platform: PLATFORM_FLAG,
    ...REGISTRY_FLAGS,
  },
  run: async ({ global, flags, args }) => {
    const network = flags.network;
    if (network !== 'host' && network !== 'none') throw new OcitsError(`--network ${network}: only host and none are supported by ocits yet`);
    const compression = flags.compress;
    if (compression !== 'gzip' && compression !== 'zstd') throw new OcitsError(`--compress ${compression}: expected gzip or zstd`);
    const progressStyle = flags.progress;
    if (progressStyle !== 'auto' && progressStyle !== 'plain' && progressStyle !== 'quiet') throw new OcitsError(`--progress ${progressStyle}: expected auto, plain or quiet`);
    const [{ buildImage }, { ImageStore, defaultStoreDir }, { BuildProgress }, { launcherPath }, { writeStdout }] = await Promise.all([
      import('../../build/builder'),
      import('../../image/store'),
      import('../../build/progress'),
      import('../../build/run-step'),
      import('../../output'),
    ]);
    const result = await buildImage({
      store: new ImageStore(defaultStoreDir(flags.store)),
      context: args[0],
      ...(flags.file !== undefined ? { file: flags.file } : {}),
      tags: flags.tag,
      buildArgs: buildArgsOf(flags['build-arg']),
      ...(flags.target !== undefined ? { target: flags.target } : {}),
      noCache: flags['no-cache'],
      network,
      secrets: secretsOf(flags.secret),
      compression,
      ...(flags.platform !== undefined ? { platform: flags.platform } : {}),
      tlsVerify: flags['tls-verify'],
      ...(flags.creds !== undefined ? { creds: flags.creds } : {}),
      ...(flags.authfile !== undefined ? { authFile: flags.authfile } : {}),
      progress: new BuildProgress(progressStyle),
      runtime: { launcher: launcherPath(), stateRoot: global.root },
    });
    writeStdout(`${result.digest}\n`);
  },
});

function buildArgsOf(values: readonly string[]): Map<string, string> {
  const args = new Map<string, string>();
  for (const value of values) {
    const equals = value.indexOf('=');
    const name = equals === -1 ? value : value.slice(0, equals);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new OcitsError(`--build-arg ${value}: expected NAME=VALUE`);
    if (equals !== -1) args.set(name, value.slice(equals + 1));
    else if (process.env[name] !== undefined) args.set(name, process.env[name]!);
  }
  return args;
}

/** --secret id=ID,src=PATH or id=ID,env=VAR: each secret's content, read once, up front. */
function secretsOf(values: readonly string[]): Map<string, Buffer> {
  const secrets = new Map<string, Buffer>();
  for (const value of values) {
    const fields = new Map(value.split(',').map((field) => [field.slice(0, field.indexOf('=')), field.slice(field.indexOf('=') + 1)] as const));
    for (const key of fields.keys()) if (!['id', 'src', 'source', 'env', 'type'].includes(key)) throw new OcitsError(`--secret ${value}: unknown field "${key}"`);
    const id = fields.get('id');
    const source = fields.get('src') ?? fields.get('source');
    const variable = fields.get('env');
    if (id === undefined || id === '' || (source === undefined) === (variable === undefined)) throw new OcitsError(`--secret ${value}: expected id=ID,src=PATH or id=ID,env=VAR`);
    const type = fields.get('type') ?? (source !== undefined ? 'file' : 'env');
    if ((type !== 'file' || source === undefined) && (type !== 'env' || variable === undefined)) throw new OcitsError(`--secret ${value}: type=${type} does not go with ${source !== undefined ? 'src' : 'env'}=`);
    if (variable !== undefined) {
      const content = process.env[variable];
      if (content === undefined) throw new OcitsError(`--secret ${value}: the environment has no ${variable}`);
      secrets.set(id, Buffer.from(content));
      continue;
    }
    let content: Buffer | undefined;
    try {
      if (fs.statSync(source!).isFile()) content = fs.readFileSync(source!);
    } catch {
      // Reported just below, as for a directory.
    }
    if (content === undefined) throw new OcitsError(`--secret ${value}: ${source} is not a readable file`);
    secrets.set(id, content);
  }
  return secrets;
}
