// The conformance suite passes against ocits and against runc, the reference.
// Cases where a runtime departs from the spec on purpose (runc 1.1.5's known
// deviations, and ocits where it follows runc) are TAP TODOs, and each must be
// explained in conformance/README.md.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OCITS, REPO } from '../helpers/cli';

const RUN = path.join(REPO, 'conformance', 'run');
const README = fs.readFileSync(path.join(REPO, 'conformance', 'README.md'), 'utf8');

// Each runtime's suite runs ~140 cases in real containers: tens of seconds,
// more while the other test files load the machine.
const TIMEOUT = 240_000;

/** The case lines of TAP output. */
const caseLines = (tap: string): string[] => tap.split('\n').filter((line) => /^(not )?ok \d+ - /.test(line));

describe.each([
  ['ocits', OCITS],
  ['runc', 'runc'],
])('conformance suite against %s', (name, runtime) => {
  let result: { status: number | null; stdout: string; stderr: string };

  beforeAll(() => {
    const run = spawnSync(RUN, ['--runtime', runtime], { encoding: 'utf8', timeout: TIMEOUT - 10_000 });
    result = { status: run.status, stdout: run.stdout, stderr: run.stderr };
  }, TIMEOUT);

  it('passes every case but the documented deviations', () => {
    expect(result.stderr).toBe('');
    const plan = /^1\.\.(\d+)$/m.exec(result.stdout);
    expect(plan).not.toBeNull();
    const lines = caseLines(result.stdout);
    expect(lines).toHaveLength(Number(plan![1]));
    expect(lines.filter((line) => line.startsWith('not ok') && !line.includes(' # TODO '))).toEqual([]);
    expect(result.status).toBe(0);
  });

  it('lists each of its deviations in conformance/README.md', () => {
    const todos = caseLines(result.stdout).filter((line) => line.includes(` # TODO ${name}: `));
    for (const line of todos) {
      // "not ok N - section: requirement # TODO runtime: reason"
      const requirement = /^(?:not )?ok \d+ - [^ ]+: (.*) # TODO /.exec(line)![1];
      expect({ line, documented: README.includes(requirement) }).toEqual({ line, documented: true });
    }
  });

  it('names a spec section in every case', () => {
    for (const line of caseLines(result.stdout)) {
      expect(line).toMatch(/^(not )?ok \d+ - (runtime|runtime-linux|config|config-linux)\.md#[A-Za-z-]+: /);
    }
  });
});

it(
  'fails a runtime that does not conform',
  () => {
    // `true` accepts everything and exits 0: every case must catch it.
    const result = spawnSync(RUN, ['--runtime', '/bin/true'], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(caseLines(result.stdout).length).toBeGreaterThan(100);
    expect(result.stdout).not.toMatch(/^ok/m);
  },
  TIMEOUT,
);
