// `bundle --overlay`: DIR/rootfs as an overlay mount whose lower layer is
// the store's unpacked copy of the image and whose upper layer is
// DIR/overlay/upper, so that a second bundle of an image costs a mount, not
// an unpack, and what a container writes stays in its bundle. The copy in
// the store is never written through the mount; `image prune` keeps it
// while any overlay uses it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OcitsError, messageOf } from '../errors';
import { parseMountinfo } from '../mountinfo';
import { mountOverlayfs } from '../overlayfs';

/** The upper and work directories of the overlay, beside DIR/rootfs. */
export const OVERLAY_DIR = 'overlay';

/** Mounts the overlay of lower on DIR/rootfs (both made by the caller's bundle). */
export function mountOverlayRootfs(lowerDir: string, bundleDir: string, rootfs: string): void {
  // Absolute, as mountinfo shows them and isOverlayLower compares them.
  const layers = {
    lower: path.resolve(lowerDir),
    upper: path.resolve(bundleDir, OVERLAY_DIR, 'upper'),
    work: path.resolve(bundleDir, OVERLAY_DIR, 'work'),
  };
  fs.mkdirSync(path.resolve(bundleDir, OVERLAY_DIR), 0o700);
  fs.mkdirSync(layers.upper, 0o755);
  fs.mkdirSync(layers.work, 0o700);
  try {
    mountOverlayfs(layers, rootfs);
  } catch (error) {
    throw new OcitsError(`--overlay: cannot mount the overlay on ${rootfs}: ${messageOf(error)}`);
  }
}

/** Whether an overlay mount of this host uses dir as a lower layer. */
export function isOverlayLower(lowerDir: string): boolean {
  const dir = path.resolve(lowerDir);
  const mounts = parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
  return mounts.some((mount) => mount.fstype === 'overlay' && mount.superOptions.some((option) => option.startsWith('lowerdir=') && option.slice('lowerdir='.length).split(':').includes(dir)));
}
