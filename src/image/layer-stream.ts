// A layer blob from the store, decompressed off the main thread (zlib in
// libuv's thread pool for gzip, the zstd program for zstd; ADD's local
// archives also bzip2 and xz, with their programs), fed chunk by
// chunk to a synchronous tar handler, with the uncompressed bytes checked
// against the config's diff_id on the way.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { OcitsError, errnoText } from '../errors';
import { Digester, parseDigest, type DigestAlgorithm } from './digest';
import type { Compression } from './media-types';
import { TarParser, type TarHandler } from './tar-parser';

/** Decompressed bytes buffered ahead of the extractor, so decompression and extraction overlap. */
const READ_AHEAD = 8 * 1024 * 1024;
const CHUNK = 256 * 1024;

export async function applyLayerBlob(blobFile: string, compression: Compression, diffId: string, handler: TarHandler): Promise<void> {
  const actual = await applyTarFile(blobFile, compression, handler, parseDigest(diffId).algorithm);
  if (actual !== diffId) throw new OcitsError(`uncompressed content has digest ${actual}, not the diff_id ${diffId} of the image config`);
}

/** Feeds a (compressed) tar file to handler; returns the digest of the uncompressed bytes. */
export async function applyTarFile(file: string, compression: ArchiveCompression, handler: TarHandler, algorithm: DigestAlgorithm = 'sha256'): Promise<string> {
  const digester = new Digester(algorithm);
  const parser = new TarParser(handler);
  const { stream, finished, cancel } = decompressed(file, compression);
  try {
    for await (const chunk of stream) {
      digester.update(chunk);
      parser.write(chunk);
    }
    await finished;
  } catch (error) {
    // A zstd left writing to a pipe no one reads would keep the process alive.
    cancel();
    throw error instanceof OcitsError ? error : new OcitsError(`cannot decompress (${compression}): ${errnoText(error)}`);
  }
  parser.finish();
  return digester.digest();
}

interface Decompressed {
  stream: AsyncIterable<Buffer>;
  /** Settles when the decompressor has exited (zstd), rejecting on its failure. */
  finished: Promise<void>;
  /** Stops reading and decompressing. */
  cancel(): void;
}

/** What a tar file may be compressed with: a layer's compressions, and bzip2 and xz for ADD's local archives. */
export type ArchiveCompression = Compression | 'bzip2' | 'xz';

/** The decompressors run as programs, each printing the tar on stdout, and their Debian packages. */
const DECOMPRESSORS: Partial<Record<ArchiveCompression, { argv: string[]; debianPackage: string }>> = {
  zstd: { argv: ['zstd', '-d', '-c', '-q', '--no-progress'], debianPackage: 'zstd' },
  bzip2: { argv: ['bzip2', '-d', '-c', '-q'], debianPackage: 'bzip2' },
  xz: { argv: ['xz', '-d', '-c', '-q'], debianPackage: 'xz-utils' },
};

function decompressed(blobFile: string, compression: ArchiveCompression): Decompressed {
  const program = DECOMPRESSORS[compression];
  if (program !== undefined) {
    const [name, ...args] = program.argv;
    const child = spawn(name, [...args, blobFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const finished = new Promise<void>((resolve, reject) => {
      child.on('error', (error) => reject(new OcitsError(`${compression} needs the ${name} program (Debian package ${program.debianPackage}): ${errnoText(error)}`)));
      child.on('close', (status) => (status === 0 ? resolve() : reject(new OcitsError(`${name} failed: ${stderr.trim().split('\n')[0] || `exit status ${status}`}`))));
    });
    // A failed spawn surfaces through finished; the stream then just ends.
    finished.catch(() => undefined);
    return { stream: child.stdout, finished, cancel: () => child.kill('SIGKILL') };
  }
  const source = fs.createReadStream(blobFile, { highWaterMark: CHUNK });
  if (compression === 'none') return { stream: source, finished: Promise.resolve(), cancel: () => source.destroy() };
  const gunzip = zlib.createGunzip({ chunkSize: CHUNK, highWaterMark: READ_AHEAD } as zlib.ZlibOptions);
  source.on('error', (error) => gunzip.destroy(error));
  return {
    stream: source.pipe(gunzip),
    finished: Promise.resolve(),
    cancel: () => {
      source.destroy();
      gunzip.destroy();
    },
  };
}
