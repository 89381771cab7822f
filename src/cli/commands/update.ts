// ocits update [flags] ID, or ocits update --resources FILE|- ID: change a
// container's resource limits, with runc's flags and value syntax.
import type { UpdateFlags } from '../../lifecycle/update';
import { defineCommand, type FlagSpec } from '../command';

// runc's flags; the values stay strings for runc's syntax ("512m", "-1").
const RESOURCE_FLAGS = {
  'blkio-weight': { type: 'string', describe: 'block IO weight, 10 to 1000' },
  'cpu-period': { type: 'string', describe: 'CPU CFS period in microseconds' },
  'cpu-quota': { type: 'string', describe: 'CPU CFS quota in microseconds per period (-1: none)' },
  'cpu-burst': { type: 'string', describe: 'CPU CFS burst in microseconds' },
  'cpu-share': { type: 'string', describe: 'CPU shares (relative weight)' },
  // runc's documentation says --cpu-shares; its flag is --cpu-share. Both work.
  'cpu-shares': { type: 'string', describe: 'the same as --cpu-share' },
  'cpu-rt-period': { type: 'string', describe: 'realtime period in microseconds' },
  'cpu-rt-runtime': { type: 'string', describe: 'realtime runtime in microseconds per period' },
  'cpuset-cpus': { type: 'string', describe: 'CPUs to use, e.g. 0-3,7' },
  'cpuset-mems': { type: 'string', describe: 'memory nodes to use' },
  memory: { type: 'string', describe: 'memory limit: bytes, or with a unit (512m, 1g); -1 for none' },
  'memory-reservation': { type: 'string', describe: 'memory soft limit, same syntax as --memory' },
  'memory-swap': { type: 'string', describe: 'memory+swap limit, same syntax; -1 for unlimited swap' },
  'pids-limit': { type: 'string', describe: 'maximum number of processes; -1 for none' },
  'l3-cache-schema': { type: 'string', describe: 'Intel RDT L3 cache schema (not supported)' },
  'mem-bw-schema': { type: 'string', describe: 'Intel RDT memory bandwidth schema (not supported)' },
} as const satisfies Record<string, FlagSpec>;

export const updateCommand = defineCommand({
  name: 'update',
  usage: '[flags] <container-id>',
  describe: 'change the resource limits of a container',
  args: { min: 1, max: 1 },
  flags: {
    resources: {
      type: 'string',
      alias: 'r',
      describe: 'a LinuxResources JSON file, or - for stdin; the other flags are then ignored',
    },
    ...RESOURCE_FLAGS,
  },
  run: async ({ global, flags, args: [id] }) => {
    const { StateStore } = await import('../../lifecycle/store');
    const { readResourcesFile, resourcesFromFlags, updateContainer } = await import('../../lifecycle/update');
    const given: UpdateFlags = {};
    for (const name of Object.keys(RESOURCE_FLAGS) as Array<keyof typeof RESOURCE_FLAGS>) {
      const value = flags[name];
      if (value !== undefined) given[updateFlagName(name)] = value;
    }
    const resources = flags.resources !== undefined ? readResourcesFile(flags.resources) : resourcesFromFlags(given);
    updateContainer(new StateStore(global.root), id, resources);
  },
});

/** UpdateFlags' name for a flag: cpu-rt-period -> cpuRtPeriod; --cpu-shares is --cpu-share. */
function updateFlagName(flag: keyof typeof RESOURCE_FLAGS): keyof UpdateFlags {
  const name = flag === 'cpu-shares' ? 'cpu-share' : flag;
  return name.replace(/-(\w)/g, (_, letter: string) => letter.toUpperCase()) as keyof UpdateFlags;
}
