import { expandWord, expandWordTracked, splitWords, variablesOf } from '../../../src/build/shell-words';

const vars = variablesOf({ A: 'alpha', EMPTY: '', PATHV: '/usr/local/bin:/usr/bin', FILE: 'archive.tar.gz' });
const expand = (word: string, escape: '\\' | '`' = '\\') => expandWord(word, vars, escape);

describe('variable expansion by Docker rules', () => {
  test.each([
    ['$A', 'alpha'],
    ['${A}', 'alpha'],
    ['x${A}y', 'xalphay'],
    ['$A-b', 'alpha-b'],
    ['$UNSET', ''],
    ['${UNSET}', ''],
    ['${UNSET:-word}', 'word'],
    ['${EMPTY:-word}', 'word'],
    ['${EMPTY-word}', ''],
    ['${UNSET-word}', 'word'],
    ['${A:-word}', 'alpha'],
    ['${A:+word}', 'word'],
    ['${EMPTY:+word}', ''],
    ['${EMPTY+word}', 'word'],
    ['${UNSET:+word}', ''],
    ['${UNSET:-$A}', 'alpha'],
    ['${UNSET:-${A:+nested}}', 'nested'],
    ['${FILE%.gz}', 'archive.tar'],
    ['${FILE%%.*}', 'archive'],
    ['${FILE#*.}', 'tar.gz'],
    ['${FILE##*.}', 'gz'],
    ['$', '$'],
    ['a$', 'a$'],
    ['$-x', '$-x'],
    ['$1', ''],
  ])('%s -> %s', (word, value) => {
    expect(expand(word)).toBe(value);
  });

  test('quotes: single quotes are literal, double quotes expand', () => {
    expect(expand("'$A'")).toBe('$A');
    expect(expand('"$A"')).toBe('alpha');
    expect(expand('"a b"c')).toBe('a bc');
    expect(expand(`"it's"`)).toBe("it's");
    expect(expand(`'say "hi"'`)).toBe('say "hi"');
  });

  test('escapes: outside quotes any character, inside double quotes only " $ and the escape', () => {
    expect(expand('\\$A')).toBe('$A');
    expect(expand('a\\ b')).toBe('a b');
    expect(expand('"\\$A"')).toBe('$A');
    expect(expand('"\\"q\\""')).toBe('"q"');
    expect(expand('"a\\nb"')).toBe('a\\nb');
    expect(expand('"a\\\\b"')).toBe('a\\b');
    expect(expand('C:\\\\dir')).toBe('C:\\dir');
    expect(expand('trailing\\')).toBe('trailing');
  });

  test('the backtick escape leaves backslashes alone', () => {
    expect(expand('C:\\dir', '`')).toBe('C:\\dir');
    expect(expand('`$A', '`')).toBe('$A');
  });

  test('errors: unterminated quotes and braces, bad modifiers, ${V?msg}', () => {
    expect(() => expand('"abc')).toThrow(/double-quote/);
    expect(() => expand("'abc")).toThrow(/single-quote/);
    expect(() => expand('${A')).toThrow(/missing '}'/);
    expect(() => expand('${A:=x}')).toThrow(/unsupported modifier \(:=\)/);
    expect(() => expand('${}')).toThrow(/bad substitution/);
    expect(() => expand('${UNSET?must be set}')).toThrow(/UNSET: must be set/);
    expect(() => expand('${EMPTY:?}')).toThrow(/EMPTY: is not allowed to be empty/);
    expect(expand('${EMPTY?x}')).toBe('');
  });

  test('tracks the names a word reads, set or not', () => {
    const { value, used } = expandWordTracked('$A ${B:-x} \\$C \'$D\'', vars);
    expect(value).toBe('alpha x $C $D');
    expect([...used].sort()).toEqual(['A', 'B']);
  });
});

describe('splitting words as ENV and LABEL do', () => {
  test('splits at unquoted whitespace and keeps quotes and escapes', () => {
    expect(splitWords('a=1 b="two words"  c=x\\ y')).toEqual(['a=1', 'b="two words"', 'c=x\\ y']);
    expect(splitWords("k='a b' '")).toEqual(["k='a b'", "'"]);
    expect(splitWords('  ')).toEqual([]);
  });
});
