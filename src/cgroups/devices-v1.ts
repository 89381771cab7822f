// Device rules through the v1 devices controller. The rules are written one
// by one to devices.allow / devices.deny, so the kernel applies exactly the
// semantics the spec borrows from it (a type "a" rule resets the whole list,
// later rules add or remove exceptions).
import { tracer } from '../log';
import { type CheckedDeviceRule, deviceRuleLine } from './device-rules';
import { writeCgroupFile } from './files';

const trace = tracer('cgroups');

/**
 * Writes the rules (effectiveDeviceRules' list, already checked) to the
 * container's directory in the v1 devices hierarchy.
 */
export function writeV1DeviceRules(dir: string, rules: readonly CheckedDeviceRule[]): void {
  for (const rule of rules) {
    const line = deviceRuleLine(rule);
    writeCgroupFile(dir, rule.allow ? 'devices.allow' : 'devices.deny', line, `apply device rule ${JSON.stringify(line)}`);
  }
  trace('wrote %d device rules in %s', rules.length, dir);
}
