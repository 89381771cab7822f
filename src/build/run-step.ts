// A RUN step as an ocits container: a bundle whose rootfs is the step's
// overlay, with the stage's environment, user, working directory and
// command, Docker's default capabilities, /etc/hosts and /etc/resolv.conf
// bound in, the host's network or none, and the step's --mount mounts. It
// runs through bin/ocits run (the launcher), exactly as a user's container.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OcitsError } from '../errors';
import { resolveImageUser, resolveInRoot } from '../image/image-user';
import { defaultConfig } from '../spec/default-config';
import type { Mount } from '../spec/types';

/** Docker's default capability set for containers, which RUN steps get (apt, useradd and chown need them). */
const DOCKER_CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

export type NetworkMode = 'host' | 'none';

export interface RunStep {
  args: string[];
  env: string[];
  /** The image config's User ("app", "1000:1000"), resolved in the rootfs. */
  user: string | undefined;
  workdir: string;
  network: NetworkMode;
  mounts: Mount[];
}

export interface RuntimeInvocation {
  /** bin/ocits: the launcher, which runs this very program sealed. */
  launcher: string;
  /** --root of the state directory. */
  stateRoot: string;
}

/** The launcher that started this process: it lies beside the addon it named. */
export function launcherPath(): string {
  const addonPath = process.env.OCITS_ADDON;
  if (addonPath === undefined || addonPath === '') throw new OcitsError('ocits build runs RUN steps through bin/ocits: run it as bin/ocits, not dist/ocits');
  return path.join(path.dirname(addonPath), 'ocits-launcher');
}

/** Writes bundleDir/config.json for the step, its rootfs the merged overlay; returns every mount's destination. */
export function writeRunBundle(bundleDir: string, rootfs: string, step: RunStep): string[] {
  const config = defaultConfig();
  const processSpec = config.process!;
  processSpec.args = step.args;
  processSpec.env = step.env;
  processSpec.cwd = step.workdir;
  processSpec.terminal = false;
  processSpec.user = resolveImageUser(rootfs, step.user);
  // As runc does for docker build: HOME from the user's /etc/passwd entry when the image sets none.
  if (!step.env.some((entry) => entry.startsWith('HOME='))) processSpec.env = [...step.env, `HOME=${homeOf(rootfs, processSpec.user.uid)}`];
  processSpec.capabilities = { bounding: [...DOCKER_CAPABILITIES], effective: [...DOCKER_CAPABILITIES], permitted: [...DOCKER_CAPABILITIES] };
  // setuid programs (su, sudo, apt's sandbox) work in a RUN step as in docker build.
  processSpec.noNewPrivileges = false;
  // A step inherits the builder's limits, as in buildah.
  delete processSpec.rlimits;
  config.root = { path: rootfs, readonly: false };
  config.hostname = 'ocits-build';
  config.mounts = [...(config.mounts ?? []), ...step.mounts];
  if (step.network === 'host') config.linux!.namespaces = config.linux!.namespaces!.filter((namespace) => namespace.type !== 'network');
  fs.writeFileSync(path.join(bundleDir, 'config.json'), JSON.stringify(config, null, '\t'), { mode: 0o600 });
  return config.mounts.map((mount) => mount.destination);
}

/** The home directory of uid in the rootfs's /etc/passwd; / when it has none. */
function homeOf(rootfs: string, uid: number): string {
  const passwd = resolveInRoot(rootfs, '/etc/passwd');
  let text = '';
  try {
    if (passwd !== undefined) text = fs.readFileSync(passwd, 'utf8');
  } catch {
    // An unreadable passwd is a missing one.
  }
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields.length >= 6 && fields[2] === String(uid) && fields[5] !== '') return fields[5];
  }
  return '/';
}

export interface RunResult {
  status: number;
  /** What the step wrote, stdout and stderr interleaved as they came. */
  output: string;
}

/** Runs the bundle as container id and waits; output gets each chunk as it comes. */
export function runBundle(bundleDir: string, id: string, runtime: RuntimeInvocation, onOutput: (chunk: string) => void): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(runtime.launcher, ['--root', runtime.stateRoot, 'run', '--bundle', bundleDir, id], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const take = (chunk: Buffer) => {
      const text = chunk.toString();
      output += text;
      onOutput(text);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    // A cancelled build cancels its step, as BuildKit does: the container is killed (a PID 1 such as
    // sleep ignores SIGTERM), ocits run then deletes it and the build fails and cleans up.
    const cancel = () => spawn(runtime.launcher, ['--root', runtime.stateRoot, 'kill', id, 'KILL'], { stdio: 'ignore' });
    process.on('SIGINT', cancel);
    process.on('SIGTERM', cancel);
    const done = () => {
      process.off('SIGINT', cancel);
      process.off('SIGTERM', cancel);
    };
    child.on('error', (error) => {
      done();
      reject(new OcitsError(`cannot run ${runtime.launcher}: ${error.message}`));
    });
    child.on('close', (status, signal) => {
      done();
      resolve({ status: status ?? 128 + (signal !== null ? os.constants.signals[signal] : 0), output });
    });
  });
}
