// The runtime-spec's own fixtures: every good config validates and every bad
// one fails, through the schema and through `ocits validate` on a bundle.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { schemaProblems, type SchemaName } from '../../src/spec/schema';
import { ocits, REPO } from '../helpers/cli';
import { tempBundle } from '../helpers/tmp';

const FIXTURES = path.resolve(REPO, '..', 'shared', 'spec', 'runtime-spec', 'schema', 'test');
const present = fs.existsSync(FIXTURES);
const describeIfPresent = present ? describe : describe.skip;

// Other platforms' configs are outside what ocits (a Linux runtime) checks.
const OTHER_PLATFORM = /^(freebsd|zos)-/;

function fixtures(kind: string, verdict: 'good' | 'bad'): string[] {
  const dir = path.join(FIXTURES, kind, verdict);
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((name) => name.endsWith('.json') && !OTHER_PLATFORM.test(name));
}

function read(kind: string, verdict: string, name: string): string {
  return fs.readFileSync(path.join(FIXTURES, kind, verdict, name), 'utf8');
}

describeIfPresent('runtime-spec schema fixtures', () => {
  for (const kind of ['config', 'state', 'features'] as const) {
    const schema: SchemaName = kind;
    it.each(fixtures(kind, 'good'))(`${kind}/good/%s passes the schema`, (name) => {
      expect(schemaProblems(schema, JSON.parse(read(kind, 'good', name)))).toEqual([]);
    });
    const badJson = fixtures(kind, 'bad').filter((name) => name !== 'invalid-json.json');
    if (badJson.length > 0) {
      it.each(badJson)(`${kind}/bad/%s fails the schema`, (name) => {
        expect(schemaProblems(schema, JSON.parse(read(kind, 'bad', name))).length).toBeGreaterThan(0);
      });
    }
  }

  const bundleOf = (verdict: string, name: string) => tempBundle(read('config', verdict, name));

  it.each(fixtures('config', 'good'))('ocits validate accepts config/good/%s', (name) => {
    const result = ocits(['validate', '--bundle', bundleOf('good', name)]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it.each(fixtures('config', 'bad'))('ocits validate rejects config/bad/%s', (name) => {
    const result = ocits(['validate', '--bundle', bundleOf('bad', name)]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^ocits: .*config\.json: /);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('reports where the invalid-json fixture breaks', () => {
    const result = ocits(['validate', '--bundle', bundleOf('bad', 'invalid-json.json')]);
    expect(result.stderr).toMatch(/invalid JSON at line 1, column 2/);
  });
});
