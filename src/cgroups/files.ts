// Reading and writing cgroup control files. Each write is one write(2) on a
// file opened without O_CREAT or O_TRUNC: the kernel acts on every write, and
// a mistyped directory must fail rather than create a plain file.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OcitsError, errnoCode, errnoText, quoted } from '../errors';

/** The whole file, or undefined when it does not exist. */
export function readCgroupFile(dir: string, name: string): string | undefined {
  const file = path.join(dir, name);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw new OcitsError(`cannot read ${quoted(file)}: ${errnoText(error)}`);
  }
}

/**
 * Writes value to dir/name in a single write(2). `doing` says why, for the
 * error: "cannot <doing>: writing "<value>" to <file>: <reason>".
 */
export function writeCgroupFile(dir: string, name: string, value: string, doing: string): void {
  const file = path.join(dir, name);
  try {
    const fd = fs.openSync(file, fs.constants.O_WRONLY);
    try {
      fs.writeSync(fd, value);
    } finally {
      fs.closeSync(fd);
    }
  } catch (error) {
    throw new CgroupWriteError(`cannot ${doing}: writing ${JSON.stringify(value)} to ${quoted(file)}: ${errnoText(error)}`, errnoCode(error));
  }
}

/** A failed write, keeping the errno code so callers can retry on some. */
export class CgroupWriteError extends OcitsError {
  constructor(message: string, readonly code: string | undefined) {
    super(message);
    this.name = 'CgroupWriteError';
  }
}
