// The ocits command line: runc's global flags and one module per command.
// This file dispatches, configures logging, and turns every failure into one
// line on stderr (and in --log) with exit status 1.
import { OcitsError, errnoText, messageOf, oneLine, quoted } from '../errors';
import { configureLog, logError } from '../log';
import { writeStdout } from '../output';
import type { Command, FlagSpecs, FlagValues } from './command';
import { GLOBAL_FLAGS, globalArgsOf } from './global-args';
import { parseCommandLine, withDefaults } from './parse-args';
import { buildCommand } from './commands/build';
import { bundleCommand } from './commands/bundle';
import { createCommand } from './commands/create';
import { deleteCommand } from './commands/delete';
import { eventsCommand } from './commands/events';
import { execCommand } from './commands/exec';
import { featuresCommand } from './commands/features';
import { imageCommand } from './commands/image';
import { imagesCommand } from './commands/images';
import { inspectCommand } from './commands/inspect';
import { killCommand } from './commands/kill';
import { runCommand } from './commands/run';
import { startCommand } from './commands/start';
import { listCommand } from './commands/list';
import { pauseCommand } from './commands/pause';
import { psCommand } from './commands/ps';
import { loginCommand } from './commands/login';
import { logoutCommand } from './commands/logout';
import { pullCommand } from './commands/pull';
import { pushCommand } from './commands/push';
import { registryCommand } from './commands/registry';
import { resumeCommand } from './commands/resume';
import { rmiCommand } from './commands/rmi';
import { specCommand } from './commands/spec';
import { stateCommand } from './commands/state';
import { tagCommand } from './commands/tag';
import { updateCommand } from './commands/update';
import { validateCommand } from './commands/validate';
import { printVersion } from './version';

// Each command's run() is typed by its own flags; here they are all alike.
const COMMANDS = [
  validateCommand,
  specCommand,
  featuresCommand,
  createCommand,
  startCommand,
  stateCommand,
  killCommand,
  deleteCommand,
  runCommand,
  execCommand,
  listCommand,
  pauseCommand,
  resumeCommand,
  psCommand,
  updateCommand,
  eventsCommand,
  pullCommand,
  pushCommand,
  loginCommand,
  logoutCommand,
  imagesCommand,
  bundleCommand,
  buildCommand,
  inspectCommand,
  tagCommand,
  rmiCommand,
  imageCommand,
  registryCommand,
] as unknown as readonly Command[];

export async function main(argv: string[]): Promise<number> {
  try {
    const line = parseCommandLine(argv, GLOBAL_FLAGS, COMMANDS);
    if (line.kind === 'help') {
      const { helpText } = await import('./help');
      writeStdout((await helpText(GLOBAL_FLAGS, COMMANDS, line.command)) + '\n');
      return 0;
    }
    const global = globalArgsOf(withDefaults(GLOBAL_FLAGS, line.global));
    configureLog({ ...(global.log !== undefined ? { file: global.log } : {}), format: global.logFormat, debug: global.debug });
    if (line.kind === 'version') {
      printVersion();
      return 0;
    }
    if (line.kind === 'none') throw new OcitsError('no command given; see ocits --help');
    // `run` exits with its container's status.
    // The parser filled the flags from this command's own table.
    const flags = line.flags as FlagValues<FlagSpecs>;
    const status = await line.command.run({ global, flags, args: line.args });
    return typeof status === 'number' ? status : 0;
  } catch (error) {
    // Whatever a message quotes (a path, a name from the config), it is one line.
    logError(oneLine(error instanceof OcitsError ? error.message : internalErrorMessage(error)));
    return 1;
  }
}

/**
 * A failure no module turned into an OcitsError. One the operating system
 * reported still names its system call and path; anything else is a bug.
 */
function internalErrorMessage(error: unknown): string {
  const { syscall, path } = (typeof error === 'object' && error !== null ? error : {}) as NodeJS.ErrnoException;
  if (syscall !== undefined && path !== undefined) return `${syscall} ${quoted(path)}: ${errnoText(error)}`;
  return `internal error: ${messageOf(error)}`;
}
