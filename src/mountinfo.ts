// /proc/PID/mountinfo, read the one way: the cgroup layer finds hierarchies
// in it, create finds the mount that holds a rootfs.

export interface MountEntry {
  root: string;
  mountPoint: string;
  fstype: string;
  superOptions: string[];
}

/** Mountinfo lines: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS". */
export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const fields = line.split(' ');
    const separator = fields.indexOf('-', 6);
    if (separator < 0 || fields.length < separator + 4) continue;
    entries.push({
      root: unescapeOctal(fields[3]),
      mountPoint: unescapeOctal(fields[4]),
      fstype: fields[separator + 1],
      superOptions: fields[separator + 3].split(','),
    });
  }
  return entries;
}

/** True when file is dir or lies below it (both absolute, normalised). */
export function isWithin(file: string, dir: string): boolean {
  return dir === '/' || file === dir || file.startsWith(dir + '/');
}

// The kernel escapes space, tab, newline and backslash in mountinfo as \ooo.
function unescapeOctal(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}
