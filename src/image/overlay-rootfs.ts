// `bundle --overlay`: DIR/rootfs as an overlay mount whose lower layer is
// the store's unpacked copy of the image and whose upper layer is
// DIR/overlay/upper, so that a second bundle of an image costs a mount, not
// an unpack, and what a container writes stays in its bundle. The copy in
// the store is never written through the mount; `image prune` keeps it
// while any overlay uses it.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OcitsError, errnoText } from '../errors';
import { parseMountinfo } from '../mountinfo';

/** The upper and work directories of the overlay, beside DIR/rootfs. */
export const OVERLAY_DIR = 'overlay';

/**
 * Mounts the overlay of lower on DIR/rootfs (both made by the caller's
 * bundle). Paths that overlay's option syntax cannot carry are refused.
 */
export function mountOverlayRootfs(lowerDir: string, bundleDir: string, rootfs: string): void {
  // Absolute, as mountinfo shows them and isOverlayLower compares them.
  const lower = path.resolve(lowerDir);
  const upper = path.resolve(bundleDir, OVERLAY_DIR, 'upper');
  const work = path.resolve(bundleDir, OVERLAY_DIR, 'work');
  for (const dir of [lower, upper, work]) {
    // mount(8) splits options at commas, overlay its layer list at colons; the kernel's escapes are not worth the risk.
    if (/[,:\\\s]/.test(dir)) throw new OcitsError(`--overlay: the path ${dir} holds a comma, colon, backslash or space, which overlay options cannot carry`);
  }
  fs.mkdirSync(path.resolve(bundleDir, OVERLAY_DIR), 0o700);
  fs.mkdirSync(upper, 0o755);
  fs.mkdirSync(work, 0o700);
  const result = spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, rootfs], { encoding: 'utf8' });
  if (result.error !== undefined) throw new OcitsError(`--overlay needs mount(8) (package mount): ${errnoText(result.error)}`);
  if (result.status !== 0) throw new OcitsError(`--overlay: cannot mount the overlay on ${rootfs}: ${result.stderr.trim().split('\n')[0]}`);
}

/** Whether an overlay mount of this host uses dir as a lower layer. */
export function isOverlayLower(lowerDir: string): boolean {
  const dir = path.resolve(lowerDir);
  const mounts = parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
  return mounts.some((mount) => mount.fstype === 'overlay' && mount.superOptions.some((option) => option.startsWith('lowerdir=') && option.slice('lowerdir='.length).split(':').includes(dir)));
}
