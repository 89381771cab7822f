// Reading and writing blob files by descriptor and offset: shared by pull's
// resumable downloads and the registry server's uploads.
import * as fs from 'node:fs';
import type { Digester } from './digest';

/** Feeds the first length bytes of the file to the digester (all of it without a length). */
export function hashFile(fd: number, digester: Digester, length = Infinity): void {
  const buffer = Buffer.alloc(1024 * 1024);
  for (let position = 0; position < length; ) {
    const read = fs.readSync(fd, buffer, 0, Math.min(buffer.length, length - position), position);
    if (read === 0) break;
    digester.update(buffer.subarray(0, read));
    position += read;
  }
}

/** Writes all of data at position, without blocking the event loop. */
export function writeAt(fd: number, data: Buffer, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const writeRest = (written: number): void => {
      if (written === data.length) return resolve();
      fs.write(fd, data, written, data.length - written, position + written, (error, count) => (error ? reject(error) : writeRest(written + count)));
    };
    writeRest(0);
  });
}
