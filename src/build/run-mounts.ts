// The mounts of a RUN step: /etc/hosts and /etc/resolv.conf (copies, so a
// step cannot write the host's), the script of a RUN <<EOF that starts
// with #!, and `RUN --mount=` of type bind (from the context or a stage,
// read-only), cache (a directory of the store kept between builds, by id;
// sharing=locked waits for another step using it, private then gets a
// fresh directory),
// tmpfs and secret (a --secret file, never in any layer).
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addon } from '../addon';
import { OcitsError } from '../errors';
import { resolveInRoot } from '../image/image-user';
import type { ImageStore } from '../image/store';
import type { Mount } from '../spec/types';
import type { SourceTree } from './copy-step';
import type { NetworkMode } from './run-step';

/** Where the script of a RUN <<EOF with #! is bound: /dev is the container's own tmpfs, so no mount point lands in a layer. */
export const HEREDOC_SCRIPT = '/dev/.ocits-heredoc-script';

export type RunMountSpec =
  | { type: 'bind'; target: string; source: string; from?: string }
  | { type: 'cache'; target: string; id: string; sharing: 'shared' | 'private' | 'locked'; mode: number; uid: number; gid: number; readonly: boolean }
  | { type: 'tmpfs'; target: string; size?: string }
  | { type: 'secret'; target: string; id: string; required: boolean; mode: number; uid: number; gid: number };

const BOOLEAN_KEYS = new Set(['ro', 'readonly', 'rw', 'readwrite', 'required']);

/** One --mount=... value: comma-separated key=value options (values expanded). */
export function parseRunMounts(text: string, expand: (word: string) => string): RunMountSpec {
  const options = new Map<string, string>();
  for (const field of text.split(',')) {
    if (field === '') continue;
    const equals = field.indexOf('=');
    const key = (equals === -1 ? field : field.slice(0, equals)).toLowerCase();
    const value = equals === -1 ? (BOOLEAN_KEYS.has(key) ? 'true' : undefined) : expand(field.slice(equals + 1));
    if (value === undefined) throw new OcitsError(`--mount: "${field}" needs a value`);
    options.set(key === 'dst' || key === 'destination' ? 'target' : key === 'src' ? 'source' : key, value);
  }
  const type = options.get('type') ?? 'bind';
  const take = (...names: string[]) => {
    for (const key of options.keys()) if (key !== 'type' && !names.includes(key)) throw new OcitsError(`--mount type=${type}: unknown option "${key}"`);
  };
  const flag = (name: string) => options.get(name) === 'true' || options.get(name) === '1';
  const number = (name: string, fallback: number, base = 10) => {
    const value = options.get(name);
    if (value === undefined) return fallback;
    const parsed = parseInt(value, base);
    if (!/^\d+$/.test(value) || Number.isNaN(parsed)) throw new OcitsError(`--mount: ${name}=${value} is not a number`);
    return parsed;
  };
  const target = options.get('target');
  switch (type) {
    case 'bind': {
      take('target', 'source', 'from', 'ro', 'readonly', 'rw', 'readwrite');
      if (target === undefined) throw new OcitsError('--mount type=bind needs a target');
      if (flag('rw') || flag('readwrite')) throw new OcitsError('--mount type=bind,rw (writes thrown away after the step) is not supported by ocits yet');
      return { type, target, source: options.get('source') ?? '/', ...(options.has('from') ? { from: options.get('from')! } : {}) };
    }
    case 'cache': {
      take('target', 'id', 'sharing', 'mode', 'uid', 'gid', 'ro', 'readonly');
      if (target === undefined) throw new OcitsError('--mount type=cache needs a target');
      if (options.has('from') || options.has('source')) throw new OcitsError('--mount type=cache,from= is not supported by ocits yet');
      const sharing = options.get('sharing') ?? 'shared';
      if (sharing !== 'shared' && sharing !== 'private' && sharing !== 'locked') throw new OcitsError(`--mount: sharing=${sharing}: expected shared, private or locked`);
      return { type, target, id: options.get('id') ?? target, sharing, mode: number('mode', 0o755, 8), uid: number('uid', 0), gid: number('gid', 0), readonly: flag('ro') || flag('readonly') };
    }
    case 'tmpfs': {
      take('target', 'size');
      if (target === undefined) throw new OcitsError('--mount type=tmpfs needs a target');
      return { type, target, ...(options.has('size') ? { size: options.get('size')! } : {}) };
    }
    case 'secret': {
      take('target', 'id', 'required', 'mode', 'uid', 'gid');
      const id = options.get('id') ?? (target !== undefined ? path.posix.basename(target) : undefined);
      if (id === undefined || id === '') throw new OcitsError('--mount type=secret needs an id or a target');
      return { type, target: target ?? `/run/secrets/${id}`, id, required: flag('required'), mode: number('mode', 0o400, 8), uid: number('uid', 0), gid: number('gid', 0) };
    }
    case 'ssh':
      throw new OcitsError('--mount type=ssh is not supported by ocits yet');
    default:
      throw new OcitsError(`--mount: unknown type "${type}"`);
  }
}

export interface MountEnvironment {
  context: SourceTree;
  /** The root filesystem of a stage (or image) named by from=. */
  stageRoot(reference: string): Promise<SourceTree>;
  /** The --secret contents by id. */
  secrets: ReadonlyMap<string, Buffer>;
  store: ImageStore;
  /** A private directory for the step's files. */
  scratch: string;
  network: NetworkMode;
  workdir: string;
  heredocScript: Buffer | undefined;
}

export interface PreparedMounts {
  mounts: Mount[];
  /** Releases cache locks. */
  release(): void;
}

const CACHE_MOUNTS_DIR = path.join('.ocits', 'build-cache-mounts');
const LOCALHOST_HOSTS = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n';

export async function prepareRunMounts(specs: readonly RunMountSpec[], environment: MountEnvironment): Promise<PreparedMounts> {
  const { scratch } = environment;
  const locks: number[] = [];
  const release = () => {
    for (const fd of locks.splice(0)) fs.closeSync(fd);
  };
  const readOnlyBind = (source: string, destination: string): Mount => ({ destination, type: 'bind', source, options: ['rbind', 'ro'] });
  const mounts: Mount[] = [];
  try {
    const hosts = path.join(scratch, 'hosts');
    const resolv = path.join(scratch, 'resolv.conf');
    fs.writeFileSync(hosts, environment.network === 'host' ? readOr('/etc/hosts', LOCALHOST_HOSTS) : LOCALHOST_HOSTS, { mode: 0o644 });
    fs.writeFileSync(resolv, environment.network === 'host' ? readOr('/etc/resolv.conf', '') : '', { mode: 0o644 });
    mounts.push(readOnlyBind(hosts, '/etc/hosts'), readOnlyBind(resolv, '/etc/resolv.conf'));
    if (environment.heredocScript !== undefined) {
      const script = path.join(scratch, 'heredoc-script');
      fs.writeFileSync(script, environment.heredocScript, { mode: 0o755 });
      mounts.push(readOnlyBind(script, HEREDOC_SCRIPT));
    }
    for (const [index, spec] of specs.entries()) {
      const destination = path.posix.resolve(environment.workdir, spec.target);
      switch (spec.type) {
        case 'bind': {
          const tree = spec.from !== undefined ? await environment.stageRoot(spec.from) : environment.context;
          const source = resolveInRoot(tree.root, spec.source);
          const relative = source !== undefined ? path.relative(tree.root, source) : '';
          if (source === undefined || (relative !== '' && (tree.ignore?.excludes(relative) ?? false))) {
            throw new OcitsError(`--mount type=bind: "${spec.source}" is not in the ${tree.what}`);
          }
          mounts.push(readOnlyBind(source, destination));
          break;
        }
        case 'cache': {
          const dir = path.join(environment.store.root, CACHE_MOUNTS_DIR, crypto.createHash('sha256').update(spec.id).digest('hex'));
          if (!fs.existsSync(dir)) {
            fs.mkdirSync(dir, { recursive: true, mode: spec.mode });
            fs.chownSync(dir, spec.uid, spec.gid);
            fs.chmodSync(dir, spec.mode);
          }
          let source = dir;
          if (spec.sharing !== 'shared') {
            // locked: wait for the step using it; private: a fresh directory of our own while another step uses it.
            const fd = fs.openSync(`${dir}.lock`, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
            locks.push(fd);
            if (!addon().flock(fd, 'exclusive', spec.sharing === 'locked')) {
              source = path.join(scratch, `cache-${index}`);
              fs.mkdirSync(source, { mode: spec.mode });
              fs.chownSync(source, spec.uid, spec.gid);
            }
          }
          mounts.push({ destination, type: 'bind', source, options: ['rbind', spec.readonly ? 'ro' : 'rw'] });
          break;
        }
        case 'tmpfs':
          mounts.push({ destination, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', ...(spec.size !== undefined ? [`size=${spec.size}`] : [])] });
          break;
        case 'secret': {
          const content = environment.secrets.get(spec.id);
          if (content === undefined) {
            if (spec.required) throw new OcitsError(`the secret "${spec.id}" is required: give it with --secret id=${spec.id},src=FILE`);
            break;
          }
          const copy = path.join(scratch, `secret-${index}`);
          fs.writeFileSync(copy, content, { mode: 0o600 });
          fs.chownSync(copy, spec.uid, spec.gid);
          fs.chmodSync(copy, spec.mode);
          mounts.push(readOnlyBind(copy, destination));
          break;
        }
      }
    }
    return { mounts, release };
  } catch (error) {
    release();
    throw error;
  }
}

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}
