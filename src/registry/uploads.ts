// Blob upload sessions (distribution-spec "Pushing blobs"): POST opens one,
// PATCH appends a chunk at exactly the current end (else 416), PUT closes it
// with the digest of the whole blob, GET tells how far it got. A session is
// a directory under the store's .ocits/uploads/ named by a random UUID, so
// it survives a restart of the server; the running sha256 of an in-order
// upload stays in memory, so closing it does not read the blob again.
// Concurrent uploads of one blob each write their own file; the first to
// close makes it the blob, the others find it there.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hashFile, writeAt } from '../image/blob-file';
import { Digester, type DigestAlgorithm } from '../image/digest';
import type { ImageStore } from '../image/store';
import { RegistryError } from './errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DATA_FILE = 'data';
const REPOSITORY_FILE = 'repository';

export interface UploadSession {
  uuid: string;
  /** The repository name it was opened for. */
  repository: string;
  /** Bytes received so far. */
  size: number;
}

/** What the server keeps in memory about a session: its running digest, and whether a request is writing it. */
interface LiveSession {
  digester: Digester;
  hashed: number;
  busy: boolean;
}

const unknown = (uuid: string): RegistryError => new RegistryError(404, 'BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', { uuid: uuid.slice(0, 100) });

export class Uploads {
  private readonly live = new Map<string, LiveSession>();

  constructor(private readonly store: ImageStore) {}

  start(repository: string): UploadSession {
    this.store.ensureLayout();
    const uuid = crypto.randomUUID();
    const dir = this.dir(uuid);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(dir, DATA_FILE), '', { mode: 0o644 });
    fs.writeFileSync(path.join(dir, REPOSITORY_FILE), repository);
    this.live.set(uuid, { digester: new Digester('sha256'), hashed: 0, busy: false });
    return { uuid, repository, size: 0 };
  }

  /** The session, which must belong to the repository. */
  open(repository: string, uuid: string): UploadSession {
    if (!UUID.test(uuid)) throw unknown(uuid);
    let owner: string;
    let size: number;
    try {
      owner = fs.readFileSync(path.join(this.dir(uuid), REPOSITORY_FILE), 'utf8');
      size = fs.statSync(path.join(this.dir(uuid), DATA_FILE)).size;
    } catch {
      throw unknown(uuid);
    }
    if (owner !== repository) throw unknown(uuid);
    return { uuid, repository, size };
  }

  /**
   * Appends a chunk that starts at start (the current end, else 416) and
   * returns the new size. One request writes a session at a time.
   */
  async append(session: UploadSession, start: number, chunks: AsyncIterable<Buffer>): Promise<number> {
    if (start !== session.size) {
      throw new RegistryError(416, 'BLOB_UPLOAD_INVALID', `chunk starts at ${start}, but the upload has ${session.size} bytes`, undefined, this.rangeHeaders(session));
    }
    const live = this.claim(session);
    const fd = fs.openSync(path.join(this.dir(session.uuid), DATA_FILE), 'r+');
    let offset = session.size;
    try {
      const hashing = live.hashed === offset;
      for await (const chunk of chunks) {
        await writeAt(fd, chunk, offset);
        if (hashing) live.digester.update(chunk);
        offset += chunk.length;
        if (hashing) live.hashed = offset;
      }
      return offset;
    } finally {
      // A chunk cut short leaves what arrived; the client asks GET where to go on.
      fs.closeSync(fd);
      live.busy = false;
    }
  }

  /** Headers of a 202, 204 or 416: where the session is and what it holds. */
  rangeHeaders(session: UploadSession): Record<string, string> {
    return {
      Location: uploadLocation(session),
      Range: `0-${Math.max(session.size - 1, 0)}`,
      'Docker-Upload-UUID': session.uuid,
    };
  }

  /**
   * Ends the session as the blob with this digest, which the whole content
   * must have (else DIGEST_INVALID, and the session is gone). commit moves
   * the verified file into the store.
   */
  finish(session: UploadSession, digest: string, algorithm: DigestAlgorithm, commit: (file: string) => void): void {
    const live = this.claim(session);
    const file = path.join(this.dir(session.uuid), DATA_FILE);
    try {
      const size = fs.statSync(file).size;
      const actual = algorithm === 'sha256' && live.hashed === size ? live.digester.digest() : hashWholeFile(file, algorithm);
      if (actual !== digest) {
        throw new RegistryError(400, 'DIGEST_INVALID', `the uploaded content has digest ${actual}, not ${digest}`, { digest, actual });
      }
      commit(file);
    } finally {
      this.cancel(session);
    }
  }

  cancel(session: UploadSession): void {
    this.live.delete(session.uuid);
    fs.rmSync(this.dir(session.uuid), { recursive: true, force: true });
  }

  private claim(session: UploadSession): LiveSession {
    let live = this.live.get(session.uuid);
    if (live === undefined) {
      // Opened before a restart: its digest is computed from the file when it closes.
      live = { digester: new Digester('sha256'), hashed: -1, busy: false };
      this.live.set(session.uuid, live);
    }
    if (live.busy) {
      throw new RegistryError(416, 'BLOB_UPLOAD_INVALID', 'another request is writing this upload', undefined, this.rangeHeaders(session));
    }
    live.busy = true;
    return live;
  }

  private dir(uuid: string): string {
    return path.join(this.store.uploadsDir(), uuid);
  }
}

export function uploadLocation(session: UploadSession): string {
  return `/v2/${session.repository}/blobs/uploads/${session.uuid}`;
}

function hashWholeFile(file: string, algorithm: DigestAlgorithm): string {
  const digester = new Digester(algorithm);
  const fd = fs.openSync(file, 'r');
  try {
    hashFile(fd, digester);
  } finally {
    fs.closeSync(fd);
  }
  return digester.digest();
}
