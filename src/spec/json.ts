// Reading JSON documents (config.json, process.json, resources) with errors a
// person can act on: the file, the line and the column of the first mistake.
import * as fs from 'node:fs';
import { OcitsError, isErrno } from '../errors';

export function readJsonFile(file: string, label = file): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) throw new OcitsError(`${label}: no such file`);
    if (isErrno(error, 'EISDIR')) throw new OcitsError(`${label}: is a directory, not a JSON file`);
    throw new OcitsError(`${label}: cannot read: ${(error as Error).message}`);
  }
  return parseJson(text, label);
}

export function parseJson(text: string, label: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    // V8's message names a position for some mistakes but not all, so we
    // find the offset ourselves and keep only V8's description.
    const offset = syntaxErrorOffset(text);
    const { line, column } = lineAndColumn(text, offset);
    const reason = (error as Error).message
      .replace(/ in JSON at position \d+.*$/, '')
      .replace(/, ".*" is not valid JSON$/s, '')
      .replace(/[\x00-\x1f]/g, (c) => JSON.stringify(c).slice(1, -1)); // one line, always
    throw new OcitsError(`${label}: invalid JSON at line ${line}, column ${column}: ${reason}`);
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
