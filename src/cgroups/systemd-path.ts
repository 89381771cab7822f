// linux.cgroupsPath under --systemd-cgroup: "slice:prefix:name", read as
// runc reads it (docs/systemd.md). The container gets a transient scope
// "prefix-name.scope" in the slice; a slice name with dashes is nested
// (a-b-c.slice is /a.slice/a-b.slice/a-b-c.slice), as systemd nests it.
import { OcitsError } from '../errors';

export interface SystemdCgroupPath {
  /** The slice the scope goes in, e.g. system.slice; "-.slice" is the root slice. */
  slice: string;
  /** The slice and the slices it is in, outermost first (sliceChain). */
  slices: string[];
  /** The transient unit, e.g. ocits-abc.scope. */
  unit: string;
  /** The scope's cgroup below the manager's own, e.g. /system.slice/ocits-abc.scope. */
  path: string;
}

const POINTER = '/linux/cgroupsPath';
/** The prefix runc uses is "runc"; ours names us. */
export const DEFAULT_SCOPE_PREFIX = 'ocits';

/**
 * The unit and cgroup for cgroupsPath. Empty or absent means
 * ":ocits:ID". An empty slice is system.slice, or user.slice for a
 * non-root caller (its own systemd instance), as in runc.
 */
export function parseSystemdCgroupsPath(cgroupsPath: string | undefined, id: string, user: boolean): SystemdCgroupPath {
  const value = cgroupsPath === undefined || cgroupsPath === '' ? `:${DEFAULT_SCOPE_PREFIX}:${id}` : cgroupsPath;
  const parts = value.split(':');
  if (parts.length !== 3) {
    throw new OcitsError(
      `${POINTER}: expected "slice:prefix:name" for systemd cgroups (--systemd-cgroup), such as "system.slice:ocits:${id}", got ${JSON.stringify(value)}`,
    );
  }
  const [given, prefix, name] = parts;
  const slice = given === '' ? (user ? 'user.slice' : 'system.slice') : given;
  if (name === '') throw new OcitsError(`${POINTER}: ${JSON.stringify(value)} has an empty name (slice:prefix:name)`);
  if (name.endsWith('.slice')) {
    // runc then makes a slice for the container and puts the init in it through cgroupfs.
    throw new OcitsError(`${POINTER}: ${JSON.stringify(value)} names a slice as the container's unit, which ocits does not support yet; give a scope name`);
  }
  const unit = prefix === '' ? `${name}.scope` : `${prefix}-${name}.scope`;
  checkUnitName(unit, value);
  return { slice, slices: sliceChain(slice), unit, path: `${expandSlice(slice)}/${unit}`.replace(/^\/\//, '/') };
}

/** A slice's cgroup path: each slice of its chain is one level, as systemd nests them. */
export function expandSlice(slice: string): string {
  const chain = sliceChain(slice);
  return chain.length === 0 ? '/' : chain.map((level) => `/${level}`).join('');
}

/**
 * The slices systemd makes for slice, outermost first: a-b-c.slice is in
 * a-b.slice, which is in a.slice; the root slice "-.slice" has none. runc's
 * refusals: not ending in .slice, a "/", an empty level ("a--b.slice",
 * "-a.slice").
 */
export function sliceChain(slice: string): string[] {
  const invalid = (why: string): never => {
    throw new OcitsError(`${POINTER}: ${JSON.stringify(slice)} is not a valid slice name: ${why}`);
  };
  if (!slice.endsWith('.slice') || slice.length === '.slice'.length) invalid('it must end in ".slice"');
  if (slice.includes('/')) invalid('it must not contain "/"; nested slices are written with dashes (a-b.slice)');
  const base = slice.slice(0, -'.slice'.length);
  if (base === '-') return [];
  const chain: string[] = [];
  let prefix = '';
  for (const level of base.split('-')) {
    if (level === '') invalid('a dash at its start or end, or two dashes, leave a level without a name');
    checkUnitName(`${level}.slice`, slice);
    chain.push(`${prefix}${level}.slice`);
    prefix += `${level}-`;
  }
  return chain;
}

/** systemd's unit name rules: at most 255 characters of [A-Za-z0-9:_.\-@]. */
function checkUnitName(unit: string, value: string): void {
  if (unit.length > 255) throw new OcitsError(`${POINTER}: ${JSON.stringify(value)} makes a unit name longer than systemd's 255 characters`);
  const bad = /[^A-Za-z0-9:_.\\@-]/.exec(unit);
  if (bad !== null) {
    throw new OcitsError(`${POINTER}: ${JSON.stringify(value)} has ${JSON.stringify(bad[0])}, which systemd does not allow in unit names`);
  }
}
