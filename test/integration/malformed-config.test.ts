// The malformed-config generator (issue 18): a fixed-seed PRNG mutates a
// valid config in CASES ways (wrong types at random pointers, removed
// fields, out-of-range numbers, huge strings, invalid UTF-8, NUL bytes and
// lone surrogates, deep nesting, config files that are not regular files)
// and every case must end cleanly: exit status 1 with exactly one line on
// stderr, no stack trace and no "internal error", or 0 when the mutation
// left the config valid; and nothing of the container left behind.
//
// The split, to stay within a couple of minutes on two cores, where every
// ocits process costs about 0.13 s of CPU for Node's start alone:
// - every case goes through the CLI's own main(['validate', ...]) in this
//   process, with what it writes captured: the same code as bin/ocits,
//   a few milliseconds a case;
// - every PROGRAM_EVERY-th case and every file that is not a regular one
//   also runs as the program, `ocits validate`, which must say the same;
// - a real `create` against a private --root runs for every case validate
//   accepted (those get as far as cgroups, mounts and processes) and for
//   every REFUSED_CREATE_EVERY-th refused one, which create must refuse
//   before it makes anything; `delete --force` follows a create that
//   succeeded. After each we look for its state directory, its cgroups,
//   processes carrying its mark and new mounts.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { detectCgroupHost } from '../../src/cgroups/host';
import { resolveContainerCgroup } from '../../src/cgroups/paths';
import { main } from '../../src/cli/main';
import * as output from '../../src/output';
import { MAX_DOCUMENT_BYTES } from '../../src/spec/json';
import { busyboxBundle, Runtime } from '../helpers/busybox';
import { OCITS } from '../helpers/cli';
import { procFields, processesWhere, readOrEmpty } from '../helpers/host-processes';
import { tempDir } from '../helpers/tmp';

const SEED = 0x18c0f1c;
const CASES = 1000;
const PROGRAM_EVERY = 20;
const REFUSED_CREATE_EVERY = 25;
/** Commands run at once: this machine has two cores. */
const PARALLEL = 2;

/** mulberry32: a tiny PRNG, so the cases are the same on every run. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = Array<string | number>;

/** One generated case: a config text, or a config.json that is not a regular file. */
interface Case {
  index: number;
  /** The kind of mutation, one of KINDS. */
  kind: string;
  what: string;
  text?: Buffer;
  special?: (file: string) => void | Promise<void>;
}

// Integer fields, with what must exist around them for the value to be the only problem.
const INTEGER_FIELDS: Array<[Path, (config: any) => void]> = [
  [['process', 'oomScoreAdj'], () => {}],
  [['process', 'user', 'uid'], () => {}],
  [['process', 'user', 'gid'], () => {}],
  [['process', 'user', 'umask'], () => {}],
  [['process', 'user', 'additionalGids', 0], (c) => (c.process.user.additionalGids = [0])],
  [['process', 'rlimits', 0, 'soft'], () => {}],
  [['process', 'rlimits', 0, 'hard'], () => {}],
  [['process', 'consoleSize', 'height'], (c) => (c.process.consoleSize = { height: 1, width: 1 })],
  [['process', 'scheduler', 'nice'], (c) => (c.process.scheduler = { policy: 'SCHED_OTHER' })],
  [['process', 'scheduler', 'priority'], (c) => (c.process.scheduler = { policy: 'SCHED_FIFO' })],
  [['process', 'scheduler', 'runtime'], (c) => (c.process.scheduler = { policy: 'SCHED_DEADLINE' })],
  [['process', 'ioPriority', 'priority'], (c) => (c.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 0 })],
  [['linux', 'devices', 0, 'major'], (c) => (c.linux.devices = [{ path: '/dev/fz', type: 'c', major: 1, minor: 3 }])],
  [['linux', 'devices', 0, 'minor'], (c) => (c.linux.devices = [{ path: '/dev/fz', type: 'c', major: 1, minor: 3 }])],
  [['linux', 'devices', 0, 'fileMode'], (c) => (c.linux.devices = [{ path: '/dev/fz', type: 'c', major: 1, minor: 3 }])],
  [['linux', 'devices', 0, 'uid'], (c) => (c.linux.devices = [{ path: '/dev/fz', type: 'c', major: 1, minor: 3 }])],
  [['linux', 'resources', 'memory', 'limit'], (c) => (c.linux.resources.memory = {})],
  [['linux', 'resources', 'memory', 'swappiness'], (c) => (c.linux.resources.memory = {})],
  [['linux', 'resources', 'cpu', 'shares'], (c) => (c.linux.resources.cpu = {})],
  [['linux', 'resources', 'cpu', 'quota'], (c) => (c.linux.resources.cpu = {})],
  [['linux', 'resources', 'pids', 'limit'], (c) => (c.linux.resources.pids = {})],
  [['linux', 'resources', 'blockIO', 'weight'], (c) => (c.linux.resources.blockIO = {})],
  [['linux', 'resources', 'devices', 1, 'major'], (c) => c.linux.resources.devices.push({ allow: true, type: 'c', major: 1, minor: 3, access: 'r' })],
  [['linux', 'seccomp', 'syscalls', 0, 'errnoRet'], (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdirat'], action: 'SCMP_ACT_ERRNO' }] })],
  [['linux', 'seccomp', 'syscalls', 0, 'args', 0, 'index'], (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdirat'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }] }] })],
  [['linux', 'uidMappings', 0, 'size'], (c) => (c.linux.uidMappings = [{ containerID: 0, hostID: 0, size: 1 }])],
  [['hooks', 'prestart', 0, 'timeout'], (c) => (c.hooks = { prestart: [{ path: '/bin/true' }] })],
];
const OUT_OF_RANGE = [-1, -2, -1001, 1001, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53, 1e30, -1e30, 0.5, 65536, 1048576, 1e308, 1];
const KINDS = ['wrong type', 'removed', 'out of range', 'huge string', 'invalid UTF-8', 'odd character', 'deep nesting', 'broken JSON', 'not a regular file'];
const OTHER_TYPES: Json[] = [0, -1, 1.5, 'x', '', true, false, null, [], {}, ['x'], { a: 1 }, [[[]]]];

function typeOf(value: unknown): string {
  return Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
}

function pointerOf(at: Path): string {
  return at.map((segment) => '/' + String(segment).replace(/~/g, '~0').replace(/\//g, '~1')).join('') || '/';
}

/** Every path in a document, the root excluded. */
function pathsIn(value: Json, at: Path = [], found: Path[] = []): Path[] {
  const children: Array<[string | number, Json]> = Array.isArray(value)
    ? value.map((item, i) => [i, item])
    : value !== null && typeof value === 'object' ? Object.entries(value) : [];
  for (const [key, item] of children) {
    found.push([...at, key]);
    pathsIn(item, [...at, key], found);
  }
  return found;
}

function get(document: any, at: Path): any {
  return at.reduce((node, segment) => (node === null || typeof node !== 'object' ? undefined : node[segment]), document);
}

function set(document: any, at: Path, value: Json): void {
  let node = document;
  for (let i = 0; i < at.length - 1; i++) {
    if (node[at[i]] === null || typeof node[at[i]] !== 'object') node[at[i]] = typeof at[i + 1] === 'number' ? [] : {};
    node = node[at[i]];
  }
  node[at[at.length - 1]] = value;
}

function remove(document: any, at: Path): void {
  const parent = get(document, at.slice(0, -1));
  const last = at[at.length - 1];
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else delete parent[last];
}

/** The cases, from the seed alone. */
function generateCases(base: Json): Case[] {
  const random = prng(SEED);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const stringPaths = (config: Json) => pathsIn(config).filter((at) => typeof get(config, at) === 'string');
  const text = (config: Json) => Buffer.from(JSON.stringify(config, null, 1));
  const marker = 'MUTATION-MARKER';
  /** The config with one string replaced by marker, serialised, the marker then swapped for raw bytes. */
  const withBytes = (config: Json, at: Path, bytes: Buffer): Buffer => {
    set(config, at, marker);
    const serialised = text(config);
    const offset = serialised.indexOf(`"${marker}"`);
    return Buffer.concat([serialised.subarray(0, offset), bytes, serialised.subarray(offset + marker.length + 2)]);
  };
  const mutations: Array<(config: any) => Omit<Case, 'index'>> = [
    (config) => {
      const at = pick(pathsIn(config));
      const value = pick(OTHER_TYPES.filter((candidate) => typeOf(candidate) !== typeOf(get(config, at))));
      set(config, at, value);
      return { kind: 'wrong type', what: `wrong type at ${pointerOf(at)}: ${JSON.stringify(value)}`, text: text(config) };
    },
    (config) => {
      const at = pick(pathsIn(config));
      remove(config, at);
      return { kind: 'removed', what: `removed ${pointerOf(at)}`, text: text(config) };
    },
    (config) => {
      const [at, prepare] = pick(INTEGER_FIELDS);
      const value = pick(OUT_OF_RANGE);
      prepare(config);
      set(config, at, value);
      return { kind: 'out of range', what: `number ${value} at ${pointerOf(at)}`, text: text(config) };
    },
    (config) => {
      const at = pick(stringPaths(config));
      const length = Math.floor(256 * 1024 + random() * 768 * 1024);
      set(config, at, 'a'.repeat(length));
      return { kind: 'huge string', what: `string of ${length} bytes at ${pointerOf(at)}`, text: text(config) };
    },
    (config) => {
      const at = pick(stringPaths(config));
      const bytes = pick([Buffer.from('"a\xffb"', 'latin1'), Buffer.from('"\xc3"', 'latin1'), Buffer.from('"\xed\xa0\x80"', 'latin1'), Buffer.from('"\xf8\x88\x80\x80\x80"', 'latin1')]);
      return { kind: 'invalid UTF-8', what: `invalid UTF-8 at ${pointerOf(at)}`, text: withBytes(config, at, bytes) };
    },
    (config) => {
      const at = pick(stringPaths(config));
      const value = String(get(config, at));
      const where = Math.floor(random() * (value.length + 1));
      const inserted = pick(['\u0000', '\ud800', '\udc00', '\n']);
      set(config, at, value.slice(0, where) + inserted + value.slice(where));
      return { kind: 'odd character', what: `${JSON.stringify(inserted)} inserted at ${pointerOf(at)}`, text: text(config) };
    },
    (config) => {
      const at = random() < 0.5 ? pick(pathsIn(config)) : ['linux', 'x-extension'];
      const depth = pick([1000, 20_000]);
      const nested = random() < 0.5 ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
      return { kind: 'deep nesting', what: `nesting ${depth} deep at ${pointerOf(at)}`, text: withBytes(config, at, Buffer.from(nested)) };
    },
    (config) => {
      const bytes = text(config);
      const offset = Math.floor(random() * bytes.length);
      const cut = random() < 0.5;
      return {
        kind: 'broken JSON',
        what: cut ? `cut at byte ${offset}` : `raw NUL at byte ${offset}`,
        text: cut ? bytes.subarray(0, offset) : Buffer.concat([bytes.subarray(0, offset), Buffer.from([0]), bytes.subarray(offset)]),
      };
    },
  ];
  const specials: Array<Omit<Case, 'index'>> = [
    { kind: 'not a regular file', what: 'config.json -> /dev/zero', special: (file) => fs.symlinkSync('/dev/zero', file) },
    { kind: 'not a regular file', what: 'config.json -> /dev/urandom', special: (file) => fs.symlinkSync('/dev/urandom', file) },
    { kind: 'not a regular file', what: 'config.json is a FIFO', special: (file) => mkfifo(file) },
    { kind: 'not a regular file', what: 'config.json is a directory', special: (file) => fs.mkdirSync(file) },
    { kind: 'not a regular file', what: 'config.json is a socket', special: (file) => bindSocket(file) },
    { kind: 'not a regular file', what: 'config.json is a dangling symlink', special: (file) => fs.symlinkSync(`${file}.missing`, file) },
    { kind: 'not a regular file', what: 'config.json is a symlink loop', special: (file) => fs.symlinkSync(path.basename(file), file) },
    { kind: 'not a regular file', what: 'config.json is over the limit', special: (file) => fs.writeFileSync(file, Buffer.concat([text(base), Buffer.alloc(MAX_DOCUMENT_BYTES, ' ')])) },
    { kind: 'not a regular file', what: 'config.json is empty', special: (file) => fs.writeFileSync(file, '') },
  ];
  const cases: Case[] = [];
  for (let index = 0; index < CASES; index++) {
    const config = structuredClone(base) as any;
    const made = random() < 0.04 ? pick(specials) : pick(mutations)(config);
    cases.push({ index, ...made });
  }
  return cases;
}

function mkfifo(file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    spawn('mkfifo', [file]).on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`mkfifo ${file}: ${code}`))));
  });
}


/** A unix socket file with no one listening (Node's server would unlink it on close). */
function bindSocket(file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    spawn('python3', ['-c', 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', file]).on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`binding a socket at ${file}: ${code}`)),
    );
  });
}

interface Outcome {
  status: number | null;
  stderr: string;
}

/** Runs the CLI's main here, as bin/ocits does, with what it writes captured. */
async function ocitsHere(argv: string[]): Promise<Outcome> {
  let stderr = '';
  const quiet = jest.spyOn(output, 'writeStdout').mockImplementation(() => {});
  const captured = jest.spyOn(output, 'writeStderr').mockImplementation((text) => {
    stderr += text;
  });
  try {
    return { status: await main(argv), stderr };
  } finally {
    quiet.mockRestore();
    captured.mockRestore();
  }
}

/** Runs ocits with stdout and stderr in files: a created container inherits them. */
function run(args: string[], mark: string, outputDir: string): Promise<Outcome> {
  const stdout = fs.openSync(path.join(outputDir, `${mark}.out`), 'w');
  const stderrFile = path.join(outputDir, `${mark}.err`);
  const stderr = fs.openSync(stderrFile, 'w');
  return new Promise((resolve, reject) => {
    const child = spawn(OCITS, args, { stdio: ['ignore', stdout, stderr], env: { ...process.env, [MARK]: mark } });
    // A case that blocks (a FIFO read) must fail, not stall the run.
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('exit', (status) => {
      clearTimeout(timer);
      fs.closeSync(stdout);
      fs.closeSync(stderr);
      resolve({ status, stderr: fs.readFileSync(stderrFile, 'utf8') });
    });
  });
}

/** Runs job on each item, at most PARALLEL at once. */
async function pool<T>(items: T[], job: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await job(items[next++]);
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
}

/** Every process carries this in its environment, so a leaked one is found in /proc. */
const MARK = 'OCITS_MALFORMED_CONFIG_CASE';

function processesMarked(mark: string): number[] {
  return processesWhere((pid) => procFields(pid, 'environ').includes(`${MARK}=${mark}`));
}

const runtime = new Runtime();
const host = detectCgroupHost();

/** What is left of container id: its state directory, cgroups, marked processes, mounts under our directories. */
function leftovers(id: string, configText: Buffer | undefined, mountsBefore: Set<string>, ours: string[]): string[] {
  const found: string[] = [];
  if (fs.existsSync(path.join(runtime.root, id))) found.push(`state directory of ${id}`);
  let cgroupsPath: string | undefined;
  try {
    const configured = JSON.parse(configText?.toString('utf8') ?? '{}')?.linux?.cgroupsPath;
    if (typeof configured === 'string') cgroupsPath = configured;
  } catch {
    // not JSON: the default path
  }
  const dirs = new Set(fs.readdirSync('/sys/fs/cgroup').map((hierarchy) => path.join('/sys/fs/cgroup', hierarchy, id)));
  for (const candidate of [cgroupsPath, undefined]) {
    try {
      for (const dir of resolveContainerCgroup(host, candidate, id).dirs) dirs.add(dir.dir);
    } catch {
      // a cgroupsPath create refuses: nothing was made there
    }
  }
  for (const dir of dirs) if (fs.existsSync(dir)) found.push(`cgroup ${dir}`);
  for (const pid of processesMarked(id)) found.push(`process ${pid}`);
  for (const line of readOrEmpty('/proc/self/mountinfo').split('\n')) {
    const mountPoint = line.split(' ')[4] ?? '';
    if (!mountsBefore.has(line) && ours.some((dir) => mountPoint === dir || mountPoint.startsWith(`${dir}/`))) found.push(`mount ${line}`);
  }
  return found;
}

/** What is wrong with a command's outcome: not 0 or 1, or not one clean line on failure. */
function outcomeProblems(outcome: Outcome): string[] {
  const problems: string[] = [];
  if (outcome.status !== 0 && outcome.status !== 1) problems.push(`exit status ${outcome.status}`);
  if (outcome.status === 1 && !/^ocits: [^\n]*\n$/.test(outcome.stderr)) problems.push(`stderr is not one line: ${JSON.stringify(outcome.stderr.slice(0, 300))}`);
  if (outcome.status === 0 && outcome.stderr !== '') problems.push(`stderr on success: ${JSON.stringify(outcome.stderr.slice(0, 300))}`);
  if (/internal error|\n\s+at /.test(outcome.stderr)) problems.push(`not handled cleanly: ${JSON.stringify(outcome.stderr.slice(0, 300))}`);
  return problems;
}

afterAll(() => runtime.cleanUp());

describe(`${CASES} malformed configs from seed ${SEED.toString(16)}`, () => {
  const work = tempDir('ocits-malformed-');
  const outputDir = path.join(work, 'output');
  let cases: Case[];
  let rootfs: string;
  /** What validate said of each case, by index. */
  const validated = new Map<number, Outcome>();

  beforeAll(async () => {
    fs.mkdirSync(outputDir);
    // One rootfs for every case, named by an absolute root.path; no mutation makes another absolute path.
    const template = busyboxBundle((config) => (config.process.args = ['true']));
    rootfs = path.join(template, 'rootfs');
    const base = JSON.parse(fs.readFileSync(path.join(template, 'config.json'), 'utf8'));
    base.root.path = rootfs;
    cases = generateCases(base);
    for (const item of cases) {
      const bundle = path.join(work, String(item.index));
      fs.mkdirSync(bundle);
      if (item.text !== undefined) fs.writeFileSync(path.join(bundle, 'config.json'), item.text);
      else await item.special!(path.join(bundle, 'config.json'));
    }
  }, 120_000);

  it('has every kind of mutation among its cases', () => {
    expect(cases).toHaveLength(CASES);
    expect(new Set(cases.map((item) => item.kind))).toEqual(new Set(KINDS));
  });

  it('validate: each case exits 0 or 1 with one clean line', async () => {
    const failures: string[] = [];
    for (const item of cases) {
      const outcome = await ocitsHere(['validate', '--bundle', path.join(work, String(item.index))]);
      validated.set(item.index, outcome);
      for (const problem of outcomeProblems(outcome)) failures.push(`#${item.index} (${item.what}): validate: ${problem}`);
    }
    expect(failures).toEqual([]);
    // Some mutations leave a config that still runs; most do not.
    const accepted = [...validated.values()].filter((outcome) => outcome.status === 0).length;
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThan(CASES / 2);
  }, 300_000);

  it('validate as a program says the same, for a sample', async () => {
    const failures: string[] = [];
    const sample = cases.filter((item) => item.index % PROGRAM_EVERY === 0 || item.kind === 'not a regular file');
    await pool(sample, async (item) => {
      const outcome = await run(['validate', '--bundle', path.join(work, String(item.index))], `v${item.index}`, outputDir);
      if (JSON.stringify(outcome) !== JSON.stringify(validated.get(item.index))) {
        failures.push(`#${item.index} (${item.what}): the program said ${JSON.stringify(outcome)}, main ${JSON.stringify(validated.get(item.index))}`);
      }
    });
    expect(failures).toEqual([]);
  }, 300_000);

  it('create: each accepted case and a sample of the refused end cleanly, and leave nothing behind', async () => {
    const failures: string[] = [];
    const mountsBefore = new Set(readOrEmpty('/proc/self/mountinfo').split('\n'));
    const chosen = cases.filter((item) => validated.get(item.index)?.status === 0 || item.index % REFUSED_CREATE_EVERY === 0);
    await pool(chosen, async (item) => {
      const id = `malformed-${process.pid}-${item.index}`;
      const bundle = path.join(work, String(item.index));
      const outcome = await run(['--root', runtime.root, 'create', '--bundle', bundle, id], id, outputDir);
      for (const problem of outcomeProblems(outcome)) failures.push(`#${item.index} (${item.what}): create: ${problem}`);
      // create may still fail where only the host can tell (a bind source that does not exist), never the reverse.
      if (outcome.status === 0 && validated.get(item.index)?.status !== 0) failures.push(`#${item.index} (${item.what}): create accepted what validate refused`);
      if (outcome.status === 0) {
        const deleted = await run(['--root', runtime.root, 'delete', '--force', id], id, outputDir);
        for (const problem of outcomeProblems(deleted)) failures.push(`#${item.index} (${item.what}): delete: ${problem}`);
      }
      for (const left of leftovers(id, item.text, mountsBefore, [rootfs, bundle, runtime.root])) {
        failures.push(`#${item.index} (${item.what}): left ${left}`);
      }
    });
    expect(failures).toEqual([]);
  }, 600_000);
});
