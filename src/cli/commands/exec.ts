// ocits exec [flags] ID [COMMAND [ARGS...]]: run a process in a running container.
import { OcitsError } from '../../errors';
import { defineCommand } from '../command';

export const execCommand = defineCommand({
  name: 'exec',
  usage: '[flags] <container-id> [--] [command [args...]]',
  describe: 'run a process in a running container',
  args: { min: 1, max: Infinity },
  // As with runc, flags end at the container id: in `exec ID sh -c X` the -c is the command's.
  flagsBeforeArgsOnly: true,
  flags: {
    process: { type: 'string', alias: 'p', describe: 'path to a runtime-spec process JSON' },
    cwd: { type: 'string', describe: 'working directory in the container' },
    env: { type: 'strings', alias: 'e', describe: 'add NAME=value to the environment' },
    user: { type: 'string', alias: 'u', describe: 'uid[:gid]' },
    'additional-gids': { type: 'strings', alias: 'g', describe: 'additional group ids' },
    cap: { type: 'strings', alias: 'c', describe: 'add a capability to every set' },
    'no-new-privs': { type: 'boolean', describe: 'set no_new_privs for the process' },
    apparmor: { type: 'string', describe: 'AppArmor profile for the process (needs AppArmor on the host)' },
    'process-label': { type: 'string', describe: 'SELinux label for the process (needs SELinux on the host)' },
    tty: { type: 'boolean', alias: 't', describe: 'allocate a pseudo-terminal' },
    'console-socket': { type: 'string', describe: 'unix socket that receives the pty master (with --tty --detach)' },
    detach: { type: 'boolean', alias: 'd', default: false, describe: 'return once the process has started' },
    'pid-file': { type: 'string', describe: 'file to write the process id to' },
    'preserve-fds': { type: 'number', default: 0, describe: 'pass this many extra fds (3 and up) to the process' },
    'ignore-paused': { type: 'boolean', default: false, describe: 'allow exec in a paused container' },
  },
  run: async ({ global, flags, args: [id, ...rest] }) => {
    const { StateStore } = await import('../../lifecycle/store');
    const { execInContainer } = await import('../../lifecycle/exec');
    return execInContainer(new StateStore(global.root), id, {
      // runc's synopsis: ID [--] COMMAND.
      args: rest[0] === '--' ? rest.slice(1) : rest,
      env: flags.env,
      additionalGids: flags['additional-gids'].map(groupId),
      caps: flags.cap,
      detach: flags.detach,
      preserveFds: flags['preserve-fds'],
      ignorePaused: flags['ignore-paused'],
      ...defined({
        processFile: flags.process,
        cwd: flags.cwd,
        user: flags.user,
        noNewPrivs: flags['no-new-privs'],
        apparmor: flags.apparmor,
        processLabel: flags['process-label'],
        tty: flags.tty,
        consoleSocket: flags['console-socket'],
        pidFile: flags['pid-file'],
      }),
    });
  },
});

// gid_t is 32 bits, and 4294967295 is -1, which setgroups(2) would take as is;
// anything larger would wrap on the way to C (4294967296 is root's group).
const LAST_GID = 0xfffffffe;

function groupId(text: string): number {
  const gid = Number(text);
  if (!/^\d+$/.test(text) || gid > LAST_GID) {
    throw new OcitsError(`invalid value ${JSON.stringify(text)} for flag --additional-gids: not a group id (0 to ${LAST_GID})`);
  }
  return gid;
}

/** The entries that are set: flags not given stay absent. */
function defined<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}
