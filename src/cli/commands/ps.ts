// ocits ps [--format table|json] ID [ps options]: the container's processes.
import { OcitsError } from '../../errors';
import { writeStdout } from '../../output';
import { defineCommand } from '../command';

export const psCommand = defineCommand({
  name: 'ps',
  usage: '[--format table|json] <container-id> [ps options]',
  describe: "list the container's processes (table: host ps output; json: pids)",
  args: { min: 1, max: Infinity },
  // ps options such as -o or -ef belong to ps, not to us.
  flagsBeforeArgsOnly: true,
  flags: {
    format: { type: 'string', alias: 'f', default: 'table', describe: 'table or json' },
  },
  run: async ({ global, flags, args: [id, ...psOptions] }) => {
    const { StateStore } = await import('../../lifecycle/store');
    const { containerPids, formatPidsJson, psTable } = await import('../../lifecycle/ps');
    if (flags.format !== 'table' && flags.format !== 'json') throw new OcitsError('invalid format option');
    const pids = containerPids(new StateStore(global.root), id);
    // runc's synopsis: ID [--] [ps options].
    const options = psOptions[0] === '--' ? psOptions.slice(1) : psOptions;
    writeStdout(flags.format === 'json' ? formatPidsJson(pids) : psTable(pids, options));
  },
});
