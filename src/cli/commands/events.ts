// ocits events [--stats] [--interval D] ID: stats and OOM events as JSON lines.
import type { CommandModule } from 'yargs';
import type { GlobalArgs } from '../global-args';

interface EventsArgs extends GlobalArgs {
  'container-id': string;
  stats: boolean;
  interval: string;
}

export const eventsCommand: CommandModule<GlobalArgs, EventsArgs> = {
  command: 'events <container-id>',
  describe: 'print container stats every interval and OOM events, as JSON lines',
  builder: (yargs) =>
    yargs
      .positional('container-id', { type: 'string', demandOption: true })
      .option('stats', { type: 'boolean', default: false, describe: 'print the stats once and exit' })
      .option('interval', { type: 'string', default: '5s', describe: 'time between stats (a Go duration: 5s, 500ms)' }),
  handler: async (args) => {
    const { StateStore } = await import('../../lifecycle/store');
    const { formatEvent, parseDuration, statsEvent, watchEvents } = await import('../../lifecycle/events');
    const store = new StateStore(args.root);
    const interval = parseDuration(args.interval);
    if (args.stats) process.stdout.write(formatEvent(statsEvent(store, args['container-id'])));
    else watchEvents(store, args['container-id'], interval, process.stdout.fd);
  },
};
