// The typed surface of the C++ addon (addon/). It is loaded on first use, so
// commands that need no syscall beyond Node's never pay for loading it.
import * as path from 'node:path';

export type LockMode = 'exclusive' | 'shared' | 'unlock';

export interface Addon {
  /** flock(2); false only when wait is false and the lock is held elsewhere. */
  flock(fd: number, mode: LockMode, wait: boolean): boolean;
  /** The version of the libseccomp the addon is linked with, e.g. "2.5.4". */
  seccompVersion(): string;
}

let loaded: Addon | undefined;

export function addon(): Addon {
  // Both src/ (tests) and dist/ (the bundle) sit one level below the checkout.
  loaded ??= require(path.join(__dirname, '..', 'build', 'Release', 'ocits.node')) as Addon;
  return loaded;
}
