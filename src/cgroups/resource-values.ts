// What both cgroup versions share when turning linux.resources into file
// writes: the write itself, and the value formats of devices, RDMA and huge
// page sizes.
import { OcitsError } from '../errors';
import type { RdmaResource } from '../spec/types';

/** One value for one cgroup control file. */
export interface CgroupWrite {
  /** v1: the controller whose hierarchy holds the file; v2: the controller that must be enabled ('cgroup' for core files). */
  controller: string;
  file: string;
  value: string;
  /** The config field it comes from, for errors: /linux/resources/memory/limit. */
  pointer: string;
  /** Read the file back and fail if the kernel stored something else (it clamps some values silently). */
  readBack?: boolean;
}

/** "MAJOR:MINOR VALUE", the line blkio and io files take per device. */
export function deviceLine(device: { major: number; minor: number }, value: number | string): string {
  return `${device.major}:${device.minor} ${value}`;
}

/** "DEVICE hca_handle=N hca_object=M", with only the limits given. */
export function rdmaLine(device: string, limits: RdmaResource): string {
  const parts = [device];
  if (limits.hcaHandles !== undefined) parts.push(`hca_handle=${limits.hcaHandles}`);
  if (limits.hcaObjects !== undefined) parts.push(`hca_object=${limits.hcaObjects}`);
  return parts.join(' ');
}

const UNITS = ['KB', 'MB', 'GB', 'TB'];

/**
 * The kernel's name for a huge page size, as in its hugetlb.<size>.* files:
 * the largest unit that divides it ("2048KB" → "2MB").
 */
export function checkedPageSize(pageSize: string, pointer: string): string {
  const match = /^([1-9][0-9]*)([KMGT]B)$/.exec(pageSize);
  if (match === null) throw new OcitsError(`${pointer}: ${JSON.stringify(pageSize)} is not a page size such as "2MB" or "1GB"`);
  let amount = Number(match[1]);
  let unit = UNITS.indexOf(match[2]);
  while (amount % 1024 === 0 && unit < UNITS.length - 1) {
    amount /= 1024;
    unit++;
  }
  return `${amount}${UNITS[unit]}`;
}
