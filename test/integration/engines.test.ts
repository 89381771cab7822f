// Real engines drive ocits as their runc (the conformance-and-engines
// issue). The steps and their checks are ../shared/tools/engines' scripts,
// which pass against the reference runc 1.1.5 too; each keeps its state in
// a private work directory and stops its daemon at the end.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OCITS, REPO, ocits } from '../helpers/cli';
import { tempDir } from '../helpers/tmp';

const ENGINES = path.resolve(REPO, '..', 'shared', 'tools', 'engines');

/** Runs an engine script with ocits; returns its FAIL lines (with their detail) and its summary. */
function smoke(script: string, work: string): { failures: string[]; summary: string; status: number | null } {
  const result = spawnSync('bash', [path.join(ENGINES, script), OCITS, work], { encoding: 'utf8', timeout: 15 * 60_000 });
  const lines = result.stdout.split('\n');
  const failures = lines.filter((line, i) => line.startsWith('FAIL') || (line.startsWith('      |') && lines.slice(0, i).some((l) => l.startsWith('FAIL'))));
  const summary = lines.filter((line) => /^\d+ passed, \d+ failed$/.test(line)).pop() ?? `no summary: ${result.stderr.trim()}`;
  return { failures, summary, status: result.status };
}

describe('containerd 1.6 with the runc v2 shim (ctr run --runc-binary ocits)', () => {
  const work = path.join(tempDir('ocits-containerd-'), 'work');
  afterAll(() => {
    // The script stops its daemon itself; this covers a script that died half-way.
    spawnSync('bash', [path.join(ENGINES, 'containerd-ctl.sh'), 'stop', work]);
  });

  it('passes every step of containerd-smoke.sh: run, exec, tty, pause, ps, metrics, kill, delete', () => {
    const { failures, summary, status } = smoke('containerd-smoke.sh', work);
    expect(failures).toEqual([]);
    expect(summary).toMatch(/^\d+ passed, 0 failed$/);
    expect(status).toBe(0);
  }, 15 * 60_000);
});

describe('podman 4.3 with conmon (podman --runtime ocits, cgroupfs, file events)', () => {
  const work = path.join(tempDir('ocits-podman-'), 'work');
  afterAll(() => {
    // The script removes its containers and storage at its end; this covers
    // a script that died half-way (one left a stopped container in ocits's
    // default root and podman's overlay mounts here).
    if (fs.existsSync(path.join(work, 'pm'))) spawnSync(path.join(work, 'pm'), ['rm', '--all', '--force', '--time', '0'], { stdio: 'ignore' });
    const listed = ocits(['list', '--format', 'json']);
    const containers: Array<{ id: string; bundle: string }> = listed.status === 0 ? JSON.parse(listed.stdout || '[]') ?? [] : [];
    for (const { id } of containers.filter(({ bundle }) => bundle.startsWith(`${work}/`))) ocits(['delete', '--force', id]);
    const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((line) => line.split(' ')[4]);
    for (const mount of mounts.filter((point) => point?.startsWith(`${work}/`)).reverse()) spawnSync('umount', ['--lazy', mount]);
  });

  it('passes every step of podman-smoke.sh: run, exec, tty, pause, update, stop, kill, limits, read-only, netns', () => {
    const { failures, summary, status } = smoke('podman-smoke.sh', work);
    expect(failures).toEqual([]);
    expect(summary).toMatch(/^\d+ passed, 0 failed$/);
    expect(status).toBe(0);
  }, 15 * 60_000);
});
