// ocits spec writes what runc spec writes (Debian's runc 1.1.5 is the
// reference), except ociVersion, which names the spec version each
// implements, and hostname, which names the runtime.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ocits } from '../helpers/cli';
import { tempDir } from '../helpers/tmp';

function runcSpec(args: string[]): Record<string, unknown> {
  const dir = tempDir('runc-spec-');
  const result = spawnSync('runc', ['spec', ...args], { cwd: dir, encoding: 'utf8' });
  if (result.error) throw new Error(`runc is needed for this test (apt-get install runc): ${result.error.message}`);
  expect(result.status).toBe(0);
  return JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
}

function ocitsSpec(args: string[]): { text: string; config: Record<string, unknown>; dir: string } {
  const dir = tempDir('ocits-spec-');
  const result = ocits(['spec', ...args], { cwd: dir });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  const text = fs.readFileSync(path.join(dir, 'config.json'), 'utf8');
  return { text, config: JSON.parse(text), dir };
}

describe.each([
  ['default', []],
  ['rootless', ['--rootless']],
])('ocits spec (%s)', (_name, args) => {
  it('has the same fields and defaults as runc spec', () => {
    const theirs = runcSpec(args);
    const ours = ocitsSpec(args).config;
    expect(ours.ociVersion).toBe('1.3.0');
    expect(ours.hostname).toBe('ocits');
    expect({ ...ours, ociVersion: 'x', hostname: 'x' }).toStrictEqual({ ...theirs, ociVersion: 'x', hostname: 'x' });
  });

  it('passes ocits validate once the rootfs exists', () => {
    const { dir } = ocitsSpec(args);
    fs.mkdirSync(path.join(dir, 'rootfs'));
    const result = ocits(['validate'], { cwd: dir });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});

describe('ocits spec', () => {
  it('indents with tabs, as runc does', () => {
    expect(ocitsSpec([]).text).toMatch(/^{\n\t"ociVersion": "1\.3\.0",\n\t"process": {\n\t\t"terminal": true,/);
  });

  it('maps the caller ids in a rootless config', () => {
    const config = ocitsSpec(['--rootless']).config as { linux: { uidMappings: { hostID: number }[] } };
    expect(config.linux.uidMappings[0].hostID).toBe(process.geteuid!());
  });

  it('writes into --bundle', () => {
    const bundle = tempDir('ocits-spec-');
    expect(ocits(['spec', '--bundle', bundle]).status).toBe(0);
    expect(fs.existsSync(path.join(bundle, 'config.json'))).toBe(true);
  });

  it('refuses to overwrite config.json and leaves it untouched', () => {
    const bundle = tempDir('ocits-spec-');
    fs.writeFileSync(path.join(bundle, 'config.json'), 'mine');
    const result = ocits(['spec', '-b', bundle]);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(`ocits: ${bundle}/config.json exists; remove it first\n`);
    expect(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8')).toBe('mine');
    expect(fs.readdirSync(bundle)).toEqual(['config.json']);
  });

  it('reports a missing bundle directory', () => {
    const result = ocits(['spec', '--bundle', '/nonexistent/bundle']);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe('ocits: bundle /nonexistent/bundle: no such directory\n');
  });
});
