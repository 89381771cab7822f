// `ocits bundle REF DIR`: an image of the store unpacked into DIR/rootfs,
// layer by layer, and its config turned into DIR/config.json. DIR must not
// exist or be empty; whatever fails, nothing of the bundle is left. With
// --overlay, the image is unpacked once into the store and DIR/rootfs is an
// overlay mount over that copy (overlay-rootfs.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addon } from '../addon';
import { OcitsError, errnoText, isErrno, messageOf } from '../errors';
import { CONFIG_FILE } from '../spec/bundle';
import { LayerShadows } from './layer-shadows';
import { applyLayerBlob } from './layer-stream';
import { layerCompression } from './media-types';
import { mountOverlayRootfs } from './overlay-rootfs';
import { RootfsWriter, SkippedLinkTarget } from './rootfs-writer';
import { runtimeConfigFor } from './runtime-config';
import type { Descriptor } from './media-types';
import type { ImageStore } from './store';
import { loadStoredImage, type StoredImage } from './stored-image';

export interface BundleOptions {
  store: ImageStore;
  platform?: string;
  rootless: boolean;
  /** DIR/rootfs as an overlay mount over the store's unpacked copy of the image, made by the first such bundle. */
  overlay: boolean;
}

const ROOTFS = 'rootfs';
/**
 * Reading a layer ahead for its removals costs decompressing it twice, so
 * later layers are read ahead, from the top down, only while their
 * compressed bytes fit in this budget; a layer that does not fit is passed
 * over. The layers that clean up (apt lists, docs, caches) are usually
 * small, and a larger layer's removals still happen, as removals, when it
 * is applied.
 */
const READ_AHEAD_BYTES = 32 * 1024 * 1024;

export async function makeBundle(referenceText: string, dir: string, options: BundleOptions): Promise<void> {
  const { store } = options;
  const image = loadStoredImage(store, referenceText, options.platform);
  const release = await store.holdBlobs();
  try {
    await unpackImage(image, dir, options);
  } finally {
    release();
  }
}

async function unpackImage(image: StoredImage, dir: string, options: BundleOptions): Promise<void> {
  const { store } = options;
  if (options.overlay && options.rootless) throw new OcitsError('--overlay needs root to mount the overlay; --rootless unpacks instead');
  for (const layer of image.manifest.layers) {
    if (!store.hasBlob(layer.digest)) throw new OcitsError(`${image.name}: layer ${layer.digest} is missing from the store; pull the image again`);
  }
  const madeDir = claimBundleDir(dir);
  const rootfs = path.join(dir, ROOTFS);
  let mounted = false;
  try {
    if (options.overlay) {
      const lower = store.unpackedRootfs(image.descriptor.digest) ?? (await unpackIntoStore(image, store));
      fs.mkdirSync(rootfs, 0o755);
      mountOverlayRootfs(lower, dir, rootfs);
      mounted = true;
    } else {
      fs.mkdirSync(rootfs, 0o755);
      await unpackLayers(image, store, rootfs, options.rootless);
    }
    const rootlessIds = options.rootless ? { uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0 } : undefined;
    const config = runtimeConfigFor(image.config, rootfs, rootlessIds);
    fs.writeFileSync(path.join(dir, CONFIG_FILE), JSON.stringify(config, null, '\t'), { mode: 0o644, flag: 'wx' });
  } catch (error) {
    if (mounted) addon().detachMount(rootfs);
    removeBundle(dir, madeDir);
    throw error instanceof OcitsError ? error : new OcitsError(`${image.name}: ${messageOf(error)}`);
  }
}

/** Unpacks the image into the store for --overlay; returns where it now is. */
async function unpackIntoStore(image: StoredImage, store: ImageStore): Promise<string> {
  const partial = store.temporaryRootfsDir();
  try {
    await unpackLayers(image, store, partial, false);
  } catch (error) {
    fs.rmSync(partial, { recursive: true, force: true });
    throw error;
  }
  return store.commitUnpackedRootfs(partial, image.descriptor.digest);
}

/** The image's layers applied to the empty directory rootfs, skipping what later layers remove. */
async function unpackLayers(image: StoredImage, store: ImageStore, rootfs: string, rootless: boolean): Promise<void> {
  const { layers } = image.manifest;
  const diffIds = image.config.rootfs.diff_ids;
  const shadows = await removalsOfLaterLayers(store, layers, diffIds);
  try {
    await applyLayers(store, image.name, layers, diffIds, new RootfsWriter(rootfs, { rootless }), { shadows });
  } catch (error) {
    if (!(error instanceof SkippedLinkTarget)) throw error;
    // A hard link named an entry a later layer removes: rare enough to just start again, writing everything.
    fs.rmSync(rootfs, { recursive: true, force: true });
    fs.mkdirSync(rootfs, 0o755);
    await applyLayers(store, image.name, layers, diffIds, new RootfsWriter(rootfs, { rootless }));
  }
}

/** What the later layers within READ_AHEAD_BYTES remove, read from the top layer down. */
async function removalsOfLaterLayers(store: ImageStore, layers: readonly Descriptor[], diffIds: readonly string[]): Promise<LayerShadows> {
  const shadows = new LayerShadows();
  let budget = READ_AHEAD_BYTES;
  for (let index = layers.length - 1; index >= 1; index--) {
    const layer = layers[index];
    const compression = layerCompression(layer.mediaType);
    if (compression === undefined || layer.size > budget) continue;
    budget -= layer.size;
    try {
      await applyLayerBlob(store.blobPath(layer.digest), compression, diffIds[index], shadows.recorder(index));
    } catch {
      // A bad layer fails when it is applied, with its entry named; a bundle that fails is removed whole.
    }
  }
  return shadows;
}

export interface ApplyOptions {
  /** The first layer to apply (0-based); those below are already in the rootfs. */
  first?: number;
  /** What later layers remove, so that it is not written. */
  shadows?: LayerShadows;
}

/**
 * Applies an image's layers from the store to the writer's rootfs, in
 * order; each is checked against its diff_id, and a failure names the
 * image, the layer and the entry. With shadows, entries a later layer
 * removes are skipped, and a hard link to one throws SkippedLinkTarget.
 */
export async function applyLayers(store: ImageStore, name: string, layers: readonly Descriptor[], diffIds: readonly string[], writer: RootfsWriter, { first = 0, shadows }: ApplyOptions = {}): Promise<void> {
  for (let index = first; index < layers.length; index++) {
    const layer = layers[index];
    const label = `layer ${index + 1} (${layer.digest})`;
    const compression = layerCompression(layer.mediaType);
    if (compression === undefined) throw new OcitsError(`${name}: ${label} has the media type ${layer.mediaType}, which is no layer`);
    writer.beginLayer(shadows !== undefined && !shadows.empty ? (rel, isDirectory) => shadows.hides(index, rel, isDirectory) : undefined);
    try {
      await applyLayerBlob(store.blobPath(layer.digest), compression, diffIds[index], writer);
      writer.endLayer();
    } catch (error) {
      writer.abort();
      if (error instanceof SkippedLinkTarget) throw error;
      const entry = writer.currentEntry;
      throw new OcitsError(`${name}: ${label}${entry !== '' ? `, entry "${entry}"` : ''}: ${error instanceof OcitsError ? error.message : errnoText(error)}`);
    }
  }
}

/** Makes DIR, or checks that it is an empty directory; true when we made it. */
function claimBundleDir(dir: string): boolean {
  try {
    fs.mkdirSync(dir, 0o755);
    return true;
  } catch (error) {
    if (!isErrno(error, 'EEXIST')) throw new OcitsError(`cannot make the bundle directory ${dir}: ${errnoText(error)}`);
  }
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch (error) {
    throw new OcitsError(`bundle directory ${dir}: ${errnoText(error)}`);
  }
  if (entries.length > 0) throw new OcitsError(`bundle directory ${dir} is not empty`);
  return false;
}

function removeBundle(dir: string, madeDir: boolean): void {
  // rmSync never follows symlinks, so a hostile layer's links cannot steer it.
  if (madeDir) {
    fs.rmSync(dir, { recursive: true, force: true });
    return;
  }
  fs.rmSync(path.join(dir, ROOTFS), { recursive: true, force: true });
  fs.rmSync(path.join(dir, CONFIG_FILE), { force: true });
}
