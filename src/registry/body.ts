// Request bodies read under guard: no more than a limit (a manifest cap, the
// free disk), and at least MIN_BYTES_PER_WINDOW in every window of the
// server's timeout, so a client that sends a byte a second cannot hold a
// connection and a file open for ever. A client too slow is disconnected;
// a body too large is refused with the spec's error.
import type * as http from 'node:http';
import * as fs from 'node:fs';
import { RegistryError } from './errors';

/** What a client must send per timeout window (1 KiB: a trickle is no upload). */
const MIN_BYTES_PER_WINDOW = 1024;
/** Disk space an upload leaves free, so that index.json and the logs can still be written. */
const DISK_RESERVE_BYTES = 64 * 1024 * 1024;

export interface BodyGuard {
  /** The timeout window: a client must send MIN_BYTES_PER_WINDOW in each. */
  windowMs: number;
  /** The largest body taken, and the error for one larger. */
  limit: number;
  tooLarge: () => RegistryError;
}

/** A connection ended before its body did: the client went away, or was too slow and was cut off. Never answered. */
export class ConnectionEndedError extends Error {
  constructor() {
    super('the client was too slow or went away');
  }
}

/** The declared Content-Length, if any; a malformed one is the client's error. */
export function declaredLength(request: http.IncomingMessage): number | undefined {
  const header = request.headers['content-length'];
  if (header === undefined) return undefined;
  if (!/^[0-9]{1,15}$/.test(header)) throw new RegistryError(400, 'SIZE_INVALID', 'invalid Content-Length');
  return Number(header);
}

/** The request's body in chunks, under guard. A declared length over the limit is refused before a byte is read. */
export async function* guardedBody(request: http.IncomingMessage, guard: BodyGuard): AsyncGenerator<Buffer> {
  const length = declaredLength(request);
  if (length !== undefined && length > guard.limit) throw guard.tooLarge();
  let received = 0;
  let atWindowStart = 0;
  const timer = setInterval(() => {
    if (received - atWindowStart < MIN_BYTES_PER_WINDOW && !request.complete) {
      // The socket itself: Bun answers a destroyed request with a 200 of its own.
      request.socket.destroy();
    }
    atWindowStart = received;
  }, guard.windowMs);
  try {
    for await (const chunk of request as AsyncIterable<Buffer>) {
      received += chunk.length;
      if (received > guard.limit) throw guard.tooLarge();
      yield chunk;
    }
  } catch (error) {
    if (error instanceof RegistryError) throw error;
    throw new ConnectionEndedError();
  } finally {
    clearInterval(timer);
  }
}

/** A whole small body (a manifest). */
export async function readGuardedBody(request: http.IncomingMessage, guard: BodyGuard): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of guardedBody(request, guard)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** How many bytes an upload into dir may still take. */
export function uploadRoom(dir: string): number {
  try {
    const stats = fs.statfsSync(dir);
    return Math.max(0, stats.bavail * stats.bsize - DISK_RESERVE_BYTES);
  } catch {
    return Number.MAX_SAFE_INTEGER;
  }
}
