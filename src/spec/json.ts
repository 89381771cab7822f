// Reading JSON documents (config.json, process.json, resources) with errors a
// person can act on: the file, the line and the column of the first mistake.
import * as fs from 'node:fs';
import { OcitsError, errnoText, isErrno } from '../errors';

/**
 * The most a JSON document ocits reads from a user may hold (config.json,
 * exec --process, update --resources). Real configs are kilobytes; with
 * Kubernetes' 256 KiB of annotations and a large seccomp profile they stay
 * far below this.
 */
export const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

export function readJsonFile(file: string, label = file): unknown {
  return parseJson(readDocument(file, label), label);
}

/**
 * The text of a document a user names: a regular file (a symlink to one is
 * followed, as runc does) of at most MAX_DOCUMENT_BYTES, in UTF-8. Anything
 * else is refused before a byte is read: a device such as /dev/zero would be
 * read without end, and a FIFO would block the open.
 */
export function readDocument(file: string, label = file): string {
  let fd: number;
  try {
    // Not even opened when it is no regular file: opening a device can act (a tape rewinds).
    checkRegularFile(fs.statSync(file), label);
    // O_NONBLOCK: a FIFO swapped in since cannot block the open; fstat then refuses it.
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
  } catch (error) {
    if (error instanceof OcitsError) throw error;
    if (isErrno(error, 'ENOENT')) throw new OcitsError(`${label}: no such file`);
    throw new OcitsError(`${label}: cannot open: ${errnoText(error)}`);
  }
  try {
    checkRegularFile(fs.fstatSync(fd), label);
    return decodeUtf8(readAtMost(fd, label), label);
  } finally {
    fs.closeSync(fd);
  }
}

function checkRegularFile(stat: fs.Stats, label: string): void {
  if (stat.isDirectory()) throw new OcitsError(`${label}: is a directory, not a JSON file`);
  if (!stat.isFile()) throw new OcitsError(`${label}: is a ${fileKind(stat)}, not a regular file`);
  if (stat.size > MAX_DOCUMENT_BYTES) throw tooLarge(label);
}

/** A document on a stream (update --resources -), with the same limit. */
export function readDocumentFrom(fd: number, label: string): string {
  return decodeUtf8(readAtMost(fd, label), label);
}

// Reads to the end, but never more than the limit: a file may grow after fstat.
function readAtMost(fd: number, label: string): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.allocUnsafe(64 * 1024);
    let count: number;
    try {
      count = fs.readSync(fd, chunk, 0, chunk.length, null);
    } catch (error) {
      throw new OcitsError(`${label}: cannot read: ${errnoText(error)}`);
    }
    if (count === 0) break;
    total += count;
    if (total > MAX_DOCUMENT_BYTES) throw tooLarge(label);
    chunks.push(chunk.subarray(0, count));
  }
  return Buffer.concat(chunks, total);
}

function tooLarge(label: string): OcitsError {
  return new OcitsError(`${label}: larger than ${MAX_DOCUMENT_BYTES / (1024 * 1024)} MiB, the most ocits reads`);
}

function decodeUtf8(bytes: Buffer, label: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // Decoding with replacement characters would change the paths it holds.
    throw new OcitsError(`${label}: is not valid UTF-8 (at byte ${firstInvalidUtf8(bytes)})`);
  }
}

function firstInvalidUtf8(bytes: Buffer): number {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let at = 0;
  while (at < bytes.length) {
    const lead = bytes[at];
    const length = lead < 0x80 ? 1 : lead >> 5 === 0b110 ? 2 : lead >> 4 === 0b1110 ? 3 : lead >> 3 === 0b11110 ? 4 : 0;
    try {
      if (length === 0) return at;
      decoder.decode(bytes.subarray(at, at + length));
    } catch {
      return at;
    }
    at += length;
  }
  return at;
}

function fileKind(stat: fs.Stats): string {
  if (stat.isFIFO()) return 'FIFO';
  if (stat.isCharacterDevice()) return 'character device';
  if (stat.isBlockDevice()) return 'block device';
  if (stat.isSocket()) return 'socket';
  return 'special file';
}

export function parseJson(text: string, label: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // The engine's message names a position for some mistakes but not all,
    // and its words differ between engines (V8 under the tests, Bun in
    // dist/ocits): we find the offset ourselves and say what is there.
    const offset = syntaxErrorOffsetOrEnd(text);
    const { line, column } = lineAndColumn(text, offset);
    throw new OcitsError(`${label}: invalid JSON at line ${line}, column ${column}: ${unexpected(text, offset)}`);
  }
}

function unexpected(text: string, offset: number): string {
  if (offset >= text.length) return 'unexpected end of input';
  const character = String.fromCodePoint(text.codePointAt(offset)!);
  // JSON.stringify escapes control characters: the message stays one line.
  return `unexpected character ${JSON.stringify(character)}`;
}

// The offset finder recurses once per nesting level; a document nested
// deeper than the stack allows is reported at its end.
function syntaxErrorOffsetOrEnd(text: string): number {
  try {
    return syntaxErrorOffset(text);
  } catch (error) {
    if (error instanceof RangeError) return text.length;
    throw error;
  }
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  return { line, column };
}

/** The offset of the first character where text stops being valid JSON. */
export function syntaxErrorOffset(text: string): number {
  let at = 0;
  const fail = (): never => {
    throw at;
  };
  const skipSpace = () => {
    while (at < text.length && ' \t\n\r'.includes(text[at])) at++;
  };
  const expect = (literal: string) => {
    for (const char of literal) {
      if (text[at] !== char) fail();
      at++;
    }
  };
  const string = () => {
    expect('"');
    while (at < text.length && text[at] !== '"') {
      if (text.charCodeAt(at) < 0x20) fail();
      if (text[at] === '\\') {
        at++;
        if (text[at] === 'u') {
          at++;
          for (let i = 0; i < 4; i++, at++) if (!/[0-9a-fA-F]/.test(text[at] ?? '')) fail();
          continue;
        }
        if (!'"\\/bfnrt'.includes(text[at] ?? 'x')) fail();
      }
      at++;
    }
    expect('"');
  };
  const number = () => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(at));
    if (match === null) fail();
    at += match![0].length;
  };
  const value = (): void => {
    skipSpace();
    const char = text[at];
    if (char === '{') {
      at++;
      skipSpace();
      if (text[at] === '}') {
        at++;
        return;
      }
      for (;;) {
        skipSpace();
        string();
        skipSpace();
        expect(':');
        value();
        skipSpace();
        if (text[at] === ',') at++;
        else return expect('}');
      }
    }
    if (char === '[') {
      at++;
      skipSpace();
      if (text[at] === ']') {
        at++;
        return;
      }
      for (;;) {
        value();
        skipSpace();
        if (text[at] === ',') at++;
        else return expect(']');
      }
    }
    if (char === '"') return string();
    if (char === 't') return expect('true');
    if (char === 'f') return expect('false');
    if (char === 'n') return expect('null');
    number();
  };
  try {
    value();
    skipSpace();
    if (at < text.length) fail();
  } catch (offset) {
    if (typeof offset === 'number') return Math.min(offset, text.length);
    throw offset;
  }
  return text.length;
}
