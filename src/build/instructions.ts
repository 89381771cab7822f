// The arguments of each instruction read as BuildKit's instruction parser
// reads them, before expansion: ENV and LABEL pairs (and ENV's legacy
// "ENV name value" form), ARG declarations, EXPOSE ports, HEALTHCHECK
// options, and the flags each instruction accepts. What is read here is
// still raw text; the builder expands it with the stage's variables.
import { OcitsError } from '../errors';
import type { Instruction } from './dockerfile';
import { splitWords, type EscapeChar } from './shell-words';

export interface KeyValue {
  key: string;
  /** The raw value word, quotes and escapes still in it. */
  value: string;
}

/** ENV and LABEL: key=value words, or (ENV and LABEL alike) the legacy "key value..." form. */
export function keyValues(instruction: Instruction, escape: EscapeChar): KeyValue[] {
  const words = splitWords(instruction.args, escape);
  if (words.length === 0) throw new OcitsError(`${instruction.keyword} requires at least one argument`);
  if (!words[0].includes('=')) {
    if (words.length < 2) throw new OcitsError(`${instruction.keyword} must have two arguments`);
    const value = instruction.args.slice(instruction.args.indexOf(words[0]) + words[0].length).trim();
    return [{ key: words[0], value }];
  }
  return words.map((word) => {
    const equals = word.indexOf('=');
    if (equals <= 0) throw new OcitsError(`Syntax error - can't find = in "${word}". Must be of the form: name=value`);
    return { key: word.slice(0, equals), value: word.slice(equals + 1) };
  });
}

export interface ArgDeclaration {
  name: string;
  /** The raw default, when the declaration has one. */
  defaultValue?: string;
}

export function argDeclarations(instruction: Instruction, escape: EscapeChar): ArgDeclaration[] {
  const words = splitWords(instruction.args, escape);
  if (words.length === 0) throw new OcitsError('ARG requires at least one argument');
  return words.map((word) => {
    const equals = word.indexOf('=');
    const name = equals === -1 ? word : word.slice(0, equals);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new OcitsError(`invalid ARG name "${name}"`);
    return equals === -1 ? { name } : { name, defaultValue: word.slice(equals + 1) };
  });
}

/** The flags an instruction may carry; any other is refused, naming it. */
const ACCEPTED_FLAGS: Record<string, readonly string[]> = {
  FROM: ['platform'],
  RUN: ['mount', 'network', 'security'],
  COPY: ['from', 'chown', 'chmod', 'link', 'parents', 'exclude'],
  ADD: ['chown', 'chmod', 'link', 'checksum', 'keep-git-dir', 'exclude'],
  HEALTHCHECK: ['interval', 'timeout', 'start-period', 'start-interval', 'retries'],
};
/** Flags Docker has that ocits does not implement yet: refused by name rather than ignored. */
const UNSUPPORTED_FLAGS: Record<string, readonly string[]> = {
  RUN: ['security'],
  COPY: ['link', 'parents', 'exclude'],
  ADD: ['link', 'keep-git-dir', 'exclude'],
};
/** Flags that may be given more than once. */
const REPEATABLE: ReadonlySet<string> = new Set(['mount', 'exclude']);

/** The flags of an instruction by name (repeatable ones in order), checked against what it accepts. */
export function instructionFlags(instruction: Instruction): Map<string, string[]> {
  const accepted = ACCEPTED_FLAGS[instruction.keyword] ?? [];
  const flags = new Map<string, string[]>();
  for (const { name, value } of instruction.flags) {
    if (!accepted.includes(name)) throw new OcitsError(`unknown flag: --${name}`);
    if ((UNSUPPORTED_FLAGS[instruction.keyword] ?? []).includes(name)) throw new OcitsError(`--${name} is not supported by ocits yet`);
    if (value === undefined || value === '') throw new OcitsError(`--${name} needs a value`);
    const values = flags.get(name) ?? [];
    if (values.length > 0 && !REPEATABLE.has(name)) throw new OcitsError(`--${name} given more than once`);
    values.push(value);
    flags.set(name, values);
  }
  return flags;
}

/** EXPOSE's words: PORT, PORT/PROTO, or a range START-END[/PROTO], as "port/proto" keys. */
export function exposedPorts(words: readonly string[]): string[] {
  const ports: string[] = [];
  for (const word of words) {
    const match = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(word);
    if (match === null) throw new OcitsError(`invalid port "${word}": expected PORT[-END][/tcp|udp|sctp]`);
    const start = Number(match[1]);
    const end = match[2] !== undefined ? Number(match[2]) : start;
    if (start < 1 || end > 65535 || end < start) throw new OcitsError(`invalid port range "${word}"`);
    const protocol = (match[3] ?? 'tcp').toLowerCase();
    for (let port = start; port <= end; port++) ports.push(`${port}/${protocol}`);
  }
  return ports;
}

/** A Go duration ("30s", "1m30s", "500ms") in nanoseconds. */
export function parseDuration(text: string, flag: string): number {
  const units: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  const parts = /^(?:(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h))+$/.test(text) ? text.match(/\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h)/g)! : undefined;
  if (parts === undefined) throw new OcitsError(`--${flag}: invalid duration "${text}"`);
  let total = 0;
  for (const part of parts) {
    const [, number, unit] = /^(\d+(?:\.\d+)?)(.*)$/.exec(part)!;
    total += Number(number) * units[unit];
  }
  return Math.round(total);
}
