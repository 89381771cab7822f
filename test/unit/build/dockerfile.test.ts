import { parseDockerfile } from '../../../src/build/dockerfile';

const parse = (text: string) => parseDockerfile(text, 'Dockerfile');

describe('parsing a Dockerfile as BuildKit does', () => {
  test('instructions, case-insensitive keywords, comments and empty lines', () => {
    const file = parse('# a comment\n\nfrom scratch\n  # indented comment\nCOPY a b\n');
    expect(file.instructions.map((i) => [i.keyword, i.args, i.line])).toEqual([
      ['FROM', 'scratch', 3],
      ['COPY', 'a b', 5],
    ]);
  });

  test('line continuations skip comment and empty lines inside them', () => {
    const file = parse('FROM scratch\nRUN echo a \\\n# inside\n\n  && echo b \\\n  && echo c\nCMD x\n');
    const run = file.instructions[1];
    expect(run.args).toBe('echo a   && echo b   && echo c');
    expect([run.line, run.endLine]).toEqual([2, 6]);
    expect(file.instructions[2].line).toBe(7);
  });

  test('the escape directive changes the continuation character', () => {
    const file = parse('# escape=`\nFROM scratch\nCOPY C:\\a `\n  C:\\b\n');
    expect(file.escape).toBe('`');
    expect(file.instructions[1].args).toBe('C:\\a   C:\\b');
  });

  test('directives: only at the top, one each, syntax kept, unknown ones end them', () => {
    expect(parse('# syntax=docker/dockerfile:1\n# escape=\\\nFROM scratch\n').syntax).toBe('docker/dockerfile:1');
    expect(parse('# comment\n# escape=`\nFROM scratch\n').escape).toBe('\\');
    expect(parse('# unknown=1\n# escape=`\nFROM scratch\n').escape).toBe('\\');
    expect(() => parse('# escape=`\n# escape=`\nFROM scratch\n')).toThrow('Dockerfile:2: only one escape parser directive can be used');
    expect(() => parse('# escape=x\nFROM scratch\n')).toThrow(/Dockerfile:1: invalid escape token 'x'/);
  });

  test('JSON and shell forms', () => {
    const file = parse('FROM scratch\nCMD ["a", "b c"]\nENTRYPOINT echo hi\nRUN [not json\nVOLUME ["/a", 1]\n');
    expect(file.instructions[1].json).toEqual(['a', 'b c']);
    expect(file.instructions[2].json).toBeUndefined();
    expect(file.instructions[3].json).toBeUndefined();
    expect(file.instructions[4].json).toBeUndefined();
  });

  test('leading flags, with and without values, quoted values', () => {
    const file = parse('FROM --platform=linux/amd64 scratch AS one\nCOPY --from=one --chown="1:2" --link a b\nRUN --mount=type=cache,target=/c echo --not-a-flag\n');
    expect(file.instructions[0].flags).toEqual([{ name: 'platform', value: 'linux/amd64' }]);
    expect(file.instructions[0].args).toBe('scratch AS one');
    expect(file.instructions[1].flags).toEqual([
      { name: 'from', value: 'one' },
      { name: 'chown', value: '1:2' },
      { name: 'link', value: undefined },
    ]);
    expect(file.instructions[2].flags).toEqual([{ name: 'mount', value: 'type=cache,target=/c' }]);
    expect(file.instructions[2].args).toBe('echo --not-a-flag');
  });

  test('heredocs: plain, quoted (no expansion), <<- strips tabs, several in one instruction', () => {
    const file = parse(
      'FROM scratch\nRUN <<EOF\necho $HOME\n  indented\nEOF\nCOPY <<"A" <<-B /dir/\nraw $X\nA\n\tchomped\n\tB\nCMD done\n',
    );
    const [, run, copy, cmd] = file.instructions;
    expect(run.heredocs).toEqual([{ name: 'EOF', content: 'echo $HOME\n  indented\n', expand: true, chomp: false }]);
    expect([run.line, run.endLine]).toEqual([2, 5]);
    expect(copy.heredocs).toEqual([
      { name: 'A', content: 'raw $X\n', expand: false, chomp: false },
      { name: 'B', content: 'chomped\n', expand: true, chomp: true },
    ]);
    expect(cmd.line).toBe(11);
  });

  test('<< in other instructions and in JSON form is no heredoc', () => {
    const file = parse('FROM scratch\nCMD cat <<EOF\nRUN ["cat", "<<EOF"]\n');
    expect(file.instructions[1].heredocs).toEqual([]);
    expect(file.instructions[2].heredocs).toEqual([]);
  });

  test('errors name the file, the line and the instruction', () => {
    expect(() => parse('FROM scratch\nFROB x\n')).toThrow('Dockerfile:2: unknown instruction: FROB');
    expect(() => parse('FROM scratch\nRUN <<EOF\nno end\n')).toThrow('Dockerfile:2: RUN: unterminated heredoc EOF');
    expect(() => parseDockerfile('FROM scratch\0', 'x/Dockerfile')).toThrow(/NUL/);
  });

  test('CRLF line ends and a byte order mark', () => {
    const file = parse('\uFEFFFROM scratch\r\nRUN a \\\r\n b\r\n');
    expect(file.instructions.map((i) => i.args)).toEqual(['scratch', 'a  b']);
  });
});
