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

function writeAll(fd: number, text: string): void {
  let bytes = Buffer.from(text);
  while (bytes.length > 0) {
    try {
      bytes = bytes.subarray(fs.writeSync(fd, bytes));
    } catch (error) {
      // A non-blocking pipe that is full: wait for the reader.
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      sleepSync(1);
    }
  }
}
