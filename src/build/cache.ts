// The layer cache: what a layer step (RUN, COPY, ADD, WORKDIR) produced,
// keyed by a digest of its parent's key, its instruction and its inputs
// (see the builder for what each step puts in its key). A record names a
// layer blob of the store (or says the step changed nothing); `ocits image
// prune` removes blobs no image uses, and a record whose blob is gone is a
// miss and is dropped. Records live in the store's private directory, so
// the cache survives between builds and follows --store.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomically } from '../lifecycle/write-file';
import { digestOf, parseDigest } from '../image/digest';
import type { Descriptor } from '../image/media-types';
import type { ImageStore } from '../image/store';

export interface CachedStep {
  /** undefined: the step changed no file (no layer, history's empty_layer). */
  layer?: { descriptor: Descriptor; diffId: string };
}

const CACHE_DIR = path.join('.ocits', 'build-cache');

export class BuildCache {
  constructor(
    private readonly store: ImageStore,
    private readonly enabled: boolean,
  ) {}

  /** The key of a step: its parent's key and what the step is made of. */
  static key(parent: string, parts: unknown): string {
    return digestOf(JSON.stringify([parent, parts]));
  }

  get(key: string): CachedStep | undefined {
    if (!this.enabled) return undefined;
    const file = this.file(key);
    let record: CachedStep;
    try {
      record = JSON.parse(fs.readFileSync(file, 'utf8')) as CachedStep;
    } catch {
      return undefined;
    }
    if (record.layer !== undefined && !this.store.hasBlob(record.layer.descriptor.digest)) {
      fs.rmSync(file, { force: true });
      return undefined;
    }
    return record;
  }

  /** Records a step's result; --no-cache builds still record theirs for the next build. */
  put(key: string, step: CachedStep): void {
    fs.mkdirSync(path.join(this.store.root, CACHE_DIR), { recursive: true, mode: 0o700 });
    writeFileAtomically(this.file(key), JSON.stringify(step));
  }

  private file(key: string): string {
    return path.join(this.store.root, CACHE_DIR, parseDigest(key).hex);
  }
}

/** Removes the records whose layer blob is no longer in the store (after a prune). */
export function dropStaleCacheRecords(store: ImageStore): void {
  const dir = path.join(store.root, CACHE_DIR);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    try {
      const record = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as CachedStep;
      if (record.layer === undefined || store.hasBlob(record.layer.descriptor.digest)) continue;
    } catch {
      // An unreadable record is no use to anyone.
    }
    fs.rmSync(path.join(dir, name), { force: true });
  }
}
