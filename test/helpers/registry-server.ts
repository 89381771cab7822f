// `ocits registry serve` as the tests run it: bin/ocits on 127.0.0.1 and a
// free port, its access log collected, stopped by PID (SIGTERM, then SIGKILL
// if it does not exit). rawRequest sends exactly the path it is given, so
// hostile paths (.., %2e%2e) reach the server as written.
import { spawn, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import { OCITS } from './cli';

export interface ServedRegistry {
  /** 127.0.0.1:PORT */
  address: string;
  url: string;
  child: ChildProcess;
  /** Everything the server printed on stdout (the access log) and stderr. */
  output(): string;
  /** The first line of output matching pattern, once it is there (a log line trails its answer). */
  waitFor(pattern: RegExp): Promise<string>;
  /** The whole access log so far: every request answered before this call has its line in it. */
  settledOutput(): Promise<string>;
  /** SIGTERM; resolves to the exit status (null when it had to be killed). */
  stop(): Promise<number | null>;
}

const running = new Set<ServedRegistry>();

export async function serveRegistry(store: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = process.env): Promise<ServedRegistry> {
  const child = spawn(OCITS, ['registry', 'serve', '--store', store, '--listen', '127.0.0.1:0', ...extraArgs], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const check = (): void => {
      const match = /serving .* on (https?:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match !== null) resolve(match[1]);
    };
    child.stdout!.on('data', check);
    void exited.then((code) => reject(new Error(`registry serve exited with ${code}: ${output}`)));
  });
  const served: ServedRegistry = {
    address: url.replace(/^https?:\/\//, ''),
    url,
    child,
    output: () => output,
    waitFor: async (pattern) => {
      for (;;) {
        const line = output.split('\n').find((l) => pattern.test(l));
        if (line !== undefined) return line;
        if (child.exitCode !== null) throw new Error(`registry serve exited before printing ${pattern}: ${output}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    settledOutput: async () => {
      const marker = `/v2/settle/m${Math.random().toString(36).slice(2)}/tags/list`;
      await rawRequest(url, 'GET', marker);
      await served.waitFor(new RegExp(`target=${marker} `));
      return output;
    },
    stop: async () => {
      running.delete(served);
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  running.add(served);
  return served;
}

afterAll(async () => {
  for (const served of [...running]) await served.stop();
});

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  json(): any;
}

/** One request on a fresh connection, the path sent as given. */
export function rawRequest(
  base: string,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: Buffer | string; ca?: Buffer } = {},
): Promise<RawResponse> {
  const url = new URL(base);
  const module = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = module.request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: { ...(options.body !== undefined ? { 'Content-Length': String(Buffer.byteLength(options.body)) } : {}), ...options.headers },
        agent: false,
        ...(options.ca !== undefined ? { ca: options.ca } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body, json: () => JSON.parse(body.toString()) });
        });
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
/** The empty config of artifacts, `{}`: push it as a blob before an artifact that uses it. */
export const EMPTY_CONFIG = '{}';

/** An artifact manifest (image-spec 1.1): the empty config, these layers, a subject. */
export function artifactManifest(
  artifactType: string,
  layers: Array<{ mediaType: string; digest: string; size: number }>,
  subject: { digest: string; size: number },
  annotations?: Record<string, string>,
): Buffer {
  const empty = `sha256:${crypto.createHash('sha256').update(EMPTY_CONFIG).digest('hex')}`;
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType,
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: empty, size: EMPTY_CONFIG.length },
      layers,
      subject: { mediaType: OCI_MANIFEST, ...subject },
      ...(annotations !== undefined ? { annotations } : {}),
    }),
  );
}
