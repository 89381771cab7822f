// A build's scratch space in the store (.ocits/build-PID-XXXXXX): step
// overlays, bundles, downloads. A build removes its own at the end, even on
// SIGINT or SIGTERM; one that was killed outright leaves it, with overlay
// mounts still in it, so every build first removes those whose build
// process is gone. The pid in the name says whose it is: a live one (or a
// pid reused since, which only delays the removal) is left alone.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addon } from '../addon';
import { isErrno, messageOf } from '../errors';
import { isWithin, parseMountinfo } from '../mountinfo';
import { writeStderr } from '../output';

const PREFIX = 'build-';

/** Makes this build's work directory under dir (the store's .ocits). */
export function makeWorkDir(dir: string): string {
  return fs.mkdtempSync(path.join(dir, `${PREFIX}${process.pid}-`));
}

/** Removes the work directories of builds that are no longer running, and what is mounted in them. */
export function removeAbandonedWorkDirs(dir: string): void {
  for (const name of fs.readdirSync(dir)) {
    const match = new RegExp(`^${PREFIX}(\\d+)-`).exec(name);
    if (match === null || isRunning(Number(match[1]))) continue;
    removeWorkDir(path.join(dir, name));
  }
}

/**
 * Unmounts whatever is mounted below work (deepest first, lazily if busy),
 * then removes it; rm --one-file-system never reaches into a mount that
 * stayed. A failure is a warning: it must not hide the build's own outcome.
 */
export function removeWorkDir(work: string): void {
  const mounted = parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'))
    .map((entry) => entry.mountPoint)
    .filter((point) => point !== work && isWithin(point, work))
    .sort((a, b) => b.length - a.length);
  for (const point of mounted) {
    try {
      addon().detachMount(point);
    } catch (error) {
      writeStderr(`ocits: warning: cannot unmount ${point}: ${messageOf(error)}\n`);
    }
  }
  // rm(1) removes an unpacked root filesystem in half the time of fs.rmSync.
  const removed = spawnSync('rm', ['-rf', '--one-file-system', work], { encoding: 'utf8' });
  if (removed.status !== 0) writeStderr(`ocits: warning: cannot remove the build's work directory ${work}: ${(removed.stderr ?? '').trim() || String(removed.error)}\n`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return isErrno(error, 'EPERM');
  }
}
