// Flags the image commands share, spelled as podman and skopeo spell them.
import type { FlagSpec } from './command';

/** --store on every image command; $OCITS_STORE, then the per-user default, when absent. */
export const STORE_FLAG = {
  type: 'string',
  describe: 'the image store (an OCI layout); default $OCITS_STORE, /var/lib/ocits/images for root, else $XDG_DATA_HOME/ocits/images',
} as const satisfies FlagSpec;

export const PLATFORM_FLAG = { type: 'string', describe: "os/arch[/variant] of the image to use from an index; default the host's" } as const satisfies FlagSpec;

/** How pull and push (and later build) reach a registry. */
export const REGISTRY_FLAGS = {
  'tls-verify': { type: 'boolean', default: true, describe: 'require HTTPS and verify certificates; false also allows plain HTTP' },
  creds: { type: 'string', describe: 'USER:PASS for the registry' },
  authfile: { type: 'string', describe: 'auth.json with credentials; default $REGISTRY_AUTH_FILE, then $XDG_RUNTIME_DIR/containers/auth.json, then ~/.docker/config.json' },
} as const satisfies Record<string, FlagSpec>;

/** --jobs and --quiet of pull and push, which move blobs with progress. */
export const TRANSFER_FLAGS = {
  jobs: { type: 'number', default: 3, describe: 'blobs transferred at once' },
  quiet: { type: 'boolean', alias: 'q', default: false, describe: 'no progress output' },
} as const satisfies Record<string, FlagSpec>;
