// runc's command-line grammar (urfave/cli over Go's flag package), parsed by
// hand: every engine operation starts a new ocits, and a general-purpose
// parser cost more per call than the container work itself.
//
//   ocits [global flags] COMMAND [flags and arguments in any order] [-- args]
//
// A flag is -name or --name, its value the next argument or after "=";
// a boolean takes "=false" but never the next argument. Global flags are
// also accepted after the command, where a command's own flag of the same
// name wins (spec --rootless).
import { OcitsError } from '../errors';
import type { Command, FlagSpec, FlagSpecs, ParsedFlags } from './command';

export type CommandLine =
  | { kind: 'help'; command?: Command }
  | { kind: 'version'; global: ParsedFlags }
  | { kind: 'none'; global: ParsedFlags }
  | { kind: 'command'; command: Command; global: ParsedFlags; flags: ParsedFlags; args: string[] };

/** Flags every command takes besides its own. */
export const HELP_FLAGS: FlagSpecs = {
  help: { type: 'boolean', alias: 'h', describe: 'show help' },
};

/** Flags only before the command. */
export const TOP_LEVEL_FLAGS: FlagSpecs = {
  ...HELP_FLAGS,
  version: { type: 'boolean', alias: 'v', describe: 'print the version' },
};

export function parseCommandLine(argv: readonly string[], globalFlags: FlagSpecs, commands: readonly Command[]): CommandLine {
  const global: ParsedFlags = {};
  let i = 0;
  for (; i < argv.length && isFlag(argv[i]); i++) {
    i = readFlag(argv, i, [globalFlags, TOP_LEVEL_FLAGS], global);
  }
  if (global.help === true) return { kind: 'help' };
  if (i === argv.length) {
    return global.version === true ? { kind: 'version', global } : { kind: 'none', global };
  }
  if (argv[i] === 'help' || argv[i] === 'h') {
    return { kind: 'help', ...(argv[i + 1] !== undefined ? { command: findCommand(commands, argv[i + 1]) } : {}) };
  }
  const command = findCommand(commands, argv[i]);
  const flags: ParsedFlags = {};
  const args: string[] = [];
  for (i++; i < argv.length; i++) {
    const arg = argv[i];
    if (command.flagsBeforeArgsOnly && args.length > 0) {
      args.push(...argv.slice(i));
      break;
    }
    if (arg === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (!isFlag(arg)) {
      args.push(arg);
      continue;
    }
    const own = [command.flags, HELP_FLAGS];
    if (lookUp(own, splitFlag(arg).name) === undefined && lookUp([globalFlags], splitFlag(arg).name) !== undefined) {
      i = readFlag(argv, i, [globalFlags], global);
    } else {
      i = readFlag(argv, i, own, flags);
      if (flags.help === true) return { kind: 'help', command };
    }
  }
  checkArgCount(command, args);
  return { kind: 'command', command, global, flags: withDefaults(command.flags, flags), args };
}

/** The given flag values, plus the default of every flag not given. */
export function withDefaults(specs: FlagSpecs, given: ParsedFlags): ParsedFlags {
  const values: ParsedFlags = { ...given };
  for (const [name, spec] of Object.entries(specs)) {
    if (values[name] !== undefined) continue;
    if (spec.default !== undefined) values[name] = spec.default;
    else if (spec.type === 'strings') values[name] = [];
  }
  return values;
}

function isFlag(arg: string): boolean {
  return arg.length > 1 && arg.startsWith('-') && arg !== '--';
}

function findCommand(commands: readonly Command[], name: string): Command {
  const command = commands.find((c) => c.name === name);
  if (command === undefined) throw new OcitsError(`unknown command "${name}"; see ocits --help`);
  return command;
}

/** Splits "--name=value" / "-name" into the name and the value after "=", if any. */
function splitFlag(arg: string): { name: string; inline?: string } {
  const body = arg.replace(/^--?/, '');
  const equals = body.indexOf('=');
  return equals === -1 ? { name: body } : { name: body.slice(0, equals), inline: body.slice(equals + 1) };
}

function lookUp(tables: readonly FlagSpecs[], name: string): { name: string; spec: FlagSpec } | undefined {
  for (const table of tables) {
    if (table[name] !== undefined) return { name, spec: table[name] };
    for (const [long, spec] of Object.entries(table)) if (spec.alias === name) return { name: long, spec };
  }
  return undefined;
}

/** Reads the flag at argv[i] into `into`; returns the index of its last argument. */
function readFlag(argv: readonly string[], i: number, tables: readonly FlagSpecs[], into: ParsedFlags): number {
  const { name, inline } = splitFlag(argv[i]);
  const found = lookUp(tables, name);
  if (found === undefined) throw new OcitsError(`flag provided but not defined: ${argv[i].replace(/=.*/, '')}`);
  const { spec } = found;
  if (spec.type === 'boolean') {
    into[found.name] = inline === undefined ? true : parseBoolean(inline, name);
    return i;
  }
  let text = inline;
  if (text === undefined) {
    if (i + 1 >= argv.length) throw new OcitsError(`flag needs an argument: --${name}`);
    text = argv[++i];
  }
  if (spec.type === 'number') {
    const value = Number(text);
    if (text.trim() === '' || !Number.isInteger(value)) throw new OcitsError(`invalid value "${text}" for flag --${name}: not an integer`);
    into[found.name] = value;
  } else if (spec.type === 'strings') {
    into[found.name] = [...((into[found.name] as string[] | undefined) ?? []), text];
  } else {
    into[found.name] = text;
  }
  return i;
}

// Go's strconv.ParseBool, which urfave/cli uses for "--flag=value".
function parseBoolean(text: string, name: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(text)) return false;
  throw new OcitsError(`invalid boolean value "${text}" for --${name}`);
}

// runc's wording, which people know from scripts.
function checkArgCount(command: Command, args: readonly string[]): void {
  const { min, max } = command.args;
  if (min === max && args.length !== min) {
    throw new OcitsError(`"${command.name}" requires exactly ${min} argument(s)`);
  }
  if (args.length < min) throw new OcitsError(`"${command.name}" requires a minimum of ${min} argument(s)`);
  if (args.length > max) throw new OcitsError(`"${command.name}" requires a maximum of ${max} argument(s)`);
}
