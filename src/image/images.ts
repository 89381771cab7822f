// `ocits images`: what the store names, with the facts podman's `images`
// shows (repository, tag, digest, creation time, size).
import { OcitsError } from '../errors';
import { parseManifestDocument } from './manifest';
import type { ImageConfig } from './media-types';
import { formatReference, parseReference, repositoryOf } from './reference';
import type { ImageStore } from './store';

export interface ImageSummary {
  /** The full normalized reference. */
  name: string;
  repository: string;
  tag: string;
  /** The manifest (or index) digest. */
  digest: string;
  mediaType: string;
  /** From the image config; absent for an index or a config without it. */
  created?: string;
  /** Compressed size: manifest, config and layers. */
  size: number;
}

export type ImagesFormat = 'table' | 'json';

export function isImagesFormat(text: string): text is ImagesFormat {
  return text === 'table' || text === 'json';
}

export function listImages(store: ImageStore): ImageSummary[] {
  return store.references().map(({ name, descriptor }) => {
    let repository = name;
    let tag = '<none>';
    try {
      const reference = parseReference(name);
      // A name another tool wrote into the layout ("deb") is shown as it is, not as docker.io/library/deb.
      if (formatReference(reference) === name) {
        repository = repositoryOf(reference);
        tag = reference.tag ?? '<none>';
      }
    } catch {
      // Not a reference at all: shown as it is too.
    }
    const summary: ImageSummary = { name, repository, tag, digest: descriptor.digest, mediaType: descriptor.mediaType, size: descriptor.size };
    try {
      const document = parseManifestDocument(store.readBlob(descriptor.digest), descriptor.mediaType, name);
      if (document.kind === 'manifest') {
        const { config, layers } = document.manifest;
        summary.size += config.size + layers.reduce((sum, layer) => sum + layer.size, 0);
        const created = store.readJsonBlob<ImageConfig>(config.digest).created;
        if (typeof created === 'string') summary.created = created;
      }
    } catch (error) {
      // One damaged image does not hide the others; its line says so by lacking facts.
      if (!(error instanceof OcitsError)) throw error;
    }
    return summary;
  });
}

export function formatImagesTable(images: readonly ImageSummary[]): string {
  const rows = [
    ['REPOSITORY', 'TAG', 'DIGEST', 'CREATED', 'SIZE'],
    ...images.map((image) => [image.repository, image.tag, image.digest.slice(0, 19), image.created ?? '-', formatSize(image.size)]),
  ];
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => [...row[column]].length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] + 2))).join('') + '\n').join('');
}

function formatSize(bytes: number): string {
  // podman's units: decimal, three significant digits.
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  for (; value >= 1000 && unit < units.length - 1; unit++) value /= 1000;
  return `${unit === 0 ? value : value.toPrecision(3)} ${units[unit]}`;
}
