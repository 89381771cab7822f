// A Dockerfile read as BuildKit's parser reads it: parser directives
// (syntax, escape, check) at the top, comments, line continuations with
// the escape character (comment and empty lines inside a continuation are
// skipped), heredocs after RUN, COPY and ADD, each instruction's leading
// --flags, and the JSON (exec) form. Variables are expanded later, by the
// builder, since their values depend on the stage.
import { OcitsError } from '../errors';
import type { EscapeChar } from './shell-words';
import { splitWords } from './shell-words';

export const INSTRUCTIONS = [
  'ADD',
  'ARG',
  'CMD',
  'COPY',
  'ENTRYPOINT',
  'ENV',
  'EXPOSE',
  'FROM',
  'HEALTHCHECK',
  'LABEL',
  'MAINTAINER',
  'ONBUILD',
  'RUN',
  'SHELL',
  'STOPSIGNAL',
  'USER',
  'VOLUME',
  'WORKDIR',
] as const;
export type Keyword = (typeof INSTRUCTIONS)[number];

/** Instructions whose arguments may name heredocs. */
const HEREDOC_INSTRUCTIONS: ReadonlySet<string> = new Set(['RUN', 'COPY', 'ADD']);
/** Instructions whose arguments may be a JSON array. */
const JSON_INSTRUCTIONS: ReadonlySet<string> = new Set(['RUN', 'CMD', 'ENTRYPOINT', 'SHELL', 'COPY', 'ADD', 'VOLUME']);

export interface Heredoc {
  /** The delimiter word, e.g. EOF. */
  name: string;
  /** The lines between the instruction and the delimiter, each with its newline. */
  content: string;
  /** False when the delimiter was quoted (<<"EOF"): no variable expansion. */
  expand: boolean;
  /** <<-EOF: leading tabs were removed from the content and the delimiter. */
  chomp: boolean;
}

export interface InstructionFlag {
  name: string;
  /** undefined for a flag without =value (a boolean). */
  value: string | undefined;
}

export interface Instruction {
  keyword: Keyword;
  /** The instruction as written, continuations joined (what history and the cache record). */
  text: string;
  /** What follows the keyword and its flags. */
  args: string;
  flags: InstructionFlag[];
  /** The JSON (exec) form's array, when args is one. */
  json?: string[];
  heredocs: Heredoc[];
  /** 1-based line of the keyword, and of the instruction's last line. */
  line: number;
  endLine: number;
}

export interface Dockerfile {
  /** The name errors use, e.g. Dockerfile. */
  file: string;
  escape: EscapeChar;
  syntax?: string;
  instructions: Instruction[];
}

/** A problem found in a Dockerfile: names the file, the line and the instruction. */
export class DockerfileError extends OcitsError {
  constructor(file: string, line: number, keyword: string | undefined, message: string) {
    super(`${file}:${line}: ${keyword !== undefined ? `${keyword}: ` : ''}${message}`);
  }
}

export function errorAt(file: string, instruction: Pick<Instruction, 'line' | 'keyword'>, message: string): DockerfileError {
  return new DockerfileError(file, instruction.line, instruction.keyword, message);
}

const DIRECTIVE = /^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.*?)[ \t]*$/;
const KNOWN_DIRECTIVES = new Set(['syntax', 'escape', 'check']);
const HEREDOC_WORD = /^<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2$/;

export function parseDockerfile(text: string, file = 'Dockerfile'): Dockerfile {
  if (text.includes('\0')) throw new OcitsError(`${file}: a Dockerfile cannot contain NUL bytes`);
  // A UTF-8 byte order mark is allowed before the first line, as BuildKit allows it.
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const directives = new Map<string, string>();
  let index = 0;
  for (; index < lines.length; index++) {
    const match = DIRECTIVE.exec(lines[index]);
    if (match === null) break;
    const key = match[1].toLowerCase();
    // An unknown directive is a comment, and a comment ends the directives.
    if (!KNOWN_DIRECTIVES.has(key)) break;
    if (directives.has(key)) throw new DockerfileError(file, index + 1, undefined, `only one ${key} parser directive can be used`);
    directives.set(key, match[2]);
  }
  const escapeText = directives.get('escape') ?? '\\';
  if (escapeText !== '\\' && escapeText !== '`') {
    throw new DockerfileError(file, [...directives.keys()].indexOf('escape') + 1, undefined, `invalid escape token '${escapeText}' does not validate: must be \` or \\`);
  }
  const escape = escapeText as EscapeChar;
  const continuation = new RegExp(`${escape === '\\' ? '\\\\' : '`'}[ \\t]*$`);
  const instructions: Instruction[] = [];

  while (index < lines.length) {
    const first = lines[index].replace(/^[ \t]+/, '');
    const startLine = index + 1;
    index++;
    if (first === '' || first.startsWith('#')) continue;
    let logical = first;
    let ended = !continuation.test(logical);
    if (!ended) logical = logical.replace(continuation, '');
    while (!ended && index < lines.length) {
      const raw = lines[index];
      index++;
      const trimmed = raw.replace(/^[ \t]+/, '');
      if (trimmed.startsWith('#')) continue;
      if (trimmed.trim() === '') continue;
      ended = !continuation.test(raw);
      logical += ended ? raw : raw.replace(continuation, '');
    }
    const endLine = index;
    const instruction = parseInstruction(logical, file, startLine, endLine, escape);
    if (HEREDOC_INSTRUCTIONS.has(instruction.keyword) && instruction.json === undefined) {
      for (const word of splitWords(instruction.args, escape)) {
        const match = HEREDOC_WORD.exec(word);
        if (match === null) continue;
        const chomp = match[1] === '-';
        const name = match[3];
        let content = '';
        let closed = false;
        while (index < lines.length) {
          const raw = lines[index];
          index++;
          const line = chomp ? raw.replace(/^\t+/, '') : raw;
          if (line === name) {
            closed = true;
            break;
          }
          content += `${line}\n`;
        }
        if (!closed) throw new DockerfileError(file, startLine, instruction.keyword, `unterminated heredoc ${name}: no line "${name}" ends it`);
        instruction.heredocs.push({ name, content, expand: match[2] === '', chomp });
      }
      instruction.endLine = index;
    }
    instructions.push(instruction);
  }
  return { file, escape, ...(directives.has('syntax') ? { syntax: directives.get('syntax')! } : {}), instructions };
}

function parseInstruction(logical: string, file: string, line: number, endLine: number, escape: EscapeChar): Instruction {
  const match = /^(\S+)(?:[ \t]+(.*))?$/s.exec(logical.trim());
  const word = match![1];
  const keyword = word.toUpperCase();
  if (!(INSTRUCTIONS as readonly string[]).includes(keyword)) throw new DockerfileError(file, line, undefined, `unknown instruction: ${word}`);
  const rest = (match![2] ?? '').trim();
  const { flags, args } = extractFlags(rest, escape);
  const instruction: Instruction = { keyword: keyword as Keyword, text: `${keyword}${rest !== '' ? ` ${rest}` : ''}`, args, flags, heredocs: [], line, endLine };
  if (JSON_INSTRUCTIONS.has(keyword)) {
    const json = parseJsonArray(args);
    if (json !== undefined) instruction.json = json;
  }
  return instruction;
}

/** Leading --name[=value] words; the rest is the instruction's argument text. */
function extractFlags(rest: string, escape: EscapeChar): { flags: InstructionFlag[]; args: string } {
  const flags: InstructionFlag[] = [];
  let remaining = rest;
  for (;;) {
    if (!remaining.startsWith('--')) break;
    const [word] = splitWords(remaining, escape);
    if (word === undefined || word === '--') break;
    const equals = word.indexOf('=');
    const name = equals === -1 ? word.slice(2) : word.slice(2, equals);
    if (!/^[a-z][a-z0-9-]*$/.test(name)) break;
    flags.push({ name, value: equals === -1 ? undefined : unquoteFlagValue(word.slice(equals + 1)) });
    remaining = remaining.slice(word.length).replace(/^[ \t]+/, '');
  }
  return { flags, args: remaining };
}

/** A flag's value may be quoted as a whole ("--chown="1:1""). */
function unquoteFlagValue(value: string): string {
  if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value[value.length - 1] === value[0]) return value.slice(1, -1);
  return value;
}

/** The exec form: a JSON array of strings, or undefined for anything else (the shell form). */
export function parseJsonArray(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string')) return undefined;
  return parsed as string[];
}
