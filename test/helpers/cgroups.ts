// Test cgroups that are removed after the test file, even when a test failed
// half-way: every process still in them is killed first.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CgroupWriteError, writeCgroupFile } from '../../src/cgroups/files';
import type { ContainerCgroup } from '../../src/cgroups/paths';
import { sleepSync } from '../../src/sleep';

let counter = 0;

/** A cgroup name no other test run uses. */
export function testCgroupName(): string {
  return `ocits-test-${process.pid}-${counter++}`;
}

/** Sleeps without giving up the thread (cleanup runs synchronously). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function procsBelow(dir: string): number[] {
  const pids: number[] = [];
  let entries: fs.Dirent[];
  try {
    const procs = fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8');
    pids.push(...procs.split('\n').filter(Boolean).map(Number));
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return pids;
  }
  for (const entry of entries) if (entry.isDirectory()) pids.push(...procsBelow(path.join(dir, entry.name)));
  return pids;
}

function rmdirTree(dir: string): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) if (entry.isDirectory()) rmdirTree(path.join(dir, entry.name));
  try {
    fs.rmdirSync(dir);
  } catch {
    // reported by the caller's existence check
  }
}

/**
 * Kills every process in these cgroup directories and removes them with
 * everything below them, deepest first. Returns the directories that could
 * not be removed.
 */
export function removeTestCgroups(dirs: Iterable<string>): string[] {
  const sorted = [...new Set(dirs)].sort((a, b) => b.split('/').length - a.split('/').length);
  for (const dir of sorted) {
    for (let round = 0; round < 100; round++) {
      const pids = procsBelow(dir);
      if (pids.length === 0) break;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      pause(20);
    }
    rmdirTree(dir);
  }
  return sorted.filter((dir) => fs.existsSync(dir));
}

/**
 * Runs a shell script that first waits for a line on stdin, moves it into a
 * cgroup with join(pid) before sending that line, and resolves with its
 * stdout. So the script's every command runs inside the cgroup.
 */
export async function runJoined(script: string, join: (pid: number) => void): Promise<string> {
  const child = spawn('sh', ['-c', `read go; ${script}`], { stdio: ['pipe', 'pipe', 'ignore'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  try {
    join(child.pid as number);
  } finally {
    child.stdin.end('\n');
  }
  await exited;
  return output;
}

/**
 * Moves pid into the container's cgroup in every hierarchy, as a process
 * that is not the container's init would join it (ocits itself never moves
 * a process: the init starts in its cgroup).
 */
export function joinCgroup(cgroup: ContainerCgroup, pid: number): void {
  for (const entry of cgroup.dirs) {
    // EINVAL can mean the task is still being born (TASK_NEW): retry briefly, as runc does.
    for (let attempt = 0; ; attempt++) {
      try {
        writeCgroupFile(entry.dir, 'cgroup.procs', String(pid), `move pid ${pid} into cgroup ${entry.relative}`);
        break;
      } catch (error) {
        if (!(error instanceof CgroupWriteError && error.code === 'EINVAL') || attempt === 4) throw error;
        sleepSync(30);
      }
    }
  }
}
