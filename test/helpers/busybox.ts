// Real containers for integration tests: a bundle whose rootfs is
// busybox-static (installed by scripts/install-system-packages.sh), made
// locally, and a private --root that afterAll empties even when a test
// failed half-way: every container left is force-deleted.
import { spawnSync } from 'node:child_process';
import * as fs from 'fs-extra';
import * as os from 'node:os';
import * as path from 'node:path';
import { OCITS, ocits, type CliResult } from './cli';
import { tempDir } from './tmp';

export const BUSYBOX = '/bin/busybox';
const APPLETS = ['sh', 'stty', 'ls', 'cat', 'echo', 'id', 'hostname', 'readlink', 'sleep', 'true', 'false', 'grep', 'stat', 'touch', 'mkdir', 'pwd', 'env', 'umask', 'wc', 'test', 'head', 'ps', 'kill', 'unshare', 'mount'];

/** A directory with rootfs/ holding busybox and its applets. */
export function busyboxRootfs(): string {
  const bundle = tempDir('ocits-bundle-');
  const bin = path.join(bundle, 'rootfs', 'bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.copyFileSync(BUSYBOX, path.join(bin, 'busybox'));
  fs.chmodSync(path.join(bin, 'busybox'), 0o755);
  for (const applet of APPLETS) fs.symlinkSync('busybox', path.join(bin, applet));
  return bundle;
}

/** `ocits spec`'s config with process.terminal off and the given changes. */
export function busyboxBundle(change: (config: Record<string, any>) => void = () => {}): string {
  const bundle = busyboxRootfs();
  const spec = ocits(['spec', '--bundle', bundle]);
  if (spec.status !== 0) throw new Error(spec.stderr);
  const file = path.join(bundle, 'config.json');
  const config = JSON.parse(fs.readFileSync(file, 'utf8'));
  config.process.terminal = false;
  change(config);
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  return bundle;
}

/**
 * A state root of its own. cleanUp() force-deletes every container made
 * through it and then removes the root; the root is not a tempDir() because
 * tmp.ts's afterAll would remove it before the containers are deleted.
 */
export class Runtime {
  readonly root = fs.mkdtempSync(path.join(os.tmpdir(), 'ocits-root-'));
  private readonly ids = new Set<string>();

  /**
   * binary: bin/ocits, or another build's launcher for the commands; the
   * clean-up uses bin/ocits, whose state layout is the same and which
   * outlives a temporary build.
   */
  constructor(private readonly binary = OCITS) {}

  run(args: string[], options: Parameters<typeof ocits>[1] = {}): CliResult {
    const id = args[args.length - 1];
    if (['create', 'run'].includes(args[0])) this.ids.add(id);
    // A container that outlives the command inherits its stdout and stderr,
    // as with runc; pipes would keep spawnSync waiting until it exits.
    const detached =
      args[0] === 'create' || (['run', 'exec'].includes(args[0]) && (args.includes('--detach') || args.includes('-d')));
    if (!detached || options.stdio !== undefined) return ocits(['--root', this.root, ...args], options, this.binary);
    const outputDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocits-output-'));
    try {
      const stdout = fs.openSync(path.join(outputDir, 'stdout'), 'w+');
      const stderr = fs.openSync(path.join(outputDir, 'stderr'), 'w+');
      const result = ocits(['--root', this.root, ...args], { ...options, stdio: ['pipe', stdout, stderr] }, this.binary);
      fs.closeSync(stdout);
      fs.closeSync(stderr);
      return {
        status: result.status,
        stdout: fs.readFileSync(path.join(outputDir, 'stdout'), 'utf8'),
        stderr: fs.readFileSync(path.join(outputDir, 'stderr'), 'utf8'),
      };
    } finally {
      fs.removeSync(outputDir);
    }
  }

  /** Runs and expects success; returns stdout. */
  ok(args: string[], options: Parameters<typeof ocits>[1] = {}): string {
    const result = this.run(args, options);
    if (result.status !== 0) throw new Error(`ocits ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
    return result.stdout;
  }

  state(id: string): Record<string, any> {
    return JSON.parse(this.ok(['state', id]));
  }

  cleanUp(): void {
    for (const id of this.ids) ocits(['--root', this.root, 'delete', '--force', id]);
    fs.removeSync(this.root);
  }
}

/** Whether the host has a process with this pid that is not a zombie. */
export function isAlive(pid: number): boolean {
  const stat = spawnSync('cat', [`/proc/${pid}/stat`], { encoding: 'utf8' }).stdout;
  if (stat === '') return false;
  return !/\) [ZX] /.test(stat);
}
