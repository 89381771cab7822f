// The command line as engines drive it: runc's global flags, version layout,
// log file formats and one-line errors with exit status 1.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ocits } from '../helpers/cli';
import { tempDir } from '../helpers/tmp';

const COMMANDS = ['validate', 'spec', 'features', 'create', 'start', 'state', 'kill', 'delete', 'run', 'exec', 'list', 'pause', 'resume', 'ps', 'update', 'events', 'pull', 'images', 'bundle', 'inspect', 'tag', 'rmi', 'image', 'push', 'login', 'logout', 'registry', 'build'];

describe('ocits --version', () => {
  it.each([['--version'], ['-v']])('%s prints runc\'s layout', (flag) => {
    const result = ocits([flag]);
    expect(result.status).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    // go-runc parses the first line as "<name> version <version>".
    expect(lines[0]).toMatch(/^ocits version \d+\.\d+\.\d+$/);
    expect(lines[1]).toMatch(/^commit: ([0-9a-f]{40}|unknown)$/);
    expect(lines[2]).toBe('spec: 1.3.0');
    expect(lines[3]).toMatch(/^libseccomp: \d+\.\d+\.\d+$/);
  });

  it('is ocits even when the caller asks the program to be Bun (BUN_BE_BUN)', () => {
    // dist/ocits is Bun's runtime too; bin/ocits unsets the variable.
    const result = ocits(['--version'], { env: { ...process.env, BUN_BE_BUN: '1' } });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^ocits version /);
  });
});

describe('ocits --help', () => {
  it('lists every command that exists and the global flags', () => {
    const result = ocits(['--help']);
    expect(result.status).toBe(0);
    for (const command of COMMANDS) expect(result.stdout).toMatch(new RegExp(`^  ocits ${command}\\b`, 'm'));
    for (const flag of ['--root', '--log', '--log-format', '--debug', '--rootless', '--systemd-cgroup']) {
      expect(result.stdout).toContain(flag);
    }
  });

  it('lists no command that is not built', () => {
    const listed = [...ocits(['--help']).stdout.matchAll(/^  ocits (\w+)/gm)].map((m) => m[1]);
    expect(listed.sort()).toEqual([...COMMANDS].sort());
  });

  it.each(COMMANDS)('describes %s', (command) => {
    const result = ocits([command, '--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`ocits ${command}`);
  });

  it.each([['bundle', 'unpack as an unprivileged user'], ['spec', 'write a config for an unprivileged user']])("%s --help describes its own --rootless, not the global flag's", (command, own) => {
    const rootless = ocits([command, '--help']).stdout.split('\n').filter((line) => line.trim().startsWith('--rootless'));
    expect(rootless).toHaveLength(1);
    expect(rootless[0]).toContain(own);
  });
});

describe('bad usage', () => {
  it.each([
    [['nosuchcommand'], 'unknown command "nosuchcommand"; see ocits --help'],
    [['state', 'x', '--nosuchflag'], 'flag provided but not defined: --nosuchflag'],
    [['state'], '"state" requires exactly 1 argument(s)'],
    [['state', 'x', 'y'], '"state" requires exactly 1 argument(s)'],
    [['kill'], '"kill" requires a minimum of 1 argument(s)'],
    [['kill', 'x', 'KILL', 'y'], '"kill" requires a maximum of 2 argument(s)'],
    [['create', '--preserve-fds', 'many', 'x'], 'invalid value "many" for flag --preserve-fds: not an integer'],
    [['--debug=maybe', 'state', 'x'], 'invalid boolean value "maybe" for --debug'],
    [['state', 'x', '--root'], 'flag needs an argument: --root'],
    [[], 'no command given'],
    [['--log-format', 'xml', 'state', 'x'], 'invalid log-format: xml'],
    [['--rootless', 'maybe', 'state', 'x'], '--rootless: "maybe" is not one of auto, true, false'],
  ])('ocits %j fails on one line with exit 1', (args, message) => {
    const result = ocits(args);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(message);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stdout).toBe('');
  });
});

describe('global flags', () => {
  it.each([
    [['--root', 'ROOT', '--log-format', 'json', 'state', 'nosuch']],
    [['--log-format=json', '--root=ROOT', 'state', 'nosuch']],
    [['state', 'nosuch', '--root', 'ROOT', '--log-format', 'json']],
    [['--debug', '--rootless=false', '--root', 'ROOT', 'state', '--log-format=json', 'nosuch']],
  ])('are accepted in any order and form: %j', (args) => {
    const root = tempDir('ocits-root-');
    const result = ocits(args.map((a) => a.replace('ROOT', root)));
    expect(result.status).toBe(1);
    const entry = JSON.parse(result.stderr.trimEnd().split('\n').pop()!);
    expect(entry).toMatchObject({ level: 'error', msg: 'container nosuch does not exist' });
  });
});

describe('--log', () => {
  it('appends JSON entries that engines read', () => {
    const dir = tempDir('ocits-log-');
    const log = path.join(dir, 'log.json');
    fs.writeFileSync(log, '{"level":"info","msg":"earlier","time":"2026-01-01T00:00:00Z"}\n');
    const result = ocits(['--log', log, '--log-format', 'json', '--root', dir, 'state', 'nosuch']);
    expect(result.status).toBe(1);
    // A person at a terminal still sees the error.
    expect(result.stderr).toBe('ocits: container nosuch does not exist\n');
    const lines = fs.readFileSync(log, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    const entry = JSON.parse(lines[1]);
    expect(Object.keys(entry)).toEqual(['level', 'msg', 'time']);
    expect(entry.level).toBe('error');
    expect(entry.msg).toBe('container nosuch does not exist');
    expect(entry.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('writes logrus-style text entries with --log-format text', () => {
    const dir = tempDir('ocits-log-');
    const log = path.join(dir, 'log.txt');
    ocits(['--log', log, '--root', dir, 'state', 'nosuch']);
    expect(fs.readFileSync(log, 'utf8')).toMatch(/^time="[^"]+" level=error msg="container nosuch does not exist"\n$/);
  });

  it('records debug entries only with --debug', () => {
    const dir = tempDir('ocits-log-');
    const store = path.join(dir, 'root');
    fs.mkdirSync(path.join(store, 'c1'), { recursive: true });
    fs.writeFileSync(path.join(store, 'c1', 'state.json'), JSON.stringify({
      ociVersion: '1.3.0', id: 'c1', bundle: dir, rootfs: dir, created: '2026-01-01T00:00:00Z', owner: 'root',
    }));
    const quiet = path.join(dir, 'quiet.json');
    expect(ocits(['--log', quiet, '--log-format', 'json', '--root', store, 'state', 'c1']).status).toBe(0);
    expect(fs.readFileSync(quiet, 'utf8')).toBe('');
    const loud = path.join(dir, 'loud.json');
    expect(ocits(['--debug', '--log', loud, '--log-format', 'json', '--root', store, 'state', 'c1']).status).toBe(0);
    const entries = fs.readFileSync(loud, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.every((e) => e.level === 'debug')).toBe(true);
  });

  it('writes --debug entries to stderr as log entries: logrus text, or JSON with --log-format json', () => {
    const dir = tempDir('ocits-log-');
    const store = path.join(dir, 'root');
    fs.mkdirSync(store);
    const text = ocits(['--debug', '--root', store, 'state', 'nosuch']);
    const textLines = text.stderr.trimEnd().split('\n');
    expect(textLines.at(-1)).toBe('ocits: container nosuch does not exist');
    expect(textLines.length).toBeGreaterThan(1);
    for (const line of textLines.slice(0, -1)) expect(line).toMatch(/^time="[^"]+" level=debug msg="ocits:store .*"$/);
    const json = ocits(['--debug', '--log-format', 'json', '--root', store, 'state', 'nosuch']);
    const entries = json.stderr.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(entries.slice(0, -1).every((entry) => entry.level === 'debug')).toBe(true);
    expect(entries.at(-1)).toMatchObject({ level: 'error', msg: 'container nosuch does not exist' });
  });

  it('fails clearly when the log file cannot be opened', () => {
    const result = ocits(['--log', '/nonexistent/dir/log', 'state', 'x']);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^ocits: .*\/nonexistent\/dir\/log.*\n$/);
  });
});
