// `kill`'s signal argument is read as runc reads it.
import { parseSignal } from '../../../src/lifecycle/signals';

describe('parseSignal', () => {
  it.each([
    ['9', 9],
    ['15', 15],
    ['64', 64],
    ['+9', 9], // runc's strconv.Atoi takes a sign and leading zeros
    ['09', 9],
  ])('takes the number %s', (text, signal) => {
    expect(parseSignal(text)).toBe(signal);
  });

  it.each([
    ['KILL', 9],
    ['SIGKILL', 9],
    ['kill', 9],
    ['sigterm', 15],
    ['SigCont', 18],
    ['SIGSTKFLT', 16],
    ['IO', 29],
    ['SIGPWR', 30],
    ['SYS', 31],
  ])('takes the name %s, in any case, with or without SIG', (text, signal) => {
    expect(parseSignal(text)).toBe(signal);
  });

  it.each(['FOO', 'foo', 'SIG', '', ' 9', '9 ', '9x', '0x9', '1e1', 'SIGRTMIN', 'RTMIN+1', 'SIGRTMAX-1', '__proto__'])(
    'refuses %j as runc does',
    (text) => {
      expect(() => parseSignal(text)).toThrow(`unknown signal ${JSON.stringify(text)}`);
    },
  );

  it.each(['65', '-1', '99999999999999999999'])('refuses the number %s, outside 0 to 64', (text) => {
    expect(() => parseSignal(text)).toThrow(`invalid signal "${text}": signal numbers run from 0 to 64`);
  });

  it('accepts 0, which only checks the container is alive, as runc does', () => {
    expect(parseSignal('0')).toBe(0);
  });
});
