import { parseJson, syntaxErrorOffset } from '../../../src/spec/json';

describe('parseJson', () => {
  it('parses valid JSON', () => {
    expect(parseJson('{"a": [1, true, null, "x"]}', 'doc')).toEqual({ a: [1, true, null, 'x'] });
  });

  it.each([
    ['{]', 'line 1, column 2'],
    ['{\n  "a": 1,\n}', 'line 3, column 1'],
    ['{\n  "a": tru\n}', 'line 2, column 11'],
    ['[1,\n 2', 'line 2, column 3'],
    ['', 'line 1, column 1'],
    ['{"a": 1} x', 'line 1, column 10'],
    ['{"a": "\u0001"}', 'line 1, column 8'],
  ])('locates the mistake in %j at %s', (text, where) => {
    expect(() => parseJson(text, 'config.json')).toThrow(`config.json: invalid JSON at ${where}: `);
  });

  it.each([
    ['{]', 'line 1, column 2: unexpected character "]"'],
    ['[1,\n 2', 'line 2, column 3: unexpected end of input'],
    ['{"a": "\u0001"}', 'line 1, column 8: unexpected character "\\u0001"'],
  ])('says in its own words, whatever the engine, what is wrong in %j', (text, message) => {
    expect(() => parseJson(text, 'config.json')).toThrow(`config.json: invalid JSON at ${message}`);
  });

  it('finds no error in valid text', () => {
    const text = '{"a": {"b": [1.5e3, -0, "\\u00e9\\n"]}}';
    expect(syntaxErrorOffset(text)).toBe(text.length);
  });
});
