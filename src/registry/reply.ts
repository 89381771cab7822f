// The answer to one request: headers gathered by the endpoint, then one of
// a JSON body, bytes, nothing, an error, or a streamed blob range. It
// remembers its status and the bytes it sent for the access log.
import * as fs from 'node:fs';
import type * as http from 'node:http';
import { errorBody, RegistryErrors, type RegistryError } from './errors';
import { ConnectionEndedError } from './body';

/** Read and written at once: large enough that a big blob costs few system calls. */
const STREAM_CHUNK = 1024 * 1024;

export class Reply {
  status = 0;
  bytes = 0;
  private readonly headers: Record<string, string> = {};

  constructor(private readonly response: http.ServerResponse) {}

  /** Runs fn once the answer has been handed to the connection. */
  onSent(fn: () => void): void {
    this.response.once('finish', fn);
  }

  get sent(): boolean {
    return this.status !== 0;
  }

  header(name: string, value: string): void {
    this.headers[name] = value;
  }

  json(status: number, value: unknown, contentType = 'application/json'): void {
    this.send(status, Buffer.from(JSON.stringify(value)), contentType, false);
  }

  /** A whole body, or for HEAD only its length (data may then be just the length). */
  send(status: number, data: Buffer | number, contentType: string, headOnly: boolean): void {
    const length = typeof data === 'number' ? data : data.length;
    this.begin(status, { 'Content-Type': contentType, 'Content-Length': String(length) });
    if (headOnly || typeof data === 'number') {
      this.response.end();
      return;
    }
    this.bytes = length;
    this.response.end(data);
  }

  empty(status: number): void {
    this.begin(status, { 'Content-Length': '0' });
    this.response.end();
  }

  error(error: RegistryError): void {
    for (const [name, value] of Object.entries(error.headers)) this.header(name, value);
    const all = error instanceof RegistryErrors ? error.all : [error];
    this.send(error.status, Buffer.from(errorBody(all)), 'application/json', false);
  }

  /**
   * length bytes of the file from start, read and written a chunk at a time.
   * A client that takes a whole window to accept one chunk is cut off
   * (ConnectionEndedError).
   */
  async streamFile(status: number, fd: number, start: number, length: number, windowMs: number): Promise<void> {
    this.begin(status, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(length) });
    const end = start + length;
    try {
      for (let position = start; position < end; ) {
        if (this.response.destroyed) throw new ConnectionEndedError();
        const chunk = Buffer.allocUnsafe(Math.min(STREAM_CHUNK, end - position));
        // Read synchronously: a blob being served is nearly always in the page
        // cache, and bench/registry.js measured this loop at 1.2-1.4x the
        // throughput of a read stream piped into the response.
        const got = fs.readSync(fd, chunk, 0, chunk.length, position);
        if (got === 0) throw new Error(`the blob ended ${end - position} bytes short`);
        position += got;
        this.bytes += got;
        if (!this.response.write(got === chunk.length ? chunk : chunk.subarray(0, got))) await this.drained(windowMs);
      }
    } catch (error) {
      // The answer has begun: the only way left to say it failed is to end the connection.
      this.response.destroy();
      throw error;
    }
    this.response.end();
  }

  /** Resolves once the connection has taken what was written; rejects if it closes or stalls for a window. */
  private drained(windowMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const settle = (error?: Error): void => {
        clearTimeout(timer);
        this.response.off('drain', onDrain);
        this.response.off('close', onClose);
        if (error !== undefined) reject(error);
        else resolve();
      };
      const onDrain = (): void => settle();
      const onClose = (): void => settle(new ConnectionEndedError());
      const timer = setTimeout(() => settle(new ConnectionEndedError()), windowMs);
      this.response.on('drain', onDrain);
      this.response.on('close', onClose);
    });
  }

  private begin(status: number, headers: Record<string, string>): void {
    this.status = status;
    this.response.writeHead(status, { 'Docker-Distribution-API-Version': 'registry/2.0', ...this.headers, ...headers });
  }
}
