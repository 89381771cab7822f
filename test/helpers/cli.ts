// Runs the built CLI (bin/ocits: the launcher, then dist/ocits) as engines do: a separate
// process per command, judged by exit status, stdout and stderr.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import * as path from 'node:path';

export const REPO = path.resolve(__dirname, '..', '..');
export const OCITS = path.join(REPO, 'bin', 'ocits');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs bin/ocits, or `binary`: another build's launcher. */
export function ocits(args: string[], options: SpawnSyncOptions = {}, binary = OCITS): CliResult {
  const result = spawnSync(binary, args, { encoding: 'utf8', ...options });
  if (result.error) throw result.error;
  return { status: result.status, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** Checks a failed command: its last stderr line is "ocits: ..." matching message, no stack trace, exit 1. */
export function expectOneLineError(result: { status: number | null; stderr: string }, message: RegExp): void {
  expect(result.status).toBe(1);
  const lines = result.stderr.trim().split('\n');
  expect(lines[lines.length - 1]).toMatch(/^ocits: /);
  expect(lines[lines.length - 1]).toMatch(message);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}
