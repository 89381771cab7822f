// ocits resume ID: resume every process of a paused container (its cgroup's freezer).
import type { CommandModule } from 'yargs';
import type { GlobalArgs } from '../global-args';

interface ResumeArgs extends GlobalArgs {
  'container-id': string;
}

export const resumeCommand: CommandModule<GlobalArgs, ResumeArgs> = {
  command: 'resume <container-id>',
  describe: 'resume every process of a paused container',
  builder: (yargs) => yargs.positional('container-id', { type: 'string', demandOption: true }),
  handler: async (args) => {
    const { StateStore } = await import('../../lifecycle/store');
    const { resumeContainer } = await import('../../lifecycle/pause');
    resumeContainer(new StateStore(args.root), args['container-id']);
  },
};
