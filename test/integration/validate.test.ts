// ocits validate on this project's fixtures: each bad config must yield
// exactly the problems listed in expected-problems.json, each good one none.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ocits, REPO } from '../helpers/cli';
import { tempBundle, tempDir } from '../helpers/tmp';

const FIXTURES = path.join(REPO, 'test', 'fixtures', 'config');
const expected = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'expected-problems.json'), 'utf8')) as Record<string, string[]>;

const bundleWith = (file: string) => tempBundle(fs.readFileSync(file, 'utf8'));

describe('ocits validate', () => {
  const bad = fs.readdirSync(path.join(FIXTURES, 'bad')).sort();

  it('has an expectation for every bad fixture', () => {
    expect(Object.keys(expected).sort()).toEqual(bad);
  });

  it.each(bad)('reports every problem of bad/%s and exits 1', (name) => {
    const bundle = bundleWith(path.join(FIXTURES, 'bad', name));
    const result = ocits(['validate', '--bundle', bundle]);
    expect(result.status).toBe(1);
    const lines = result.stdout.trim().split('\n').map((line) => line.split(bundle).join('<bundle>'));
    expect(lines).toEqual(expected[name]);
    const errors = lines.filter((line) => !line.includes(': warning: ')).length;
    expect(result.stderr).toBe(`ocits: ${bundle}/config.json: ${errors} problem${errors === 1 ? '' : 's'} found\n`);
  });

  it.each(fs.readdirSync(path.join(FIXTURES, 'good')).sort())('accepts good/%s', (name) => {
    const result = ocits(['validate', '--bundle', bundleWith(path.join(FIXTURES, 'good', name))]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('prints warnings without failing', () => {
    const result = ocits(['validate', '-b', bundleWith(path.join(FIXTURES, 'good', 'relative-destination.json'))]);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('/mounts/0/destination: warning: relative destination "tmp" is deprecated; it is read as /tmp\n');
  });

  it('defaults to the current directory', () => {
    const bundle = bundleWith(path.join(FIXTURES, 'good', 'busybox-run.json'));
    expect(ocits(['validate'], { cwd: bundle }).status).toBe(0);
  });

  it('reports a missing config.json on one line', () => {
    const bundle = tempDir('ocits-validate-');
    const result = ocits(['validate', '--bundle', bundle]);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(`ocits: ${bundle}/config.json: no such file\n`);
  });

  it('reports malformed JSON with its line and column', () => {
    const bundle = tempDir('ocits-validate-');
    fs.writeFileSync(path.join(bundle, 'config.json'), '{\n  "ociVersion": "1.3.0",\n  "root": }\n');
    const result = ocits(['validate', '--bundle', bundle]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^ocits: .*config\.json: invalid JSON at line 3, column 11: .+\n$/);
  });
});
