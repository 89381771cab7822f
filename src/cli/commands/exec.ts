// ocits exec [flags] ID [COMMAND [ARGS...]]: run a process in a running container.
import type { CommandModule } from 'yargs';
import type { GlobalArgs } from '../global-args';

interface ExecArgs extends GlobalArgs {
  'container-id': string;
  command: string[];
  process?: string;
  cwd?: string;
  env: string[];
  user?: string;
  'additional-gids': number[];
  cap: string[];
  'no-new-privs'?: boolean;
  apparmor?: string;
  'process-label'?: string;
  tty?: boolean;
  'console-socket'?: string;
  detach: boolean;
  'pid-file'?: string;
  'preserve-fds': number;
  'ignore-paused': boolean;
}

export const execCommand: CommandModule<GlobalArgs, ExecArgs> = {
  command: 'exec <container-id> [command..]',
  describe: 'run a process in a running container',
  builder: (yargs) =>
    yargs
      .positional('container-id', { type: 'string', demandOption: true })
      .positional('command', { type: 'string', array: true, default: [], describe: 'the command and its arguments' })
      .option('process', { alias: 'p', type: 'string', describe: 'path to a runtime-spec process JSON' })
      .option('cwd', { type: 'string', describe: 'working directory in the container' })
      .option('env', { alias: 'e', type: 'string', array: true, default: [], describe: 'add NAME=value to the environment' })
      .option('user', { alias: 'u', type: 'string', describe: 'uid[:gid]' })
      .option('additional-gids', { alias: 'g', type: 'number', array: true, default: [], describe: 'additional group ids' })
      .option('cap', { alias: 'c', type: 'string', array: true, default: [], describe: 'add a capability to every set' })
      .option('no-new-privs', { type: 'boolean', describe: 'set no_new_privs for the process' })
      .option('apparmor', { type: 'string', describe: 'AppArmor profile (not supported yet)' })
      .option('process-label', { type: 'string', describe: 'SELinux label (not supported yet)' })
      .option('tty', { alias: 't', type: 'boolean', describe: 'allocate a pseudo-terminal' })
      .option('console-socket', { type: 'string', describe: 'unix socket that receives the pty master (with --tty --detach)' })
      .option('detach', { alias: 'd', type: 'boolean', default: false, describe: 'return once the process has started' })
      .option('pid-file', { type: 'string', describe: 'file to write the process id to' })
      .option('preserve-fds', { type: 'number', default: 0, describe: 'pass this many extra fds (3 and up) to the process' })
      .option('ignore-paused', { type: 'boolean', default: false, describe: 'allow exec in a paused container' }),
  handler: async (args) => {
    const { StateStore } = await import('../../lifecycle/store');
    const { execInContainer } = await import('../../lifecycle/exec');
    const status = await execInContainer(new StateStore(args.root), args['container-id'], {
      // After the `--` that protectExecCommand put in, yargs leaves them in _.
      args: [...args.command, ...args._.slice(1)].map(String),
      env: args.env.map(String),
      additionalGids: args['additional-gids'],
      caps: args.cap.map(String),
      detach: args.detach,
      preserveFds: args['preserve-fds'],
      ignorePaused: args['ignore-paused'],
      ...defined({
        processFile: args.process,
        cwd: args.cwd,
        user: args.user,
        noNewPrivs: args['no-new-privs'],
        apparmor: args.apparmor,
        processLabel: args['process-label'],
        tty: args.tty,
        consoleSocket: args['console-socket'],
        pidFile: args['pid-file'],
      }),
    });
    process.exitCode = status;
  },
};

// Flags that take a value, global and exec's, as runc spells them.
const VALUE_FLAGS = new Set([
  '--root', '--log', '--log-format', '--rootless',
  '--process', '-p', '--cwd', '--env', '-e', '--user', '-u', '--additional-gids', '-g', '--cap', '-c',
  '--apparmor', '--process-label', '--console-socket', '--pid-file', '--preserve-fds',
]);

/**
 * As with runc, flags end at the container id: in `exec ID sh -c X` the -c
 * is the command's. Puts a `--` after the id so yargs sees it that way.
 */
export function protectExecCommand(argv: string[]): string[] {
  let at = 0;
  let seenExec = false;
  while (at < argv.length) {
    const token = argv[at];
    if (token === '--') return argv;
    if (token.startsWith('-')) {
      at += VALUE_FLAGS.has(token) ? 2 : 1;
      continue;
    }
    if (seenExec) break;
    if (token !== 'exec') return argv;
    seenExec = true;
    at += 1;
  }
  // runc's synopsis: ID [--] COMMAND; a `--` the caller gave is enough.
  if (!seenExec || at >= argv.length - 1 || argv[at + 1] === '--') return argv;
  return [...argv.slice(0, at + 1), '--', ...argv.slice(at + 1)];
}

/** The entries that are set: flags not given stay absent. */
function defined<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}
