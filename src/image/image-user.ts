// The image config's User ("app", "1000", "app:staff", "1000:50") resolved
// through the rootfs's own /etc/passwd and /etc/group, as conversion.md asks.
// Those files are read inside the rootfs: a symlink in the image is followed
// as if the rootfs were /, never out of it.
import * as fs from 'node:fs';
import { OcitsError } from '../errors';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids?: number[];
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const NUMERIC = /^\d+$/;

export function resolveImageUser(rootfs: string, user: string | undefined): ResolvedUser {
  const spec = (user ?? '').trim();
  if (spec === '') return { uid: 0, gid: 0 };
  const colon = spec.indexOf(':');
  const userPart = colon === -1 ? spec : spec.slice(0, colon);
  const groupPart = colon === -1 ? undefined : spec.slice(colon + 1);
  const passwd = readInRoot(rootfs, '/etc/passwd', parsePasswd);
  let uid: number;
  let gid: number;
  let name: string | undefined;
  if (NUMERIC.test(userPart)) {
    uid = toId(userPart, spec);
    gid = passwd.find((entry) => entry.uid === uid)?.gid ?? 0;
  } else {
    const entry = passwd.find((candidate) => candidate.name === userPart);
    if (entry === undefined) throw new OcitsError(`the image's user "${userPart}" is not in its /etc/passwd`);
    ({ uid, gid, name } = entry);
  }
  if (groupPart !== undefined && groupPart !== '') {
    if (NUMERIC.test(groupPart)) return { uid, gid: toId(groupPart, spec) };
    const group = readInRoot(rootfs, '/etc/group', parseGroup).find((entry) => entry.name === groupPart);
    if (group === undefined) throw new OcitsError(`the image's group "${groupPart}" is not in its /etc/group`);
    return { uid, gid: group.gid };
  }
  if (name === undefined) return { uid, gid };
  const additionalGids = readInRoot(rootfs, '/etc/group', parseGroup)
    .filter((group) => group.members.includes(name!) && group.gid !== gid)
    .map((group) => group.gid);
  return { uid, gid, ...(additionalGids.length > 0 ? { additionalGids: [...new Set(additionalGids)] } : {}) };
}

function toId(text: string, spec: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value > 0xfffffffe) throw new OcitsError(`invalid id in the image's user "${spec}"`);
  return value;
}

/** Reads a file of the rootfs, following its symlinks as if the rootfs were /; [] when absent. */
function readInRoot<T>(rootfs: string, file: string, parse: (text: string) => T[]): T[] {
  const resolved = resolveInRoot(rootfs, file);
  if (resolved === undefined) return [];
  try {
    return parse(fs.readFileSync(resolved, 'utf8'));
  } catch {
    return [];
  }
}

const MAX_SYMLINKS = 40;

/**
 * A path inside the rootfs with every symlink resolved inside it (chroot
 * semantics); undefined if it does not exist, unless makeMissing makes each
 * missing component (the builder makes directories so).
 */
export function resolveInRoot(rootfs: string, file: string, makeMissing?: (candidate: string) => void): string | undefined {
  const pending = file.split('/').filter((part) => part !== '' && part !== '.');
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = `${rootfs}/${[...resolved, part].join('/')}`;
    let status: fs.Stats;
    try {
      status = fs.lstatSync(candidate);
    } catch {
      if (makeMissing === undefined) return undefined;
      makeMissing(candidate);
      resolved.push(part);
      continue;
    }
    if (!status.isSymbolicLink()) {
      resolved.push(part);
      continue;
    }
    if (++links > MAX_SYMLINKS) return undefined;
    const target = fs.readlinkSync(candidate);
    if (target.startsWith('/')) resolved.length = 0;
    pending.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
  }
  return `${rootfs}/${resolved.join('/')}`;
}

function parsePasswd(text: string): PasswdEntry[] {
  return text
    .split('\n')
    .map((line) => line.split(':'))
    .filter((fields) => fields.length >= 4 && NUMERIC.test(fields[2]) && NUMERIC.test(fields[3]))
    .map((fields) => ({ name: fields[0], uid: Number(fields[2]), gid: Number(fields[3]) }));
}

function parseGroup(text: string): GroupEntry[] {
  return text
    .split('\n')
    .map((line) => line.split(':'))
    .filter((fields) => fields.length >= 3 && NUMERIC.test(fields[2]))
    .map((fields) => ({ name: fields[0], gid: Number(fields[2]), members: (fields[3] ?? '').split(',').filter((m) => m !== '') }));
}
