// --help text, rendered by yargs from the same flag tables the parser uses.
// yargs is loaded only here: a command that runs never pays for it.
import type { Argv, Options } from 'yargs';
import type yargsFactory from 'yargs/yargs';
import type { Command, FlagSpecs, FlagType } from './command';
import { HELP_FLAGS, TOP_LEVEL_FLAGS } from './parse-args';

const YARGS_TYPES: Record<FlagType, Options['type']> = { string: 'string', boolean: 'boolean', number: 'number', strings: 'array' };

export async function helpText(globalFlags: FlagSpecs, commands: readonly Command[], command?: Command): Promise<string> {
  // Compiled into the program with the rest, but evaluated only here.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const yargs = require('yargs/yargs') as typeof yargsFactory;
  const cli = yargs([]).scriptName('ocits').version(false).help(false).wrap(Math.min(100, process.stdout.columns ?? 100));
  if (command === undefined) {
    cli.usage('$0 [global flags] <command> [flags] [arguments]\n\nAn OCI container runtime.');
    for (const each of commands) cli.command(`${each.name} ${each.usage}`.trim(), each.describe);
    withFlags(cli, { ...globalFlags, ...TOP_LEVEL_FLAGS }, 'Global flags:');
  } else {
    cli.usage(`$0 ${command.name} ${command.usage}\n\n${command.describe}`);
    withFlags(cli, { ...command.flags, ...HELP_FLAGS }, 'Flags:');
    // A command's own flag of a global flag's name is the one the parser reads (bundle and spec --rootless).
    withFlags(cli, Object.fromEntries(Object.entries(globalFlags).filter(([name]) => command.flags[name] === undefined)), 'Global flags:');
  }
  return cli.getHelp();
}

function withFlags(cli: Argv, flags: FlagSpecs, group: string): void {
  for (const [name, spec] of Object.entries(flags)) {
    cli.option(name, {
      type: YARGS_TYPES[spec.type],
      describe: spec.describe,
      ...(spec.alias !== undefined ? { alias: spec.alias } : {}),
      ...(spec.default !== undefined ? { default: spec.default } : {}),
    });
  }
  cli.group(Object.keys(flags), group);
}
