// A problem found in a document, located by a JSON pointer (RFC 6901) so the
// user can find the exact field, e.g. /linux/namespaces/2/type.
import { oneLine } from '../errors';

export interface Problem {
  pointer: string;
  message: string;
  severity: 'error' | 'warning';
  /** The value at pointer has the wrong type, so nothing beneath it can be read. */
  breaksShape?: boolean;
}

/** Joins path segments into a JSON pointer, escaping "~" and "/" as RFC 6901 says. */
export function pointer(...segments: (string | number)[]): string {
  return segments.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

export function formatProblem(problem: Problem): string {
  // A key may hold any character; the line must stay one line.
  const where = problem.pointer === '' ? '/' : oneLine(problem.pointer);
  const prefix = problem.severity === 'warning' ? 'warning: ' : '';
  return `${where}: ${prefix}${problem.message}`;
}

export function hasErrors(problems: readonly Problem[]): boolean {
  return problems.some((p) => p.severity === 'error');
}
