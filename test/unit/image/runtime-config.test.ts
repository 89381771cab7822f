// An image config's Volumes in the runtime config: one seeded tmpfs each,
// in a stable order, and a volume that is no absolute path below / refused.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ImageConfig } from '../../../src/image/media-types';
import { runtimeConfigFor } from '../../../src/image/runtime-config';

const rootfs = fs.mkdtempSync(path.join(os.tmpdir(), 'ocits-rootfs-'));
afterAll(() => fs.rmSync(rootfs, { recursive: true, force: true }));

const image = (Volumes: Record<string, object>): ImageConfig =>
  ({ architecture: 'amd64', os: 'linux', config: { Volumes }, rootfs: { type: 'layers', diff_ids: [] } }) as ImageConfig;

describe('image Volumes', () => {
  it('become tmpfs mounts after the default ones, sorted, seeded with tmpcopyup', () => {
    const config = runtimeConfigFor(image({ '/var/log': {}, '/data': {} }), rootfs, undefined);
    const options = ['rw', 'nosuid', 'nodev', 'noexec', 'relatime', 'tmpcopyup'];
    expect(config.mounts!.slice(-2)).toEqual([
      { destination: '/data', type: 'tmpfs', source: 'none', options },
      { destination: '/var/log', type: 'tmpfs', source: 'none', options },
    ]);
  });

  it.each(['data', '/', '/./', ''])('refuses the volume %j', (volume) => {
    expect(() => runtimeConfigFor(image({ [volume]: {} }), rootfs, undefined)).toThrow(
      `image config: volume ${JSON.stringify(volume)} must be an absolute path below /`,
    );
  });
});
