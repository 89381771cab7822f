// Docker's word rules for Dockerfile arguments (BuildKit's shell lexer):
// quotes, the escape character, and variable expansion with $V, ${V},
// ${V:-word}, ${V-word}, ${V:+word}, ${V+word}, ${V:?msg}, ${V?msg},
// ${V#pat}, ${V##pat}, ${V%pat}, ${V%%pat}. It is not a shell: no command
// substitution, no arithmetic, no globbing; only these.
import { OcitsError } from '../errors';

export type EscapeChar = '\\' | '`';

/** Variables visible to an expansion: a name's value, or undefined when unset. */
export type Variables = (name: string) => string | undefined;

export function variablesOf(map: ReadonlyMap<string, string> | Record<string, string>): Variables {
  if (map instanceof Map) return (name) => map.get(name);
  const record = map as Record<string, string>;
  return (name) => (Object.prototype.hasOwnProperty.call(record, name) ? record[name] : undefined);
}

export interface ExpandResult {
  value: string;
  /** The names the word read, set or not (the build cache keys on the ARGs a step uses). */
  used: Set<string>;
}

/** One word: quotes removed, escapes applied, variables expanded. */
export function expandWord(word: string, vars: Variables, escape: EscapeChar = '\\'): string {
  return new Lexer(word, vars, escape).word();
}

/**
 * A heredoc's content (COPY <<EOF): variables expand, but quotes are plain
 * characters and the escape character only escapes $ and itself, as in a
 * shell's here-document.
 */
export function expandHeredoc(text: string, vars: Variables, escape: EscapeChar = '\\'): string {
  return new Lexer(text, vars, escape, true).word();
}

/** Like expandWord, and reports which variables the word read. */
export function expandWordTracked(word: string, vars: Variables, escape: EscapeChar = '\\'): ExpandResult {
  const used = new Set<string>();
  const tracking: Variables = (name) => {
    used.add(name);
    return vars(name);
  };
  return { value: new Lexer(word, tracking, escape).word(), used };
}

/**
 * Splits text into words at unquoted whitespace, keeping quotes and escapes
 * in each word (BuildKit's parseWords, used by ENV, LABEL and ARG before
 * their words are expanded one by one).
 */
export function splitWords(text: string, escape: EscapeChar = '\\'): string[] {
  const words: string[] = [];
  let word = '';
  let quote: string | undefined;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote === undefined && /\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (ch === escape && i + 1 < text.length && quote !== "'") {
      word += ch + text[i + 1];
      i++;
      continue;
    }
    if (quote === undefined && (ch === '"' || ch === "'")) quote = ch;
    else if (ch === quote) quote = undefined;
    word += ch;
  }
  if (inWord) words.push(word);
  return words;
}

class Lexer {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly vars: Variables,
    private readonly escape: EscapeChar,
    /** Here-document rules: no quotes, escapes only before $ and the escape character. */
    private readonly heredoc = false,
  ) {}

  word(): string {
    return this.until(undefined);
  }

  private peek(offset = 0): string | undefined {
    return this.text[this.pos + offset];
  }

  /** Reads up to (not including) stop at the top level, or to the end. */
  private until(stop: string | undefined): string {
    let out = '';
    while (this.pos < this.text.length) {
      const ch = this.text[this.pos];
      if (stop !== undefined && ch === stop) return out;
      if (this.heredoc && (ch === "'" || ch === '"' || (ch === this.escape && this.peek(1) !== '$' && this.peek(1) !== this.escape))) {
        out += ch;
        this.pos++;
      } else if (ch === "'") {
        out += this.singleQuoted();
      } else if (ch === '"') {
        out += this.doubleQuoted();
      } else if (ch === '$') {
        out += this.dollar();
      } else if (ch === this.escape) {
        this.pos++;
        // A trailing escape character stands for nothing.
        if (this.pos < this.text.length) out += this.text[this.pos++];
      } else {
        out += ch;
        this.pos++;
      }
    }
    if (stop !== undefined) throw new OcitsError(`missing '}' in "${this.text}"`);
    return out;
  }

  private singleQuoted(): string {
    const end = this.text.indexOf("'", this.pos + 1);
    if (end === -1) throw new OcitsError(`unexpected end of statement while looking for matching single-quote in "${this.text}"`);
    const value = this.text.slice(this.pos + 1, end);
    this.pos = end + 1;
    return value;
  }

  private doubleQuoted(): string {
    this.pos++;
    let out = '';
    while (this.pos < this.text.length) {
      const ch = this.text[this.pos];
      if (ch === '"') {
        this.pos++;
        return out;
      }
      if (ch === '$') {
        out += this.dollar();
      } else if (ch === this.escape) {
        const next = this.text[this.pos + 1];
        // Inside double quotes the escape only escapes ", $ and itself.
        if (next === '"' || next === '$' || next === this.escape) {
          out += next;
          this.pos += 2;
        } else {
          out += ch;
          this.pos++;
        }
      } else {
        out += ch;
        this.pos++;
      }
    }
    throw new OcitsError(`unexpected end of statement while looking for matching double-quote in "${this.text}"`);
  }

  private dollar(): string {
    this.pos++;
    const next = this.peek();
    if (next === '{') {
      this.pos++;
      return this.braced();
    }
    const name = this.name();
    if (name === '') return '$';
    return this.vars(name) ?? '';
  }

  private name(): string {
    const first = this.peek();
    if (first === undefined) return '';
    // $1 ... $9: positional parameters, which a Dockerfile never has; one digit is the name.
    if (/[0-9]/.test(first)) {
      this.pos++;
      return first;
    }
    const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.pos));
    if (match === null) return '';
    this.pos += match[0].length;
    return match[0];
  }

  private braced(): string {
    const name = this.name();
    if (name === '') throw new OcitsError(`bad substitution: no variable name after "\${" in "${this.text}"`);
    const next = this.peek();
    if (next === '}') {
      this.pos++;
      return this.vars(name) ?? '';
    }
    if (next === undefined) throw new OcitsError(`missing '}' in "${this.text}"`);
    let modifier = next;
    this.pos++;
    if (modifier === ':') {
      const op = this.peek();
      if (op !== '-' && op !== '+' && op !== '?') throw new OcitsError(`unsupported modifier (:${op ?? ''}) in substitution "${this.text}"`);
      modifier += op;
      this.pos++;
    } else if ((modifier === '#' || modifier === '%') && this.peek() === modifier) {
      modifier += modifier;
      this.pos++;
    }
    if (!['-', '+', '?', ':-', ':+', ':?', '#', '##', '%', '%%'].includes(modifier)) {
      throw new OcitsError(`unsupported modifier (${modifier}) in substitution "${this.text}"`);
    }
    const word = this.until('}');
    this.pos++;
    const value = this.vars(name);
    const set = value !== undefined;
    const nonEmpty = set && value !== '';
    switch (modifier) {
      case '-':
        return set ? value! : word;
      case ':-':
        return nonEmpty ? value! : word;
      case '+':
        return set ? word : '';
      case ':+':
        return nonEmpty ? word : '';
      case '?':
        if (!set) throw new OcitsError(`${name}: ${word === '' ? 'is not allowed to be unset' : word}`);
        return value!;
      case ':?':
        if (!nonEmpty) throw new OcitsError(`${name}: ${word === '' ? 'is not allowed to be empty' : word}`);
        return value!;
      default:
        return trimPattern(value ?? '', word, modifier);
    }
  }
}

/** ${V#pat} and friends: remove the shortest or longest match of a glob at the start or end. */
function trimPattern(value: string, pattern: string, modifier: string): string {
  const regex = globToRegex(pattern);
  const fromStart = modifier[0] === '#';
  const longest = modifier.length === 2;
  const lengths = [...Array(value.length + 1).keys()];
  if (longest) lengths.reverse();
  for (const length of lengths) {
    const part = fromStart ? value.slice(0, length) : value.slice(value.length - length);
    if (regex.test(part)) return fromStart ? value.slice(length) : value.slice(0, value.length - length);
  }
  return value;
}

export function globToRegex(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else if (ch === '\\' && i + 1 < pattern.length) source += escapeRegex(pattern[++i]);
    else source += escapeRegex(ch);
  }
  return new RegExp(`^${source}$`, 's');
}

/** A character as itself in a regular expression. */
export function escapeRegex(ch: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(ch) ? `\\${ch}` : ch;
}
