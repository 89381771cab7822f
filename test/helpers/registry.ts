// The image corpus and a real registry for image tests: Debian's
// docker-registry through ../shared/tools/images (read its README), each
// test file with its own workdir and port, stopped by PID in afterAll.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OCITS, REPO } from './cli';
import { procFields, processesWhere } from './host-processes';

export const IMAGE_TOOLS = path.resolve(REPO, '..', 'shared', 'tools', 'images');
/** Where make-images.sh keeps the corpus (its images_dir). */
export const IMAGES_DIR =
  process.env.OCITS_IMAGES || (process.env.XDG_CACHE_HOME ? path.join(process.env.XDG_CACHE_HOME, 'ocits-images') : '/tmp/ocits-images');

export type AuthMode = 'none' | 'basic' | 'token';

export interface RunningRegistry {
  /** 127.0.0.1:PORT */
  address: string;
  auth: AuthMode;
  workdir: string;
  /** USER:PASS of the read/write user (basic and token). */
  creds?: string;
  /** USER:PASS of the pull-only user (token). */
  readOnlyCreds?: string;
}

/** Builds the corpus once (cached by make-images.sh) and returns its expectations. */
export function imageCorpus(): { layout: string; expectations: Expectations } {
  run(path.join(IMAGE_TOOLS, 'make-images.sh'), [IMAGES_DIR]);
  return {
    layout: path.join(IMAGES_DIR, 'oci'),
    expectations: JSON.parse(fs.readFileSync(path.join(IMAGES_DIR, 'expectations.json'), 'utf8')) as Expectations,
  };
}

export interface ImageExpectation {
  digest: string;
  config_digest: string;
  layers: Array<{ digest: string; size: number; mediaType: string; diff_id: string }>;
  config: Record<string, unknown>;
  platforms?: Record<string, { digest: string }>;
  run?: Array<{ args?: string[]; uid?: number; gid?: number; stdout: string; image_default?: boolean }>;
}

export interface Expectations {
  images: Record<string, ImageExpectation>;
  source: { debian_version: string };
}

/** How often a registry start is tried: registry.sh gives up after 15 s, which a loaded CI machine can take. */
const START_ATTEMPTS = 3;

/** Starts a registry loaded with the given corpus refs (e.g. ["deb", "tiny"]); on failure nothing is left running. */
export function startRegistry(auth: AuthMode, refs: readonly string[]): RunningRegistry {
  for (let attempt = 1; ; attempt++) {
    const workdir = fs.mkdtempSync(path.join(os.tmpdir(), `ocits-registry-${auth}-`));
    try {
      return startIn(workdir, auth, refs);
    } catch (error) {
      stopRegistry({ address: '', auth, workdir });
      if (attempt >= START_ATTEMPTS) throw error;
    }
  }
}

function startIn(workdir: string, auth: AuthMode, refs: readonly string[]): RunningRegistry {
  const output = run(path.join(IMAGE_TOOLS, 'registry.sh'), ['start', '--auth', auth, '--workdir', workdir]);
  const lines = Object.fromEntries(
    output
      .split('\n')
      .map((line) => /^([A-Z_]+)=(.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1], m[2]]),
  );
  const registry: RunningRegistry = {
    address: lines.REGISTRY,
    auth,
    workdir,
    ...(lines.USER !== undefined ? { creds: `${lines.USER}:${lines.PASS}` } : {}),
    ...(lines.RO_USER !== undefined ? { readOnlyCreds: `${lines.RO_USER}:${lines.RO_PASS}` } : {}),
  };
  run(path.join(IMAGE_TOOLS, 'registry.sh'), ['load', '--workdir', workdir, '--only', refs.join(',')]);
  return registry;
}

/**
 * Stops the registry (by the PIDs registry.sh recorded) and removes its
 * data. A registry once outlived its stop on a loaded machine, so whatever
 * still runs with a file of the workdir on its command line is then killed
 * by PID too.
 */
export function stopRegistry(registry: RunningRegistry | undefined): void {
  if (registry === undefined) return;
  spawnSync(path.join(IMAGE_TOOLS, 'registry.sh'), ['stop', '--workdir', registry.workdir], { stdio: 'ignore' });
  for (const pid of processesNaming(registry.workdir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  fs.rmSync(registry.workdir, { recursive: true, force: true });
}

/** The pids whose command line names a file below dir. */
function processesNaming(dir: string): number[] {
  return processesWhere((pid) => procFields(pid, 'cmdline').some((arg) => arg.startsWith(`${dir}/`)));
}

function run(program: string, args: string[]): string {
  const result = spawnSync(program, args, { encoding: 'utf8', env: withoutRegistryVariables() });
  if (result.status !== 0) throw new Error(`${path.basename(program)} ${args.join(' ')} failed:\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

function withoutRegistryVariables(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('REGISTRY_')));
}

export interface AsyncCliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs ocits without blocking the test's event loop, for tests whose own
 * HTTP server must answer it meanwhile. onSpawn gets the child (to kill it).
 */
export function ocitsAsync(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; onSpawn?: (child: ReturnType<typeof spawn>) => void } = {},
): Promise<AsyncCliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(OCITS, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
    options.onSpawn?.(child);
  });
}
