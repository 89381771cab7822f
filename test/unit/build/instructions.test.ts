import { parseDockerfile } from '../../../src/build/dockerfile';
import { argDeclarations, exposedPorts, instructionFlags, keyValues, parseDuration } from '../../../src/build/instructions';

const one = (line: string) => parseDockerfile(`FROM scratch\n${line}\n`).instructions[1];

describe('instruction arguments', () => {
  test('ENV and LABEL pairs keep their raw words; the legacy form takes the rest of the line', () => {
    expect(keyValues(one('ENV A=1 B="two words" C=x\\ y'), '\\')).toEqual([
      { key: 'A', value: '1' },
      { key: 'B', value: '"two words"' },
      { key: 'C', value: 'x\\ y' },
    ]);
    expect(keyValues(one('ENV NAME  the rest  of it'), '\\')).toEqual([{ key: 'NAME', value: 'the rest  of it' }]);
    expect(() => keyValues(one('ENV A=1 B'), '\\')).toThrow(/can't find = in "B"/);
    expect(() => keyValues(one('ENV ONLY'), '\\')).toThrow('ENV must have two arguments');
    expect(() => keyValues(one('LABEL =x'), '\\')).toThrow(/can't find =/);
  });

  test('ARG declarations with and without defaults', () => {
    expect(argDeclarations(one('ARG A B=2 C="x y"'), '\\')).toEqual([{ name: 'A' }, { name: 'B', defaultValue: '2' }, { name: 'C', defaultValue: '"x y"' }]);
    expect(() => argDeclarations(one('ARG 1BAD'), '\\')).toThrow('invalid ARG name "1BAD"');
  });

  test('flags: accepted, repeatable, unknown and not yet supported ones', () => {
    const flags = instructionFlags(one('RUN --mount=type=tmpfs,target=/a --mount=type=cache,target=/b true'));
    expect(flags.get('mount')).toEqual(['type=tmpfs,target=/a', 'type=cache,target=/b']);
    expect(() => instructionFlags(one('COPY --frm=x a b'))).toThrow('unknown flag: --frm');
    expect(() => instructionFlags(one('COPY --link a b'))).toThrow('--link is not supported by ocits yet');
    expect(() => instructionFlags(one('COPY --from=a --from=b a b'))).toThrow('--from given more than once');
    expect(() => instructionFlags(one('ENV --x=1 A=1'))).toThrow('unknown flag: --x');
  });

  test('EXPOSE ports, protocols and ranges', () => {
    expect(exposedPorts(['80', '53/UDP', '8000-8002/tcp'])).toEqual(['80/tcp', '53/udp', '8000/tcp', '8001/tcp', '8002/tcp']);
    expect(() => exposedPorts(['http'])).toThrow('invalid port "http"');
    expect(() => exposedPorts(['9-1'])).toThrow('invalid port range "9-1"');
  });

  test('durations as Go writes them', () => {
    expect(parseDuration('30s', 'interval')).toBe(30e9);
    expect(parseDuration('1m30s', 'interval')).toBe(90e9);
    expect(parseDuration('250ms', 'timeout')).toBe(250e6);
    expect(() => parseDuration('10', 'timeout')).toThrow('--timeout: invalid duration "10"');
  });
});
