// ocits events [--stats] [--interval D] ID: stats and OOM events as JSON lines.
import { writeStdout } from '../../output';
import { defineCommand } from '../command';

export const eventsCommand = defineCommand({
  name: 'events',
  usage: '[--stats] [--interval D] <container-id>',
  describe: 'print container stats every interval and OOM events, as JSON lines',
  args: { min: 1, max: 1 },
  flags: {
    stats: { type: 'boolean', default: false, describe: 'print the stats once and exit' },
    interval: { type: 'string', default: '5s', describe: 'time between stats (a Go duration: 5s, 500ms)' },
  },
  run: async ({ global, flags, args: [id] }) => {
    const { StateStore } = await import('../../lifecycle/store');
    const { formatEvent, parseDuration, statsEvent, watchEvents } = await import('../../lifecycle/events');
    const store = new StateStore(global.root);
    const interval = parseDuration(flags.interval);
    if (flags.stats) writeStdout(formatEvent(statsEvent(store, id)));
    else watchEvents(store, id, interval, 1);
  },
});
