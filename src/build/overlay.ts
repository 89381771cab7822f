// The file system a RUN, COPY or ADD step changes: an overlayfs with the
// stage's root filesystem as its lower directory and a fresh upper
// directory, which afterwards holds exactly the step's changes (overlayfs
// marks deletions as 0:0 character devices and replaced directories as
// opaque). redirect_dir and metacopy are off so that a renamed directory or
// a changed mode copies the whole object up, as a layer must carry it.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OcitsError, messageOf } from '../errors';
import { parseMountinfo } from '../mountinfo';
import { mountOverlayfs } from '../overlayfs';

export interface OverlayMount {
  /** The merged tree: what the step sees and writes. */
  merged: string;
  /** The step's changes. */
  upper: string;
  dir: string;
}

/** Mounts lower + a fresh upper in dir (which must not exist), on the store's file system. */
export function mountOverlay(lower: string, dir: string): OverlayMount {
  fs.mkdirSync(dir, { mode: 0o700 });
  for (const name of ['upper', 'work', 'merged']) fs.mkdirSync(path.join(dir, name), { mode: 0o755 });
  try {
    // Paths go relative to dir: a store path with a comma or colon cannot break the option string.
    mountOverlayfs({ lower: path.relative(dir, lower), upper: 'upper', work: 'work' }, 'merged', {
      cwd: dir,
      preferred: ['redirect_dir=off', 'metacopy=off', 'index=off'],
    });
  } catch (error) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new OcitsError(`cannot mount the overlay of a build step: ${messageOf(error)}`);
  }
  return { merged: path.join(dir, 'merged'), upper: path.join(dir, 'upper'), dir };
}

/** Unmounts the merged tree (lazily if it is still busy); its upper and work directories stay until removeOverlay. */
export function unmountOverlay(mount: OverlayMount): void {
  const result = spawnSync('umount', [mount.merged], { encoding: 'utf8' });
  if (result.status === 0) return;
  const lazy = spawnSync('umount', ['--lazy', mount.merged], { encoding: 'utf8' });
  if (lazy.status !== 0 && isMounted(mount.merged)) throw new OcitsError(`cannot unmount ${mount.merged}: ${result.stderr.trim()}`);
}

export function removeOverlay(mount: OverlayMount): void {
  if (isMounted(mount.merged)) unmountOverlay(mount);
  fs.rmSync(mount.dir, { recursive: true, force: true });
}

function isMounted(dir: string): boolean {
  let mountinfo: string;
  try {
    mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return false;
  }
  return parseMountinfo(mountinfo).some((entry) => entry.mountPoint === dir);
}
