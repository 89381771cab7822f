// The ocits command line: runc's global flags and one module per command.
// This file parses, configures logging, and turns every failure into one
// line on stderr (and in --log) with exit status 1.
import yargs from 'yargs/yargs';
import type { Argv } from 'yargs';
import { OcitsError, messageOf } from '../errors';
import { configureLog, logError } from '../log';
import { defaultRoot, type GlobalArgs } from './global-args';
import { createCommand } from './commands/create';
import { deleteCommand } from './commands/delete';
import { eventsCommand } from './commands/events';
import { featuresCommand } from './commands/features';
import { killCommand } from './commands/kill';
import { runCommand } from './commands/run';
import { startCommand } from './commands/start';
import { listCommand } from './commands/list';
import { pauseCommand } from './commands/pause';
import { psCommand } from './commands/ps';
import { resumeCommand } from './commands/resume';
import { specCommand } from './commands/spec';
import { stateCommand } from './commands/state';
import { updateCommand } from './commands/update';
import { validateCommand } from './commands/validate';
import { printVersion } from './version';

const ROOTLESS_MODES: readonly string[] = ['auto', 'true', 'false'];

export async function main(argv: string[]): Promise<number> {
  const withGlobals = yargs()
    .scriptName('ocits')
    // Our --version prints runc's multi-line layout, not yargs' package.json version.
    .version(false)
    // runc's --no-pivot and --no-new-keyring are flags of their own, not
    // negations of --pivot and --new-keyring.
    .parserConfiguration({ 'boolean-negation': false })
    .usage('$0 [global options] <command> [command options]\n\nAn OCI container runtime.')
    .option('root', {
      type: 'string',
      default: defaultRoot(),
      defaultDescription: '/run/ocits, or $XDG_RUNTIME_DIR/ocits for a non-root user',
      describe: 'directory for container state (keep it on tmpfs)',
    })
    .option('log', { type: 'string', describe: 'write log entries to this file instead of stderr' })
    .option('log-format', { choices: ['text', 'json'] as const, default: 'text' as const, describe: 'log entry format' })
    .option('debug', { type: 'boolean', default: false, describe: 'log debug entries' })
    .option('rootless', {
      // Neither `choices` nor `default`: `spec --rootless` is a bare flag, as in
      // runc, and yargs would give a bare flag the default value.
      type: 'string',
      describe: 'ignore cgroup permission errors: auto (the default), true or false',
    })
    .option('systemd-cgroup', { type: 'boolean', default: false, describe: 'manage cgroups through systemd (not supported yet)' })
    .option('version', { alias: 'v', type: 'boolean', describe: 'print the version' })
    .middleware((args) => {
      const global = args as unknown as GlobalArgs;
      configureLog({ file: global.log, format: global.logFormat, debug: global.debug });
      global.rootless ??= 'auto';
      if (args._[0] !== 'spec' && !ROOTLESS_MODES.includes(global.rootless)) {
        throw new OcitsError(`--rootless: ${JSON.stringify(global.rootless)} is not one of auto, true, false`);
      }
      if (global.systemdCgroup) {
        throw new OcitsError('--systemd-cgroup: systemd cgroup management is not supported on this host');
      }
    });
  // The middleware has made the parsed flags a GlobalArgs (rootless defaulted
  // and checked), which yargs' inferred types cannot know.
  const cli = (withGlobals as unknown as Argv<GlobalArgs>)
    .command(validateCommand)
    .command(specCommand)
    .command(featuresCommand)
    .command(createCommand)
    .command(startCommand)
    .command(stateCommand)
    .command(killCommand)
    .command(deleteCommand)
    .command(runCommand)
    .command(listCommand)
    .command(pauseCommand)
    .command(resumeCommand)
    .command(psCommand)
    .command(updateCommand)
    .command(eventsCommand)
    .command({
      command: '$0',
      describe: false,
      handler: (args) => {
        if (args.version) return printVersion();
        throw new OcitsError('no command given; see ocits --help');
      },
    })
    .help('help')
    .alias('help', 'h')
    .strict()
    .wrap(Math.min(100, process.stdout.columns ?? 100))
    .exitProcess(false)
    .fail((message, error) => {
      // yargs spreads some messages over lines; errors here are one line.
      throw error ?? new OcitsError(message.replace(/\s*\n\s*/g, ' '));
    });
  try {
    await cli.parseAsync(argv, {}, (_error, _args, output) => {
      if (output) process.stdout.write(output + '\n');
    });
    // `run` exits with its container's status.
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    logError(error instanceof OcitsError ? error.message : `internal error: ${messageOf(error)}`);
    return 1;
  }
}
