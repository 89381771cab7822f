// Applies linux.resources to the container's cgroup: the writes that
// resources-v1.ts or resources-v2.ts chose, to the directory of the right
// hierarchy. A resource this host cannot apply (no such controller, no such
// file, a value the kernel refuses) is an error naming the config field.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OcitsError, errnoText, quoted } from '../errors';
import { tracer } from '../log';
import type { LinuxResources } from '../spec/types';
import { CgroupWriteError, readCgroupFile, writeCgroupFile } from './files';
import type { CgroupDir, ContainerCgroup } from './paths';
import type { CgroupWrite } from './resource-values';
import { type V1Current, v1ResourceWrites } from './resources-v1';
import { v2ResourceWrites } from './resources-v2';

const trace = tracer('cgroups');

/** Where the container's resources live: its v2 directory on a unified host, else the v1 ones. */
export function usesV2(cgroup: ContainerCgroup): boolean {
  return cgroup.mode === 'unified';
}

/**
 * Sets every resource in `resources` (devices excepted: they have their own
 * modules). Everything is computed and checked before the first write.
 */
export function applyResources(cgroup: ContainerCgroup, resources: LinuxResources): void {
  const { devices: _devices, ...rest } = resources;
  const v2 = usesV2(cgroup);
  const writes = v2 ? v2ResourceWrites(rest) : v1ResourceWrites(rest, currentV1(cgroup, rest));
  const targets = writes.map((write) => ({ write, dir: v2 ? v2Target(cgroup, write) : v1Target(cgroup, write) }));
  if (resources.memory?.checkBeforeUpdate === true) checkMemoryUsage(cgroup, resources.memory.limit);
  for (const { write, dir } of targets) apply(dir, write);
  trace('applied %d resource writes', writes.length);
}

function v1Target(cgroup: ContainerCgroup, write: CgroupWrite): CgroupDir {
  const entry = cgroup.dirs.find((d) => d.fstype === 'cgroup' && d.controllers.includes(write.controller));
  if (entry === undefined) throw new OcitsError(`${write.pointer}: this host has no v1 ${write.controller} cgroup mounted`);
  return entry;
}

function v2Target(cgroup: ContainerCgroup, write: CgroupWrite): CgroupDir {
  const entry = cgroup.dirs.find((d) => d.fstype === 'cgroup2');
  if (entry === undefined) throw new OcitsError(`${write.pointer}: the container has no cgroup v2 directory`);
  if (write.controller !== 'cgroup') {
    const available = (readCgroupFile(entry.dir, 'cgroup.controllers') ?? '').split(/\s+/);
    if (!available.includes(write.controller)) {
      throw new OcitsError(`${write.pointer}: the ${write.controller} controller is not available in cgroup ${quoted(entry.relative)}`);
    }
  }
  return entry;
}

function apply(entry: CgroupDir, write: CgroupWrite): void {
  try {
    writeCgroupFile(entry.dir, write.file, write.value, `set ${write.file}`);
  } catch (error) {
    if (error instanceof CgroupWriteError && error.code === 'EBUSY' && write.file === 'memory.limit_in_bytes') {
      // v1 refuses a limit below what the cgroup uses and cannot reclaim; say so as runc does.
      const usage = (readCgroupFile(entry.dir, 'memory.usage_in_bytes') ?? '').trim();
      const peak = (readCgroupFile(entry.dir, 'memory.max_usage_in_bytes') ?? '').trim();
      throw new OcitsError(`${write.pointer}: unable to set memory limit to ${write.value} (current usage: ${usage}, peak usage: ${peak})`);
    }
    if (error instanceof CgroupWriteError && error.code === 'ENOENT') {
      throw new OcitsError(`${write.pointer}: this host's ${write.controller} controller has no ${write.file} (in ${quoted(entry.dir)})`);
    }
    const reason = error instanceof CgroupWriteError ? error.message.replace(/^cannot set \S+: /, '') : errnoText(error);
    throw new OcitsError(`${write.pointer}: ${reason}`);
  }
  if (write.readBack === true) {
    const stored = (readCgroupFile(entry.dir, write.file) ?? '').trim();
    if (stored !== write.value) {
      throw new OcitsError(`${write.pointer}: the kernel set ${write.file} to ${stored} instead of ${write.value} (out of its range)`);
    }
  }
}

function currentV1(cgroup: ContainerCgroup, resources: LinuxResources): V1Current {
  const current: V1Current = { memoryLimit: currentV1MemoryLimit(cgroup) };
  const blkio = cgroup.dirs.find((d) => d.fstype === 'cgroup' && d.controllers.includes('blkio'));
  const weights = resources.blockIO?.weight !== undefined || resources.blockIO?.weightDevice !== undefined;
  if (weights && blkio !== undefined) {
    current.blkioBfqWeights = !fs.existsSync(path.join(blkio.dir, 'blkio.weight')) && fs.existsSync(path.join(blkio.dir, 'blkio.bfq.weight'));
  }
  return current;
}

function currentV1MemoryLimit(cgroup: ContainerCgroup): number | undefined {
  const entry = cgroup.dirs.find((d) => d.fstype === 'cgroup' && d.controllers.includes('memory'));
  const text = entry === undefined ? undefined : readCgroupFile(entry.dir, 'memory.limit_in_bytes');
  return text === undefined ? undefined : Number(text.trim());
}

/** memory.checkBeforeUpdate: refuse a limit below what the cgroup already uses, as runc does. */
function checkMemoryUsage(cgroup: ContainerCgroup, limit: number | undefined): void {
  if (limit === undefined || limit <= 0) return;
  const v2 = usesV2(cgroup);
  const entry = cgroup.dirs.find((d) => (v2 ? d.fstype === 'cgroup2' : d.controllers.includes('memory')));
  const usage = entry === undefined ? undefined : readCgroupFile(entry.dir, v2 ? 'memory.current' : 'memory.usage_in_bytes');
  if (usage !== undefined && Number(usage.trim()) > limit) {
    throw new OcitsError(`/linux/resources/memory/limit: unable to set memory limit to ${limit} (current usage: ${usage.trim()})`);
  }
}

/**
 * On v2 some files take two of the config's numbers at once (cpu.max is
 * quota and period; memory.swap.max is derived from swap and limit). An
 * update that gives only one of a pair keeps the other as the cgroup has it,
 * instead of resetting it.
 */
export function completeFromCurrent(cgroup: ContainerCgroup, patch: LinuxResources): LinuxResources {
  const entry = cgroup.dirs.find((d) => d.fstype === 'cgroup2');
  if (!usesV2(cgroup) || entry === undefined) return patch;
  const result: LinuxResources = { ...patch };
  const memory = patch.memory;
  if (memory !== undefined && (memory.swap ?? 0) > 0 && (memory.limit ?? 0) === 0) {
    const current = (readCgroupFile(entry.dir, 'memory.max') ?? '').trim();
    if (/^\d+$/.test(current)) result.memory = { ...memory, limit: Number(current) };
  }
  const cpu = patch.cpu;
  if (cpu !== undefined && (cpu.quota ?? 0) !== 0 !== ((cpu.period ?? 0) !== 0)) {
    const [quota, period] = (readCgroupFile(entry.dir, 'cpu.max') ?? 'max 100000').trim().split(/\s+/);
    result.cpu = {
      ...cpu,
      quota: (cpu.quota ?? 0) !== 0 ? cpu.quota : quota === 'max' ? -1 : Number(quota),
      period: (cpu.period ?? 0) !== 0 ? cpu.period : Number(period),
    };
  }
  return result;
}
