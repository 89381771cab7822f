// Content digests ("sha256:<hex>"): checked before any digest becomes part of
// a file name, and computed while bytes stream.
import * as crypto from 'node:crypto';
import { OcitsError } from '../errors';

export type DigestAlgorithm = 'sha256' | 'sha512';

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
}

/** Splits a digest, refusing anything but lower-case hex of the algorithm's length. */
export function parseDigest(digest: string): ParsedDigest {
  const colon = digest.indexOf(':');
  const algorithm = digest.slice(0, colon) as DigestAlgorithm;
  const hex = digest.slice(colon + 1);
  const length = HEX_LENGTH[algorithm];
  if (colon === -1 || length === undefined || hex.length !== length || !/^[0-9a-f]+$/.test(hex)) {
    throw new OcitsError(`invalid digest "${digest}"`);
  }
  return { algorithm, hex };
}

export function isDigest(text: string): boolean {
  try {
    parseDigest(text);
    return true;
  } catch {
    return false;
  }
}

export function digestOf(data: Buffer | string, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${crypto.createHash(algorithm).update(data).digest('hex')}`;
}

/** A running digest for bytes that arrive in pieces. */
export class Digester {
  private hash: crypto.Hash;
  constructor(readonly algorithm: DigestAlgorithm = 'sha256') {
    this.hash = crypto.createHash(algorithm);
  }
  /** Starts again from no bytes. */
  reset(): void {
    this.hash = crypto.createHash(this.algorithm);
  }
  update(data: Buffer): void {
    this.hash.update(data);
  }
  digest(): string {
    return `${this.algorithm}:${this.hash.digest('hex')}`;
  }
}
