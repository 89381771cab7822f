// .dockerignore as Docker reads it (moby's patternmatcher): one pattern a
// line, # comments, paths cleaned and taken from the context's root, `*`
// and `?` within a path component, `**` across components, `!` for an
// exception; the last pattern that matches a path decides. A pattern that
// matches a directory excludes what is under it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OcitsError, errnoText, isErrno } from '../errors';
import { escapeRegex } from './shell-words';

interface Pattern {
  exclusion: boolean;
  regex: RegExp;
  text: string;
}

export class IgnoreRules {
  private readonly patterns: Pattern[];

  constructor(lines: readonly string[]) {
    this.patterns = [];
    for (const raw of lines) {
      let line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const exclusion = line.startsWith('!');
      if (exclusion) line = line.slice(1).trim();
      let cleaned = path.posix.normalize(line);
      cleaned = cleaned.replace(/^(\/|\.\/)+/, '').replace(/\/+$/, '');
      if (cleaned === '' || cleaned === '.') continue;
      this.patterns.push({ exclusion, regex: patternRegex(cleaned, raw), text: cleaned });
    }
  }

  /**
   * The rules of a build: DOCKERFILE.dockerignore beside the Dockerfile
   * when there is one (BuildKit's per-Dockerfile file), else the context's
   * .dockerignore, else none.
   */
  static forBuild(context: string, dockerfile: string): IgnoreRules {
    for (const file of [`${dockerfile}.dockerignore`, path.join(context, '.dockerignore')]) {
      try {
        return new IgnoreRules(fs.readFileSync(file, 'utf8').split('\n'));
      } catch (error) {
        if (!isErrno(error, 'ENOENT')) throw new OcitsError(`cannot read ${file}: ${errnoText(error)}`);
      }
    }
    return new IgnoreRules([]);
  }

  get empty(): boolean {
    return this.patterns.length === 0;
  }

  /** Whether a context-relative path ("a/b") is excluded. */
  excludes(relative: string): boolean {
    const components = relative.split('/');
    let excluded = false;
    for (const pattern of this.patterns) {
      if (excluded === !pattern.exclusion) continue;
      let match = pattern.regex.test(relative);
      // A pattern matching any parent directory matches what is under it.
      for (let length = 1; !match && length < components.length; length++) match = pattern.regex.test(components.slice(0, length).join('/'));
      if (match) excluded = !pattern.exclusion;
    }
    return excluded;
  }

  /**
   * Whether an excluded directory must still be walked, because an
   * exception might bring back something under it.
   */
  mayIncludeUnder(relative: string): boolean {
    return this.patterns.some((pattern) => pattern.exclusion && (pattern.text.startsWith(`${relative}/`) || pattern.text.startsWith('**') || !pattern.text.includes('/')));
  }
}

function patternRegex(pattern: string, raw: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        // "**/" also matches no directory at all.
        if (pattern[i + 1] === '/') {
          i++;
          source += '(?:.*/)?';
        } else {
          source += '.*';
        }
      } else {
        source += '[^/]*';
      }
    } else if (ch === '?') {
      source += '[^/]';
    } else if (ch === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end === -1) throw new OcitsError(`.dockerignore: syntax error in pattern "${raw.trim()}"`);
      let body = pattern.slice(i + 1, end);
      if (body.startsWith('^') || body.startsWith('!')) body = `^${body.slice(1)}`;
      source += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (ch === '\\' && i + 1 < pattern.length) {
      source += escapeRegex(pattern[++i]);
    } else {
      source += escapeRegex(ch);
    }
  }
  return new RegExp(`^${source}$`, 's');
}
