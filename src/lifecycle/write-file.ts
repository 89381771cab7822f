// Files other programs read while we write them (pid files) are replaced
// whole: written beside the target, flushed, then renamed over it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OcitsError, errnoText, quoted } from '../errors';

/** what names the file in an error: "pid file" gives "cannot write the pid file "/x/y": ...". */
export function writeFileAtomically(file: string, content: string, what = 'file', mode = 0o644): void {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    const fd = fs.openSync(temporary, 'w', mode);
    try {
      fs.writeFileSync(fd, content);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temporary, file);
  } catch (error) {
    removeQuietly(temporary);
    throw new OcitsError(`cannot write the ${what} ${quoted(file)}: ${errnoText(error)}`);
  }
}

/** Removes a temporary file that may never have been made. */
function removeQuietly(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch {
    // not made, or its directory is gone: nothing of ours is left
  }
}
