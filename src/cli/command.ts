// How a command is described: its positional arguments, its flags as runc
// spells them, and what it does. One table per command drives both the
// parser (parse-args.ts) and the help text (help.ts).
import type { LogFormat } from '../log';

export type RootlessMode = 'auto' | 'true' | 'false';

/** runc's global flags, checked (global-args.ts reads them). */
export interface GlobalArgs {
  root: string;
  log?: string;
  logFormat: LogFormat;
  debug: boolean;
  rootless: RootlessMode;
  systemdCgroup: boolean;
}

/** Flags as the parser read them, before a command's types apply. */
export type ParsedFlags = Record<string, string | boolean | number | string[]>;

export type FlagType = 'string' | 'boolean' | 'number' | 'strings';

export interface FlagSpec {
  type: FlagType;
  /** A one-letter alias, used as -x. */
  alias?: string;
  /** The value when the flag is not given. A flag without one is optional. */
  default?: string | boolean | number;
  describe: string;
}

export type FlagSpecs = Record<string, FlagSpec>;

type ValueOf<F extends FlagSpec> = F['type'] extends 'boolean'
  ? boolean
  : F['type'] extends 'number'
    ? number
    : F['type'] extends 'strings'
      ? string[]
      : string;

/** The parsed flags of a command, typed from its FlagSpecs. */
export type FlagValues<F extends FlagSpecs> = {
  [K in keyof F]: F[K] extends { default: unknown } ? ValueOf<F[K]> : F[K]['type'] extends 'strings' ? string[] : ValueOf<F[K]> | undefined;
};

export interface CommandInput<F extends FlagSpecs> {
  global: GlobalArgs;
  flags: FlagValues<F>;
  /** The positional arguments, already checked against min and max. */
  args: string[];
}

export interface Command<F extends FlagSpecs = FlagSpecs> {
  name: string;
  /** What follows the command name in the usage line, e.g. "<container-id> [signal]". */
  usage: string;
  describe: string;
  /** How many positional arguments the command takes; max Infinity for a command line of its own. */
  args: { min: number; max: number };
  flags: F;
  /**
   * Flags end at the first positional argument, so that `exec ID sh -c x`
   * passes `-c` to sh: runc's exec and ps do not reorder arguments.
   */
  flagsBeforeArgsOnly?: boolean;
  /** Runs the command; its promise's number, if any, is the exit status (run, exec). */
  run(input: CommandInput<F>): Promise<number | void> | number | void;
}

/** Declares a command with its flag types inferred for run(). */
export function defineCommand<F extends FlagSpecs>(command: Command<F>): Command<F> {
  return command;
}

/** The --bundle flag of create, run, spec and validate. */
export const BUNDLE_FLAG = { type: 'string', alias: 'b', default: '.', describe: 'path to the bundle directory' } as const;
