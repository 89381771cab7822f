// The conformance suite passes against ocits and against runc, the reference.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { OCITS } from './helpers/cli';

const RUN = path.join(__dirname, '..', 'conformance', 'run');

describe.each([
  ['ocits', OCITS],
  ['runc', 'runc'],
])('conformance suite against %s', (_name, runtime) => {
  it('passes every case', () => {
    const result = spawnSync(RUN, ['--runtime', runtime], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^1\.\.\d+$/m);
    expect(result.stdout).not.toMatch(/^not ok/m);
    expect(result.status).toBe(0);
  });
});

it('fails a runtime that does not conform', () => {
  // `true` accepts everything and exits 0: every case must catch it.
  const result = spawnSync(RUN, ['--runtime', '/bin/true'], { encoding: 'utf8' });
  expect(result.status).toBe(1);
  expect(result.stdout).not.toMatch(/^ok/m);
});
