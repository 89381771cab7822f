// An image config turned into a runtime config.json (image-spec
// conversion.md) on top of the defaults of `ocits spec`: Entrypoint + Cmd,
// Env, WorkingDir, the User resolved in the rootfs, Volumes as mounts, and
// the annotations conversion.md lists, with the image's Labels taking
// precedence.
import { OcitsError } from '../errors';
import { defaultConfig } from '../spec/default-config';
import type { Mount, RuntimeConfig } from '../spec/types';
import { resolveImageUser } from './image-user';
import type { ImageConfig } from './media-types';

export function runtimeConfigFor(image: ImageConfig, rootfs: string, rootless: { uid: number; gid: number } | undefined): RuntimeConfig {
  const config = defaultConfig(rootless !== undefined ? { rootless } : {});
  const settings = image.config ?? {};
  const process = config.process!;
  const args = [...(settings.Entrypoint ?? []), ...(settings.Cmd ?? [])];
  // An image that names no command (a data-only image) keeps the default shell.
  if (args.length > 0) process.args = args;
  // Bundles run from scripts and engines: no terminal unless asked for.
  process.terminal = false;
  const env = settings.Env ?? [];
  const names = new Set(env.map((entry) => entry.split('=')[0]));
  // Defaults may add variables but never change the image's (conversion.md, note 1).
  process.env = [...env, ...(process.env ?? []).filter((entry) => !names.has(entry.split('=')[0]))];
  if (settings.WorkingDir !== undefined && settings.WorkingDir !== '') process.cwd = settings.WorkingDir;
  process.user = resolveImageUser(rootfs, settings.User);
  config.mounts = [...(config.mounts ?? []), ...Object.keys(settings.Volumes ?? {}).sort().map(volumeMount)];

  const annotations: Record<string, string> = {};
  const set = (key: string, value: string | undefined) => {
    if (value !== undefined && value !== '') annotations[`org.opencontainers.image.${key}`] = value;
  };
  set('os', image.os);
  set('architecture', image.architecture);
  set('variant', image.variant);
  const extra = image as ImageConfig & { 'os.version'?: string; 'os.features'?: string[]; author?: string };
  set('os.version', extra['os.version']);
  set('os.features', extra['os.features']?.join(','));
  set('author', extra.author);
  set('created', image.created);
  set('stopSignal', settings.StopSignal);
  set('exposedPorts', settings.ExposedPorts !== undefined ? Object.keys(settings.ExposedPorts).join(',') : undefined);
  config.annotations = { ...annotations, ...(settings.Labels ?? {}) };
  return config;
}

/**
 * A volume is a tmpfs with umoci's options, so that what the container
 * writes there stays out of the rootfs (conversion.md). tmpcopyup, which
 * umoci does not add, seeds it with what the image holds at that path, as a
 * new Docker volume is seeded.
 */
function volumeMount(destination: string): Mount {
  if (!destination.startsWith('/') || destination.split('/').every((part) => part === '' || part === '.')) {
    throw new OcitsError(`image config: volume ${JSON.stringify(destination)} must be an absolute path below /`);
  }
  return { destination, type: 'tmpfs', source: 'none', options: ['rw', 'nosuid', 'nodev', 'noexec', 'relatime', 'tmpcopyup'] };
}
