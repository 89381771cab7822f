// ocits update [flags] ID, or ocits update --resources FILE|- ID: change a
// container's resource limits, with runc's flags and value syntax.
import type { CommandModule } from 'yargs';
import type { GlobalArgs } from '../global-args';
import type { UpdateFlags } from '../../lifecycle/update';

interface UpdateArgs extends GlobalArgs, UpdateFlags {
  'container-id': string;
  resources?: string;
}

// runc's flag names; yargs hands them over camel-cased, as UpdateFlags names them.
const FLAGS: ReadonlyArray<[flag: string, describe: string, alias?: string]> = [
  ['blkio-weight', 'block IO weight, 10 to 1000'],
  ['cpu-period', 'CPU CFS period in microseconds'],
  ['cpu-quota', 'CPU CFS quota in microseconds per period (-1: none)'],
  ['cpu-burst', 'CPU CFS burst in microseconds'],
  ['cpu-share', 'CPU shares (relative weight)', 'cpu-shares'],
  ['cpu-rt-period', 'realtime period in microseconds'],
  ['cpu-rt-runtime', 'realtime runtime in microseconds per period'],
  ['cpuset-cpus', 'CPUs to use, e.g. 0-3,7'],
  ['cpuset-mems', 'memory nodes to use'],
  ['memory', 'memory limit: bytes, or with a unit (512m, 1g); -1 for none'],
  ['memory-reservation', 'memory soft limit, same syntax as --memory'],
  ['memory-swap', 'memory+swap limit, same syntax; -1 for unlimited swap'],
  ['pids-limit', 'maximum number of processes; -1 for none'],
  ['l3-cache-schema', 'Intel RDT L3 cache schema (not supported)'],
  ['mem-bw-schema', 'Intel RDT memory bandwidth schema (not supported)'],
];

export const updateCommand: CommandModule<GlobalArgs, UpdateArgs> = {
  command: 'update <container-id>',
  describe: 'change the resource limits of a container',
  builder: (yargs) => {
    let built = yargs
      .positional('container-id', { type: 'string', demandOption: true })
      .option('resources', {
        alias: 'r',
        type: 'string',
        // Takes the next word even when it is "-" (stdin), which yargs would otherwise leave positional.
        nargs: 1,
        describe: 'a LinuxResources JSON file, or - for stdin; the other flags are then ignored',
      });
    for (const [flag, describe, alias] of FLAGS) {
      built = built.option(flag, { type: 'string', describe, ...(alias !== undefined ? { alias } : {}) });
    }
    return built as typeof built & { argv: UpdateArgs };
  },
  handler: async (args) => {
    const { StateStore } = await import('../../lifecycle/store');
    const { readResourcesFile, resourcesFromFlags, updateContainer } = await import('../../lifecycle/update');
    const resources = args.resources !== undefined ? readResourcesFile(args.resources) : resourcesFromFlags(args);
    updateContainer(new StateStore(args.root), args['container-id'], resources);
  },
};
