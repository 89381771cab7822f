// linux.resources.devices, on whichever device controller the host has: the
// v1 devices cgroup where one is mounted (legacy and hybrid hosts, as runc),
// otherwise an eBPF program on the container's cgroup2 directory.
import { OcitsError } from '../errors';
import type { DeviceRule } from '../spec/types';
import { devicePolicy, effectiveDeviceRules } from './device-rules';
import { writeV1DeviceRules } from './devices-v1';
import { attachDeviceFilter } from './devices-v2';
import type { CgroupHost } from './host';
import type { ContainerCgroup } from './paths';

/**
 * Restricts the container's devices to the config's rules plus runc's
 * defaults, starting from "deny all". Call it after createCgroup and before
 * the container's process runs user code. Every rule is checked before
 * anything is written.
 */
export function applyDeviceRules(host: CgroupHost, cgroup: ContainerCgroup, configRules: readonly DeviceRule[]): void {
  const rules = effectiveDeviceRules(configRules);
  const v1 = host.hierarchies.find((h) => h.fstype === 'cgroup' && h.controllers.includes('devices'));
  if (v1 !== undefined) {
    const entry = cgroup.dirs.find((d) => d.mountPoint === v1.mountPoint);
    if (entry === undefined) {
      throw new OcitsError(`the container's cgroup has no directory in the devices hierarchy at ${v1.mountPoint}`);
    }
    writeV1DeviceRules(entry.dir, rules);
    return;
  }
  const v2 = cgroup.dirs.find((d) => d.fstype === 'cgroup2');
  if (v2 !== undefined) {
    attachDeviceFilter(v2.dir, devicePolicy(rules));
    return;
  }
  // Nothing to restrict with; runc, too, leaves the devices alone then. A
  // config that asked for rules is refused rather than run unrestricted.
  if (configRules.length > 0) {
    throw new OcitsError('/linux/resources/devices: this host has no devices cgroup, so device rules cannot be enforced');
  }
}
