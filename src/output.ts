// Writes to stdout and stderr without Node's stream objects: creating
// process.stdout or process.stderr loads the stream machinery, a few
// milliseconds that every engine call would pay for one line of output.
import * as fs from 'node:fs';
import { sleepSync } from './sleep';

export function writeStdout(text: string): void {
  writeAll(1, text);
}

export function writeStderr(text: string): void {
  writeAll(2, text);
}

/** Writes all of data to fd, waiting while a non-blocking fd is full; throws on any other error. */
export function writeAll(fd: number, data: string | Buffer): void {
  let bytes = typeof data === 'string' ? Buffer.from(data) : data;
  while (bytes.length > 0) {
    try {
      bytes = bytes.subarray(fs.writeSync(fd, bytes));
    } catch (error) {
      // A non-blocking pipe or terminal that is full: wait for the reader.
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      sleepSync(1);
    }
  }
}
