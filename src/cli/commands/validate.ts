// ocits validate [--bundle DIR]: every problem of a bundle's config at once.
import type { CommandModule } from 'yargs';
import type { GlobalArgs } from '../global-args';

interface ValidateArgs extends GlobalArgs {
  bundle: string;
}

export const validateCommand: CommandModule<GlobalArgs, ValidateArgs> = {
  command: 'validate',
  describe: "check a bundle's config.json against the runtime spec; print each problem as <JSON pointer>: <message>",
  builder: (yargs) =>
    yargs.option('bundle', { alias: 'b', type: 'string', default: '.', describe: 'path to the bundle directory' }),
  handler: async (args) => {
    const { checkBundle } = await import('../../spec/bundle');
    const { formatProblem, hasErrors } = await import('../../spec/problems');
    const { OcitsError } = await import('../../errors');
    const { problems } = checkBundle(args.bundle);
    for (const problem of problems) process.stdout.write(formatProblem(problem) + '\n');
    const errors = problems.filter((p) => p.severity === 'error').length;
    if (hasErrors(problems)) {
      throw new OcitsError(`${args.bundle}/config.json: ${errors} problem${errors === 1 ? '' : 's'} found`);
    }
  },
};
