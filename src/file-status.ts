// A file's status where there may be none: the checks that walk a tree they
// are about to write (layers, COPY, the image store) ask "what is there?",
// not "is it there?".
import * as fs from 'node:fs';

/** lstat of file, or undefined when there is nothing to look at there (missing, or a path through a non-directory). */
export function lstatOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(file);
  } catch {
    return undefined;
  }
}
