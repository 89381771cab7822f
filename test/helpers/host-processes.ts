// Host processes found through /proc, for tests that check that nothing of
// theirs is left running.
import * as fs from 'node:fs';

/** A file's text, or '' when it cannot be read (a process that exited meanwhile, a file that is gone). */
export function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The pids of the host's processes for which matches holds. */
export function processesWhere(matches: (pid: number) => boolean): number[] {
  return fs
    .readdirSync('/proc')
    .filter((name) => /^[0-9]+$/.test(name))
    .map(Number)
    .filter(matches);
}

/** The NUL-separated fields of /proc/PID/FILE (cmdline, environ); none once the process is gone. */
export function procFields(pid: number, file: 'cmdline' | 'environ'): string[] {
  return readOrEmpty(`/proc/${pid}/${file}`).split('\0');
}
