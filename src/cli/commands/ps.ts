// ocits ps [--format table|json] ID [ps options]: the container's processes.
import type { CommandModule } from 'yargs';
import { OcitsError } from '../../errors';
import type { GlobalArgs } from '../global-args';

interface PsArgs extends GlobalArgs {
  'container-id': string;
  'ps-options': string[];
  format: string;
}

export const psCommand: CommandModule<GlobalArgs, PsArgs> = {
  command: 'ps <container-id> [ps-options..]',
  describe: "list the container's processes (table: host ps output; json: pids)",
  builder: (yargs) =>
    yargs
      // ps options such as -o or -ef belong to ps, not to us.
      .parserConfiguration({ 'unknown-options-as-args': true })
      .positional('container-id', { type: 'string', demandOption: true })
      .positional('ps-options', { type: 'string', array: true, default: [] })
      .option('format', { alias: 'f', type: 'string', default: 'table', describe: 'table or json' }),
  handler: async (args) => {
    const { StateStore } = await import('../../lifecycle/store');
    const { containerPids, formatPidsJson, psTable } = await import('../../lifecycle/ps');
    if (args.format !== 'table' && args.format !== 'json') throw new OcitsError('invalid format option');
    const pids = containerPids(new StateStore(args.root), args['container-id']);
    // Words after "--" reach yargs' `_`, after the command name.
    const psOptions = [...args['ps-options'], ...args._.slice(1)].map(String);
    process.stdout.write(args.format === 'json' ? formatPidsJson(pids) : psTable(pids, psOptions));
  },
};
