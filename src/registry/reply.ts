// The answer to one request: headers gathered by the endpoint, then one of
// a JSON body, bytes, nothing, an error, or a streamed blob range. It
// remembers its status and the bytes it sent for the access log.
import * as fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
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
   * length bytes of the file from start. A client that reads nothing for a
   * whole window is cut off (ConnectionEndedError).
   */
  async streamFile(status: number, fd: number, start: number, length: number, windowMs: number): Promise<void> {
    this.begin(status, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(length) });
    if (length === 0) {
      this.response.end();
      return;
    }
    const source = fs.createReadStream('', { fd, start, end: start + length - 1, autoClose: false, highWaterMark: STREAM_CHUNK });
    source.on('data', (chunk) => (this.bytes += chunk.length));
    // A client that reads nothing for a whole window is cut off.
    let atWindowStart = 0;
    const watchdog = setInterval(() => {
      if (this.bytes === atWindowStart) source.destroy(new ConnectionEndedError());
      atWindowStart = this.bytes;
    }, windowMs);
    try {
      await pipeline(source, this.response);
    } catch (error) {
      throw error instanceof ConnectionEndedError ? error : new ConnectionEndedError();
    } finally {
      clearInterval(watchdog);
    }
  }

  private begin(status: number, headers: Record<string, string>): void {
    this.status = status;
    this.response.writeHead(status, { 'Docker-Distribution-API-Version': 'registry/2.0', ...this.headers, ...headers });
  }
}
