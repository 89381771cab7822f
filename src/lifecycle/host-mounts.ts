// A container without a mount namespace of its own shares the runtime's:
// create's init mounts the rootfs onto itself and everything else below it
// there, and chroots. Those mounts would outlive the container (runc leaves
// them), so the record keeps which mount held the rootfs before create, and
// delete detaches whatever create stacked on top of it, which takes every
// mount below along.
import * as fs from 'node:fs';
import { addon } from '../addon';
import { OcitsError, isErrno, messageOf, quoted } from '../errors';

const O_PATH = 0o10000000;

/** The id of the topmost mount at dir, as /proc/self/fdinfo tells it. */
export function mountIdAt(dir: string): number {
  const fd = fs.openSync(dir, O_PATH | fs.constants.O_DIRECTORY);
  try {
    const match = /^mnt_id:\s*(\d+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    if (match === null) throw new OcitsError(`cannot tell which mount holds ${quoted(dir)}`);
    return Number(match[1]);
  } finally {
    fs.closeSync(fd);
  }
}

/** The init's root, which `exec` chroots to: our mount namespace's root is the host's. */
export function openContainerRoot(initPid: number, opened: number[]): number {
  let fd: number;
  try {
    fd = fs.openSync(`/proc/${initPid}/root`, O_PATH | fs.constants.O_DIRECTORY);
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ESRCH')) throw new OcitsError('cannot exec in a stopped container');
    throw new OcitsError(`cannot open the container's root: ${messageOf(error)}`);
  }
  opened.push(fd);
  return fd;
}

/**
 * Detaches what create mounted at rootfs over the mount whose id it recorded,
 * layer by layer (a config mount on / is one more). Nothing to do when that
 * mount is on top again: never mounted over, or done already.
 */
export function unmountContainerMounts(rootfs: string, mountIdBefore: number): void {
  const failure = (error: unknown) => new OcitsError(`cannot unmount the container's mounts at ${quoted(rootfs)}: ${messageOf(error)}`);
  for (let layer = 0; layer < MAX_LAYERS; layer++) {
    try {
      if (mountIdAt(rootfs) === mountIdBefore) return;
      addon().detachMount(rootfs);
    } catch (error) {
      // Gone, or no longer a mount point: nothing of ours is left there.
      if (isErrno(error, 'ENOENT') || isErrno(error, 'EINVAL')) return;
      throw failure(error);
    }
  }
  throw failure(`more than ${MAX_LAYERS} mounts stacked on it`);
}

/** create stacks one mount, two with a config mount on /: far fewer than this. */
const MAX_LAYERS = 16;
