// Platforms ("linux/arm64/v8") and the choice of one manifest from an index,
// as containerd's platform matcher makes it: os and architecture must match,
// a variant only when one is asked for, with arm64's v8 as its default.
import { OcitsError } from '../errors';
import type { Descriptor, ImageConfig, Platform } from './media-types';

// Node's process.arch names -> the GOARCH names images use.
const ARCHITECTURES: Record<string, string> = {
  x64: 'amd64',
  ia32: '386',
  arm64: 'arm64',
  arm: 'arm',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  mips64el: 'mips64le',
  loong64: 'loong64',
};

export function hostPlatform(): Platform {
  const architecture = ARCHITECTURES[process.arch] ?? process.arch;
  const armVersion = (process.config.variables as { arm_version?: string }).arm_version;
  const variant = architecture === 'arm64' ? 'v8' : architecture === 'arm' && armVersion !== undefined ? `v${armVersion}` : undefined;
  return { os: 'linux', architecture, ...(variant !== undefined ? { variant } : {}) };
}

/** The platform an image config says its image is for. */
export function platformOfConfig(config: ImageConfig): Platform {
  return { os: config.os, architecture: config.architecture, ...(config.variant !== undefined ? { variant: config.variant } : {}) };
}

/** Parses --platform os/arch[/variant]. */
export function parsePlatform(text: string): Platform {
  const parts = text.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((part) => !/^[a-z0-9._-]+$/.test(part))) {
    throw new OcitsError(`invalid platform "${text}": expected os/arch[/variant], e.g. linux/arm64/v8`);
  }
  return { os: parts[0], architecture: parts[1], ...(parts[2] !== undefined ? { variant: parts[2] } : {}) };
}

export function formatPlatform(platform: Platform): string {
  return [platform.os, platform.architecture, ...(platform.variant !== undefined ? [platform.variant] : [])].join('/');
}

/** The variant an architecture has when none is written (arm64 is v8). */
function normalVariant(platform: Platform): string | undefined {
  return platform.variant ?? (platform.architecture === 'arm64' ? 'v8' : undefined);
}

export function platformMatches(wanted: Platform, candidate: Platform): boolean {
  if (wanted.os !== candidate.os || wanted.architecture !== candidate.architecture) return false;
  const variant = normalVariant(wanted);
  return variant === undefined || variant === normalVariant(candidate);
}

/** The manifest of an index for this platform; the error lists the platforms the index has. */
export function selectManifest(manifests: readonly Descriptor[], wanted: Platform, what: string): Descriptor {
  const found = manifests.find((m) => m.platform !== undefined && platformMatches(wanted, m.platform));
  if (found !== undefined) return found;
  const available = manifests.filter((m) => m.platform !== undefined).map((m) => formatPlatform(m.platform!));
  throw new OcitsError(
    `${what} has no manifest for platform ${formatPlatform(wanted)}; it has ${available.length > 0 ? available.join(', ') : 'no platform-specific manifest'}`,
  );
}
