// Every container process (the init, exec'd processes, hooks run in the
// container) is a clone of this process until its execve, and a script
// whose interpreter is /proc/self/exe would make the container run, and then
// overwrite, the binary this process runs. bin/ocits (launcher/launcher.c)
// starts the ocits program from a copy no one can write and says how in
// OCITS_SEALED_EXE; without it, no container process is made.
import { OcitsError } from '../errors';

export function assertSealedExecutable(): void {
  if (!process.env.OCITS_SEALED_EXE) {
    throw new OcitsError('refusing to make a container process from an unsealed binary: run ocits through bin/ocits');
  }
}
