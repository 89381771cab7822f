// overlayfs mounts made with mount(8), for build steps and `bundle --overlay`.
import { spawnSync } from 'node:child_process';
import { OcitsError, errnoText } from './errors';

export interface OverlayLayers {
  /** The read-only lower directory. */
  lower: string;
  /** Where writes go. */
  upper: string;
  /** overlayfs's scratch directory, on upper's file system. */
  work: string;
}

/**
 * Mounts the overlay of layers on target. Paths may be relative to cwd.
 * None may hold a comma, colon, backslash or space: mount(8) splits its
 * options at commas, overlayfs its layers at colons, and mountinfo shows
 * the options escaped, so such a path could neither be mounted safely nor
 * be found again. The options of preferred are asked for first, and left
 * out if the kernel refuses them.
 */
export function mountOverlayfs(layers: OverlayLayers, target: string, { cwd, preferred = [] }: { cwd?: string; preferred?: string[] } = {}): void {
  for (const dir of [layers.lower, layers.upper, layers.work]) {
    if (/[,:\\\s]/.test(dir)) throw new OcitsError(`the path ${dir} holds a comma, colon, backslash or space, which overlay options cannot carry`);
  }
  const base = `lowerdir=${layers.lower},upperdir=${layers.upper},workdir=${layers.work}`;
  const attempts = preferred.length > 0 ? [`${base},${preferred.join(',')}`, base] : [base];
  let reason = '';
  for (const options of attempts) {
    const result = spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', options, target], { cwd, encoding: 'utf8' });
    if (result.error !== undefined) throw new OcitsError(`an overlay mount needs mount(8) (package mount): ${errnoText(result.error)}`);
    if (result.status === 0) return;
    reason = result.stderr.trim().split('\n')[0];
  }
  throw new OcitsError(reason);
}
