import { IgnoreRules } from '../../../src/build/dockerignore';

const rules = (...lines: string[]) => new IgnoreRules(lines);

describe('.dockerignore as Docker matches it', () => {
  test('a plain name excludes itself and what is under it, at the root only', () => {
    const ignore = rules('node_modules', '# comment', '');
    expect(ignore.excludes('node_modules')).toBe(true);
    expect(ignore.excludes('node_modules/a/b.js')).toBe(true);
    expect(ignore.excludes('src/node_modules')).toBe(false);
  });

  test('* and ? stay in one component, ** crosses them', () => {
    const ignore = rules('*.log', 'a?c', '**/tmp', 'docs/**/*.md');
    expect(ignore.excludes('x.log')).toBe(true);
    expect(ignore.excludes('dir/x.log')).toBe(false);
    expect(ignore.excludes('abc')).toBe(true);
    expect(ignore.excludes('abbc')).toBe(false);
    expect(ignore.excludes('tmp')).toBe(true);
    expect(ignore.excludes('a/b/tmp/c')).toBe(true);
    expect(ignore.excludes('docs/x.md')).toBe(true);
    expect(ignore.excludes('docs/a/b/x.md')).toBe(true);
    expect(ignore.excludes('docs/a/b/x.txt')).toBe(false);
  });

  test('! exceptions: the last matching pattern wins', () => {
    const ignore = rules('*.md', '!README.md', 'README-secret.md', 'build', '!build/keep');
    expect(ignore.excludes('CHANGES.md')).toBe(true);
    expect(ignore.excludes('README.md')).toBe(false);
    expect(ignore.excludes('README-secret.md')).toBe(true);
    expect(ignore.excludes('build/out')).toBe(true);
    expect(ignore.excludes('build/keep')).toBe(false);
    expect(ignore.mayIncludeUnder('build')).toBe(true);
    expect(rules('build').mayIncludeUnder('build')).toBe(false);
  });

  test('leading slashes, ./ and trailing slashes are cleaned; character classes and escapes work', () => {
    const ignore = rules('/secret/', './cache', 'file[0-9].txt', 'lit\\*');
    expect(ignore.excludes('secret/key')).toBe(true);
    expect(ignore.excludes('cache')).toBe(true);
    expect(ignore.excludes('file7.txt')).toBe(true);
    expect(ignore.excludes('filex.txt')).toBe(false);
    expect(ignore.excludes('lit*')).toBe(true);
    expect(ignore.excludes('litx')).toBe(false);
  });

  test('a malformed pattern is refused with its text', () => {
    expect(() => rules('bad[')).toThrow('.dockerignore: syntax error in pattern "bad["');
  });
});
