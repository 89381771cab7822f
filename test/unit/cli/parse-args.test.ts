// runc's command-line grammar, as src/cli/parse-args.ts reads it.
import { defineCommand, type Command, type FlagSpecs } from '../../../src/cli/command';
import { parseCommandLine } from '../../../src/cli/parse-args';

const GLOBAL: FlagSpecs = {
  root: { type: 'string', describe: 'state' },
  debug: { type: 'boolean', default: false, describe: 'debug' },
  rootless: { type: 'string', default: 'auto', describe: 'mode' },
};

const noop = (): void => {};
const COMMANDS = [
  defineCommand({
    name: 'create',
    usage: '<id>',
    describe: 'create',
    args: { min: 1, max: 1 },
    flags: {
      bundle: { type: 'string', alias: 'b', default: '.', describe: 'bundle' },
      'no-pivot': { type: 'boolean', default: false, describe: 'no pivot' },
      'preserve-fds': { type: 'number', default: 0, describe: 'fds' },
    },
    run: noop,
  }),
  defineCommand({
    name: 'exec',
    usage: '<id> <command>',
    describe: 'exec',
    args: { min: 1, max: Infinity },
    flags: {
      env: { type: 'strings', alias: 'e', describe: 'env' },
      tty: { type: 'boolean', alias: 't', default: false, describe: 'tty' },
    },
    flagsBeforeArgsOnly: true,
    run: noop,
  }),
  defineCommand({
    name: 'spec',
    usage: '',
    describe: 'spec',
    args: { min: 0, max: 0 },
    flags: { rootless: { type: 'boolean', default: false, describe: 'rootless config' } },
    run: noop,
  }),
] as unknown as Command[];

function parse(argv: string[]) {
  return parseCommandLine(argv, GLOBAL, COMMANDS);
}

describe('parseCommandLine', () => {
  it('reads every spelling of a flag and its value', () => {
    for (const argv of [
      ['--root', 'R', 'create', '--bundle', 'B', '--no-pivot', '--preserve-fds', '2', 'x'],
      ['-root=R', 'create', '-b', 'B', '-no-pivot=true', '--preserve-fds=2', 'x'],
      ['create', 'x', '--bundle=B', '--root', 'R', '--no-pivot', '-preserve-fds', '2'],
    ]) {
      expect(parse(argv)).toMatchObject({
        kind: 'command',
        global: { root: 'R' },
        flags: { bundle: 'B', 'no-pivot': true, 'preserve-fds': 2 },
        args: ['x'],
      });
    }
  });

  it('fills defaults and never takes the next argument as a boolean value', () => {
    expect(parse(['create', '--no-pivot', 'x'])).toMatchObject({
      flags: { bundle: '.', 'no-pivot': true, 'preserve-fds': 0 },
      args: ['x'],
    });
  });

  it('takes everything after -- as arguments', () => {
    expect(parse(['create', '--', '--bundle'])).toMatchObject({ args: ['--bundle'] });
  });

  it('stops reading flags at the first argument of a command line of its own', () => {
    expect(parse(['exec', '-e', 'A=1', '--env', 'B=2', '-t', 'x', 'sh', '-c', 'echo --tty'])).toMatchObject({
      flags: { env: ['A=1', 'B=2'], tty: true },
      args: ['x', 'sh', '-c', 'echo --tty'],
    });
  });

  it("lets a command's own flag win over a global flag of the same name", () => {
    expect(parse(['--rootless', 'true', 'spec', '--rootless'])).toMatchObject({
      global: { rootless: 'true' },
      flags: { rootless: true },
    });
  });

  it('recognises help and version', () => {
    expect(parse(['--help'])).toEqual({ kind: 'help' });
    expect(parse(['create', '-h'])).toMatchObject({ kind: 'help', command: { name: 'create' } });
    expect(parse(['help', 'exec'])).toMatchObject({ kind: 'help', command: { name: 'exec' } });
    expect(parse(['-v'])).toMatchObject({ kind: 'version' });
    expect(parse([])).toMatchObject({ kind: 'none' });
  });

  it.each([
    [['nosuch'], 'unknown command "nosuch"; see ocits --help'],
    [['create', '--nosuch', 'x'], 'flag provided but not defined: --nosuch'],
    [['create', '-version', 'x'], 'flag provided but not defined: -version'],
    [['create', 'x', '--bundle'], 'flag needs an argument: --bundle'],
    [['create', '--preserve-fds=1.5', 'x'], 'invalid value "1.5" for flag --preserve-fds: not an integer'],
    [['create', '--no-pivot=yes', 'x'], 'invalid boolean value "yes" for --no-pivot'],
    [['create'], '"create" requires exactly 1 argument(s)'],
    [['exec'], '"exec" requires a minimum of 1 argument(s)'],
    [['spec', 'x'], '"spec" requires exactly 0 argument(s)'],
  ])('refuses %j: %s', (argv, message) => {
    expect(() => parse(argv)).toThrow(message);
  });
});
