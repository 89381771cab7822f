// The GVariant text format (docs.gtk.org/glib/gvariant-text-format.html),
// which runc's org.systemd.property.* annotations are written in: the subset
// a unit property needs. Booleans, numbers with or without a type keyword,
// strings, arrays and tuples; "@T value" annotates a type. Untyped integers
// are int32 and untyped decimals double, as GVariant has it. Dictionaries,
// variants and maybes are refused by name rather than guessed.
import type { BusValue } from '../addon';

export interface TypedValue {
  /** The D-Bus signature of one complete type, e.g. "t", "as", "(ss)". */
  signature: string;
  value: BusValue;
}

export class GVariantError extends Error {}

const KEYWORDS: Record<string, string> = {
  boolean: 'b',
  byte: 'y',
  int16: 'n',
  uint16: 'q',
  int32: 'i',
  uint32: 'u',
  int64: 'x',
  uint64: 't',
  double: 'd',
  string: 's',
  objectpath: 'o',
  signature: 'g',
};

const INTEGER_RANGES: Record<string, [bigint, bigint]> = {
  y: [0n, 255n],
  n: [-32768n, 32767n],
  q: [0n, 65535n],
  i: [-2147483648n, 2147483647n],
  u: [0n, 4294967295n],
  x: [-(2n ** 63n), 2n ** 63n - 1n],
  t: [0n, 2n ** 64n - 1n],
};

export function parseGVariant(text: string): TypedValue {
  const parser = new Parser(text);
  const result = parser.value(undefined);
  parser.skipSpace();
  if (!parser.atEnd()) parser.fail('unexpected text after the value');
  return result;
}

class Parser {
  private at = 0;
  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.at >= this.text.length;
  }

  fail(why: string): never {
    throw new GVariantError(`${why} at offset ${this.at}`);
  }

  skipSpace(): void {
    while (!this.atEnd() && /\s/.test(this.text[this.at])) this.at++;
  }

  /** One value; expected is the signature the context demands (an array's element type), if any. */
  value(expected: string | undefined): TypedValue {
    this.skipSpace();
    const c = this.text[this.at];
    if (c === undefined) this.fail('a value is missing');
    if (c === '@') {
      this.at++;
      const signature = this.signatureToken();
      if (expected !== undefined && expected !== signature) this.fail(`@${signature} where ${expected} is expected`);
      return this.value(signature);
    }
    const word = /^[a-z][a-z0-9]*/.exec(this.text.slice(this.at))?.[0];
    if (word !== undefined && word in KEYWORDS) {
      this.at += word.length;
      const signature = KEYWORDS[word];
      if (expected !== undefined && expected !== signature) this.fail(`${word} where ${expected} is expected`);
      return this.value(signature);
    }
    if (word === 'true' || word === 'false') {
      this.at += word.length;
      return this.checked({ signature: 'b', value: word === 'true' }, expected);
    }
    if (c === '{' || c === '<' || word === 'just' || word === 'nothing') {
      this.fail('dictionaries, variants and maybe values are not supported by ocits');
    }
    if (word !== undefined && word !== 'inf' && word !== 'nan') this.fail(`unknown word "${word}"`);
    if (c === "'" || c === '"') return this.checked(this.string(expected), expected);
    if (c === '[') return this.array(expected);
    if (c === '(') return this.tuple(expected);
    return this.number(expected);
  }

  private checked(result: TypedValue, expected: string | undefined): TypedValue {
    if (expected !== undefined && expected !== result.signature) this.fail(`a value of type ${result.signature} where ${expected} is expected`);
    return result;
  }

  private signatureToken(): string {
    const start = this.at;
    const length = completeTypeLength(this.text, start);
    if (length === 0) this.fail('not a type after "@"');
    this.at += length;
    return this.text.slice(start, start + length);
  }

  private string(expected: string | undefined): TypedValue {
    const quote = this.text[this.at++];
    let out = '';
    for (;;) {
      const c = this.text[this.at++];
      if (c === undefined) this.fail('the string has no closing quote');
      if (c === quote) break;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.text[this.at++];
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', a: '\x07', '\\': '\\', "'": "'", '"': '"' };
      if (e in simple) out += simple[e];
      else if (e === 'u' || e === 'U') {
        const digits = this.text.slice(this.at, this.at + (e === 'u' ? 4 : 8));
        if (!/^[0-9a-fA-F]+$/.test(digits) || digits.length !== (e === 'u' ? 4 : 8)) this.fail('a bad \\u escape');
        out += String.fromCodePoint(parseInt(digits, 16));
        this.at += digits.length;
      } else this.fail(`an unknown escape "\\${e ?? ''}"`);
    }
    const signature = expected === 'o' || expected === 'g' ? expected : 's';
    if (out.includes('\0')) this.fail('a NUL byte in a string');
    return { signature, value: out };
  }

  private number(expected: string | undefined): TypedValue {
    const match = /^[-+]?(0x[0-9a-fA-F]+|[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?|inf|nan)/.exec(this.text.slice(this.at));
    if (match === null) this.fail('not a value');
    this.at += match[0].length;
    const literal = match[0];
    const isDecimal = /[.eE]|inf|nan/.test(literal) && !/0x/i.test(literal);
    const signature = expected ?? (isDecimal ? 'd' : 'i');
    if (signature === 'd') return { signature, value: Number(literal.replace(/^\+/, '')) };
    const range = INTEGER_RANGES[signature];
    if (range === undefined || isDecimal) this.fail(`${literal} is not a value of type ${signature}`);
    const negative = literal.startsWith('-');
    const magnitude = BigInt(literal.replace(/^[-+]/, ''));
    const value = negative ? -magnitude : magnitude;
    if (value < range[0] || value > range[1]) this.fail(`${literal} is out of the range of type ${signature}`);
    return { signature, value: signature === 'x' || signature === 't' ? value : Number(value) };
  }

  private array(expected: string | undefined): TypedValue {
    if (expected !== undefined && !expected.startsWith('a')) this.fail(`an array where ${expected} is expected`);
    this.at++; // [
    let element = expected?.slice(1);
    const items: BusValue[] = [];
    this.skipSpace();
    if (this.text[this.at] === ']') {
      this.at++;
      if (element === undefined) this.fail('an empty array needs a type, such as @as []');
      return { signature: `a${element}`, value: items };
    }
    for (;;) {
      const item = this.value(element);
      element ??= item.signature;
      items.push(item.value);
      this.skipSpace();
      const c = this.text[this.at++];
      if (c === ']') break;
      if (c !== ',') this.fail('expected "," or "]" in an array');
    }
    return { signature: `a${element}`, value: items };
  }

  private tuple(expected: string | undefined): TypedValue {
    if (expected !== undefined && !expected.startsWith('(')) this.fail(`a tuple where ${expected} is expected`);
    this.at++; // (
    const members = expected === undefined ? undefined : memberTypes(expected.slice(1, -1));
    const signatures: string[] = [];
    const values: BusValue[] = [];
    this.skipSpace();
    if (this.text[this.at] === ')') this.fail('D-Bus has no empty tuple');
    for (;;) {
      const member = this.value(members?.[values.length]);
      signatures.push(member.signature);
      values.push(member.value);
      this.skipSpace();
      const c = this.text[this.at++];
      if (c === ')') break;
      if (c !== ',') this.fail('expected "," or ")" in a tuple');
    }
    if (members !== undefined && members.length !== values.length) this.fail(`a tuple of ${values.length} where ${expected} is expected`);
    return { signature: `(${signatures.join('')})`, value: values };
  }
}

/** The length of the one complete type at text[start] ("t", "as", "a(ss)"), 0 when there is none. */
function completeTypeLength(text: string, start: number): number {
  const c = text[start];
  if (c === undefined) return 0;
  if ('ybnqiuxtdsog'.includes(c)) return 1;
  if (c === 'a') {
    const inner = completeTypeLength(text, start + 1);
    return inner === 0 ? 0 : inner + 1;
  }
  if (c === '(') {
    let at = start + 1;
    while (text[at] !== ')') {
      const member = completeTypeLength(text, at);
      if (member === 0) return 0;
      at += member;
    }
    return at > start + 1 ? at + 1 - start : 0;
  }
  return 0;
}

function memberTypes(contents: string): string[] {
  const members: string[] = [];
  for (let at = 0; at < contents.length; ) {
    const length = completeTypeLength(contents, at);
    members.push(contents.slice(at, at + length));
    at += length;
  }
  return members;
}
