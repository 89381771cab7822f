// ocits list [--format table|json] [--quiet]: the containers under --root.
import { OcitsError } from '../../errors';
import { writeStdout } from '../../output';
import { defineCommand } from '../command';

export const listCommand = defineCommand({
  name: 'list',
  usage: '[--format table|json] [--quiet]',
  describe: 'list the containers under --root',
  args: { min: 0, max: 0 },
  flags: {
    format: { type: 'string', alias: 'f', default: 'table', describe: 'table or json' },
    quiet: { type: 'boolean', alias: 'q', default: false, describe: 'print only the container ids' },
  },
  run: async ({ global, flags }) => {
    const { StateStore } = await import('../../lifecycle/store');
    const { formatIds, formatJson, formatTable, isListFormat, listContainers } = await import('../../lifecycle/list');
    // runc ignores --format under --quiet, even a wrong one.
    if (!flags.quiet && !isListFormat(flags.format)) throw new OcitsError('invalid format option');
    const states = listContainers(new StateStore(global.root));
    if (flags.quiet) writeStdout(formatIds(states));
    else writeStdout(flags.format === 'json' ? formatJson(states) : formatTable(states));
  },
});
