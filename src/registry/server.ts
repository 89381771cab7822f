// `ocits registry serve`: the HTTP(S) server around the endpoints: Basic
// auth, one access-log line per request, timeouts against slow clients, and
// a graceful stop on SIGTERM or SIGINT (no new connections, requests in
// flight finish, exit 0).
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type * as net from 'node:net';
import * as tls from 'node:tls';
import { OcitsError, errnoCode, errnoText, messageOf } from '../errors';
import { logError, type LogFormat } from '../log';
import { writeStdout } from '../output';
import type { ImageStore } from '../image/store';
import { writeAccessRecord } from './access-log';
import { ConnectionEndedError } from './body';
import { route, type RegistryContext } from './endpoints';
import { RegistryError } from './errors';
import { Htpasswd } from './htpasswd';
import { Reply } from './reply';
import { Uploads } from './uploads';

export interface ServeOptions {
  store: ImageStore;
  /** ADDR:PORT, [IPv6]:PORT; port 0 picks a free one. */
  listen: string;
  htpasswd?: string;
  tlsCert?: string;
  tlsKey?: string;
  readOnly: boolean;
  logFormat: LogFormat;
  /** A client must send its headers within this, and send or read at least 1 KiB in each such window. */
  timeoutMs: number;
}

const REALM = 'ocits-registry';

interface Connection {
  socket: net.Socket;
  active: number;
  headerTimer?: NodeJS.Timeout;
}

/** Serves until SIGTERM or SIGINT; resolves once every request in flight has finished. */
export async function serveRegistry(options: ServeOptions): Promise<void> {
  const { host, port } = parseListen(options.listen);
  const htpasswd = options.htpasswd !== undefined ? new Htpasswd(options.htpasswd) : undefined;
  const tlsPair = options.tlsCert !== undefined || options.tlsKey !== undefined ? readTls(options) : undefined;
  options.store.ensureLayout();
  const context: RegistryContext = {
    store: options.store,
    uploads: new Uploads(options.store),
    readOnly: options.readOnly,
    windowMs: options.timeoutMs,
  };
  const connections = new Set<Connection>();
  let stopping = false;

  const handle = async (request: http.IncomingMessage, response: http.ServerResponse, connection: Connection | undefined): Promise<void> => {
    const started = performance.now();
    // Read now: the engine may detach the socket once the answer is sent.
    const socket = request.socket as net.Socket | null;
    const remote = socket?.remoteAddress ?? '-';
    const reply = new Reply(response);
    let user: string | undefined;
    let failure: string | undefined;
    if (stopping) reply.header('Connection', 'close');
    try {
      if (htpasswd !== undefined) {
        user = await htpasswd.authenticate(request.headers.authorization);
        if (user === undefined) {
          throw new RegistryError(401, 'UNAUTHORIZED', 'authentication required', undefined, { 'WWW-Authenticate': `Basic realm="${REALM}"` });
        }
      }
      await route(context, request, reply);
    } catch (error) {
      failure = messageOf(error);
      // Ending the socket, not the response: Bun answers a destroyed response with a 200 of its own.
      if (error instanceof ConnectionEndedError) {
        reply.status ||= 408;
        socket?.destroy();
      } else if (reply.sent) {
        // The answer had begun (a blob stream): nothing to say but to end the connection.
        socket?.destroy();
      } else if (error instanceof RegistryError) {
        answerError(reply, request, error);
      } else if (errnoCode(error) === 'ENOSPC' || errnoCode(error) === 'EDQUOT') {
        answerError(reply, request, new RegistryError(413, 'SIZE_INVALID', 'the registry has no disk space left for this'));
      } else {
        logError(`registry: ${request.method} ${request.url}: ${errnoText(error)}`);
        answerError(reply, request, new RegistryError(500, 'UNSUPPORTED', 'internal error of the registry'));
      }
    } finally {
      writeAccessRecord(
        {
          remote,
          user,
          method: request.method ?? '-',
          target: request.url ?? '-',
          status: reply.status,
          bytes: reply.bytes,
          durationMs: performance.now() - started,
          agent: request.headers['user-agent'],
          ...(failure !== undefined ? { error: failure } : {}),
        },
        options.logFormat,
      );
      if (connection !== undefined) requestDone(connection);
    }
  };

  const requestDone = (connection: Connection): void => {
    connection.active--;
    if (stopping && connection.active === 0) connection.socket.end();
    else if (connection.active === 0) armHeaderTimer(connection);
  };

  // Headers must arrive within the timeout, on a new connection and between keep-alive requests.
  const armHeaderTimer = (connection: Connection): void => {
    clearTimeout(connection.headerTimer);
    connection.headerTimer = setTimeout(() => connection.socket.destroy(), options.timeoutMs);
    connection.headerTimer.unref();
  };

  const bySocket = new WeakMap<net.Socket, Connection>();
  const listener = (request: http.IncomingMessage, response: http.ServerResponse): void => {
    const connection = bySocket.get(request.socket);
    if (connection !== undefined) {
      connection.active++;
      clearTimeout(connection.headerTimer);
    }
    void handle(request, response, connection);
  };
  const server = tlsPair !== undefined ? https.createServer(tlsPair, listener) : http.createServer(listener);
  // Our own timers judge slowness (body.ts, reply.ts, the header timer); the engine's would cut long uploads.
  server.requestTimeout = 0;
  server.on('connection', (socket: net.Socket) => {
    const connection: Connection = { socket, active: 0 };
    bySocket.set(socket, connection);
    connections.add(connection);
    armHeaderTimer(connection);
    socket.on('close', () => {
      clearTimeout(connection.headerTimer);
      connections.delete(connection);
    });
  });
  server.on('clientError', (_error: Error, socket: net.Socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new OcitsError(`cannot listen on ${options.listen}: ${errnoText(error)}`)));
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as net.AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  writeStdout(`ocits registry: serving ${options.store.root} on ${tlsPair !== undefined ? 'https' : 'http'}://${shown}:${address.port}\n`);

  await new Promise<void>((resolve) => {
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      server.close();
      for (const connection of connections) if (connection.active === 0) connection.socket.destroy();
      const poll = setInterval(() => {
        if (![...connections].every((connection) => connection.active === 0)) return;
        clearInterval(poll);
        // Half-close what is left so the last answers are read, then make sure nothing stays.
        for (const connection of connections) connection.socket.end();
        const deadline = Date.now() + 2000;
        const drain = setInterval(() => {
          if (connections.size > 0 && Date.now() < deadline) return;
          clearInterval(drain);
          for (const connection of connections) connection.socket.destroy();
          resolve();
        }, 20);
      }, 50);
    };
    // A second signal while stopping changes nothing: requests in flight still finish.
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

function answerError(reply: Reply, request: http.IncomingMessage, error: RegistryError): void {
  // A refused body that is still coming: answer, then close rather than read it all
  // (Bun keeps such a connection open despite Connection: close).
  if (!request.complete) {
    reply.header('Connection', 'close');
    const socket = request.socket as net.Socket | null;
    // Half-closed, so the client can still read the answer; gone for good a moment later.
    reply.onSent(() => {
      socket?.end();
      setTimeout(() => socket?.destroy(), 1000).unref();
    });
  }
  reply.error(error);
}

export function parseListen(text: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]*)):([0-9]{1,5})$/.exec(text);
  const port = match !== null ? Number(match[3]) : NaN;
  if (match === null || port > 65535) throw new OcitsError(`--listen: "${text}" is not ADDR:PORT (127.0.0.1:5000, [::1]:5000, :5000)`);
  return { host: match[1] ?? (match[2] !== '' ? match[2] : '0.0.0.0'), port };
}

function readTls(options: ServeOptions): { cert: Buffer; key: Buffer } {
  if (options.tlsCert === undefined || options.tlsKey === undefined) throw new OcitsError('--tls-cert and --tls-key go together');
  const read = (file: string, what: string): Buffer => {
    try {
      return fs.readFileSync(file);
    } catch (error) {
      throw new OcitsError(`cannot read the TLS ${what} ${file}: ${errnoText(error)}`);
    }
  };
  const pair = { cert: read(options.tlsCert, 'certificate'), key: read(options.tlsKey, 'key') };
  try {
    // Checked now: the engine would only say so when it listens, in its own words.
    tls.createSecureContext(pair);
  } catch (error) {
    throw new OcitsError(`cannot serve TLS with ${options.tlsCert} and ${options.tlsKey}: ${messageOf(error)}`);
  }
  return pair;
}
