// What an image's later layers remove or replace, so that unpacking an
// earlier layer can skip the entries the finished rootfs will not hold.
// A layer that deletes /usr/share/doc otherwise costs thousands of files
// written by the layer below and then unlinked again: in the corpus's
// Debian image a third of the base layer's entries.
//
// Skipping is only ever justified by a removal that really happens later
// (layer.md's rules as rootfs-writer.ts applies them), so the rootfs comes
// out the same. The one thing a skipped entry can still be needed for is a
// hard link made before its removal: the writer then throws
// SkippedLinkTarget and the caller unpacks again without skipping.
import type { TarHandler, TarHeader } from './tar-parser';
import { relativePath, OPAQUE_MARKER, WHITEOUT_PREFIX } from './rootfs-writer';

/** Layer numbers (0-based) of the latest layer that removes each path. */
export class LayerShadows {
  /** The path and everything below it: a whiteout, or an entry that is not a directory. */
  private readonly subtree = new Map<string, number>();
  /** Everything strictly below the directory: an opaque marker. */
  private readonly below = new Map<string, number>();
  /** A directory entry: it keeps a lower directory but replaces anything else there. */
  private readonly directory = new Map<string, number>();

  get empty(): boolean {
    return this.subtree.size === 0 && this.below.size === 0 && this.directory.size === 0;
  }

  /** A TarHandler that records what layer number layer removes. */
  recorder(layer: number): TarHandler {
    return {
      entry: (header) => this.record(layer, header),
      data: () => undefined,
      end: () => undefined,
    };
  }

  /** Whether a later layer than layer removes or replaces an entry at rel. */
  hides(layer: number, rel: string, isDirectory: boolean): boolean {
    if (this.empty) return false;
    if (!isDirectory && later(this.directory, rel, layer)) return true;
    if (later(this.below, '', layer)) return true;
    for (let slash = rel.indexOf('/'); ; slash = rel.indexOf('/', slash + 1)) {
      const prefix = slash === -1 ? rel : rel.slice(0, slash);
      if (later(this.subtree, prefix, layer)) return true;
      if (slash === -1) return false;
      if (later(this.below, prefix, layer)) return true;
    }
  }

  private record(layer: number, header: TarHeader): void {
    let rel: string;
    try {
      rel = relativePath(header.name);
    } catch {
      // A hostile name is refused when its layer is applied; it removes nothing.
      return;
    }
    if (rel === '') return;
    const slash = rel.lastIndexOf('/');
    const parent = slash === -1 ? '' : rel.slice(0, slash);
    const base = rel.slice(slash + 1);
    if (base === OPAQUE_MARKER) note(this.below, parent, layer);
    else if (base.startsWith(WHITEOUT_PREFIX)) note(this.subtree, parent === '' ? base.slice(WHITEOUT_PREFIX.length) : `${parent}/${base.slice(WHITEOUT_PREFIX.length)}`, layer);
    else if (header.type === 'directory') note(this.directory, rel, layer);
    else note(this.subtree, rel, layer);
  }
}

function later(map: Map<string, number>, rel: string, layer: number): boolean {
  const by = map.get(rel);
  return by !== undefined && by > layer;
}

function note(map: Map<string, number>, rel: string, layer: number): void {
  map.set(rel, Math.max(map.get(rel) ?? -1, layer));
}
