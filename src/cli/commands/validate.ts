// ocits validate [--bundle DIR]: every problem of a bundle's config at once.
import * as path from 'node:path';
import { OcitsError, quoted } from '../../errors';
import { writeStdout } from '../../output';
import { BUNDLE_FLAG, defineCommand } from '../command';

export const validateCommand = defineCommand({
  name: 'validate',
  usage: '[--bundle DIR]',
  describe: "check a bundle's config.json against the runtime spec; print each problem as <JSON pointer>: <message>",
  args: { min: 0, max: 0 },
  flags: { bundle: BUNDLE_FLAG },
  run: async ({ flags }) => {
    const { checkBundle } = await import('../../spec/bundle');
    const { formatProblem, hasErrors } = await import('../../spec/problems');
    const { problems } = checkBundle(flags.bundle);
    for (const problem of problems) writeStdout(formatProblem(problem) + '\n');
    const errors = problems.filter((p) => p.severity === 'error').length;
    if (hasErrors(problems)) {
      throw new OcitsError(`${quoted(path.join(flags.bundle, 'config.json'))}: ${errors} problem${errors === 1 ? '' : 's'} found`);
    }
  },
});
