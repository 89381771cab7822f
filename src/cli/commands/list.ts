// ocits list [--format table|json] [--quiet]: the containers under --root.
import type { CommandModule } from 'yargs';
import { OcitsError } from '../../errors';
import type { GlobalArgs } from '../global-args';

interface ListArgs extends GlobalArgs {
  format: string;
  quiet: boolean;
}

export const listCommand: CommandModule<GlobalArgs, ListArgs> = {
  command: 'list',
  describe: 'list the containers under --root',
  builder: (yargs) =>
    yargs
      // Not yargs `choices`: runc ignores --format under --quiet, even a wrong one.
      .option('format', { alias: 'f', type: 'string', default: 'table', describe: 'table or json' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'print only the container ids' }),
  handler: async (args) => {
    const { StateStore } = await import('../../lifecycle/store');
    const { formatIds, formatJson, formatTable, isListFormat, listContainers } = await import('../../lifecycle/list');
    if (!args.quiet && !isListFormat(args.format)) throw new OcitsError('invalid format option');
    const states = listContainers(new StateStore(args.root));
    if (args.quiet) process.stdout.write(formatIds(states));
    else process.stdout.write(args.format === 'json' ? formatJson(states) : formatTable(states));
  },
};
