// Bundles for containers with a user namespace, and the unprivileged user
// the rootless tests run as.
import { spawnSync } from 'node:child_process';
import * as fs from 'fs-extra';
import * as path from 'node:path';
import { busyboxBundle } from './busybox';

/** The host ids the container's root and first range map to. */
export const HOST_ID_BASE = 100000;
export const RANGE_SIZE = 1000;

/** Changes the owner of dir and everything below it, not following links. */
export function chownTree(dir: string, uid: number, gid: number): void {
  fs.lchownSync(dir, uid, gid);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const child = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(child, uid, gid);
    else fs.lchownSync(child, uid, gid);
  }
}

/**
 * A busybox bundle with a new user namespace mapping container ids 0-999 to
 * host ids 100000-100999: its rootfs belongs to the mapped root, and the
 * bundle directory is searchable, as the mapped root must reach the rootfs.
 */
export function userNamespaceBundle(change: (config: Record<string, any>) => void = () => {}): string {
  const bundle = busyboxBundle((config) => {
    config.root.readonly = false;
    config.linux.namespaces.push({ type: 'user' });
    config.linux.uidMappings = [{ containerID: 0, hostID: HOST_ID_BASE, size: RANGE_SIZE }];
    config.linux.gidMappings = [{ containerID: 0, hostID: HOST_ID_BASE, size: RANGE_SIZE }];
    change(config);
  });
  fs.chmodSync(bundle, 0o755);
  chownTree(path.join(bundle, 'rootfs'), HOST_ID_BASE, HOST_ID_BASE);
  return bundle;
}

export const ROOTLESS_USER = 'ocits-rootless';

/**
 * The unprivileged user of the rootless tests, made with useradd when
 * missing (tests run as root): a system user without home or login shell.
 */
export function rootlessUser(): { uid: number; gid: number } {
  const ids = (): { uid: number; gid: number } | undefined => {
    const uid = spawnSync('id', ['-u', ROOTLESS_USER], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', ROOTLESS_USER], { encoding: 'utf8' });
    if (uid.status !== 0 || gid.status !== 0) return undefined;
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  };
  const existing = ids();
  if (existing !== undefined) return existing;
  const made = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', ROOTLESS_USER], {
    encoding: 'utf8',
  });
  if (made.status !== 0) throw new Error(`useradd ${ROOTLESS_USER}: ${made.stderr}`);
  return ids()!;
}
