// Runs the cgroup membership layer on a pure cgroup v2 view of the host (a
// private mount namespace with cgroup2 mounted at /sys/fs/cgroup, or the
// cgv2-vm) and prints what it saw as one JSON document.
// Usage: node cgroup-v2-worker.js NAME
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { messageOf } from '../../src/errors';
import { detectCgroupHost } from '../../src/cgroups/host';
import { cgroupPids, createCgroup, removeCgroup } from '../../src/cgroups/membership';
import { cgroupMountSteps } from '../../src/cgroups/mount';
import { resolveContainerCgroup } from '../../src/cgroups/paths';
import { addon } from '../../src/addon';
import { applyDeviceRules } from '../../src/cgroups/devices';
import { joinCgroup } from './cgroups';

async function main(name: string): Promise<Record<string, unknown>> {
  const host = detectCgroupHost();
  const cgroup = resolveContainerCgroup(host, undefined, name);
  createCgroup(cgroup);
  const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
  const exited = new Promise((resolve) => sleeper.once('exit', resolve));
  try {
    const pid = sleeper.pid as number;
    joinCgroup(cgroup, pid);
    const leaf = cgroup.dirs[0].dir;
    const report = {
      host,
      cgroup,
      pid,
      procCgroup: fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8'),
      pids: cgroupPids(cgroup),
      leafControllers: fs.readFileSync(path.join(leaf, 'cgroup.controllers'), 'utf8').trim(),
      steps: cgroupMountSteps(host, cgroup, false),
      namespacedSteps: cgroupMountSteps(host, cgroup, true),
      // The ids of the eBPF device programs on the cgroup after each of two
      // applications: the second replaces the first.
      devicePrograms: [1, 2].map(() => {
        applyDeviceRules(host, cgroup, [{ allow: false, access: 'rwm' }]);
        return addon().deviceProgramIds(leaf);
      }),
      busyError: errorOf(() => removeCgroup(cgroup)),
    };
    sleeper.kill('SIGKILL');
    await exited;
    removeCgroup(cgroup);
    return { ...report, leftBehind: cgroup.dirs.filter((d) => fs.existsSync(d.dir)).map((d) => d.dir) };
  } finally {
    sleeper.kill('SIGKILL');
  }
}

function errorOf(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return messageOf(error);
  }
}

main(process.argv[2]).then(
  (report) => process.stdout.write(JSON.stringify(report)),
  (error: unknown) => {
    process.stdout.write(JSON.stringify({ error: messageOf(error) }));
    process.exitCode = 1;
  },
);
