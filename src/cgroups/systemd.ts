// The systemd cgroup driver (--systemd-cgroup): systemd owns the container's
// cgroup as a transient scope, asked for over D-Bus (the system bus, or the
// caller's own systemd instance when not root), as runc's and crun's drivers
// do. The scope's cgroup is then used like any other: the same files get the
// limits too, and pause, ps, events and kill --all work on it unchanged.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addon, type SystemdBus, type SystemdError, type UnitProperty } from '../addon';
import { OcitsError, isErrno, messageOf } from '../errors';
import { tracer } from '../log';
import type { LinuxResources, RuntimeConfig } from '../spec/types';
import type { CgroupHost, CgroupMode } from './host';
import { resolveContainerCgroup, type ContainerCgroup } from './paths';
import { parseSystemdCgroupsPath } from './systemd-path';
import { accountingProperties, annotationProperties, deviceProperties, resourceProperties } from './systemd-properties';

const trace = tracer('cgroups');

/** How long a job (starting or stopping the scope) may take, as runc waits. */
const JOB_TIMEOUT_MS = 30000;

/** What the state record keeps of the scope, so later commands reach it. */
export interface SystemdScope {
  unit: string;
  /** In the caller's own systemd instance (a non-root caller), not the system's. */
  user: boolean;
  /**
   * The slices of the scope's chain that were not active before create
   * (outermost first): systemd starts them for the scope, and only these may
   * be stopped again (stopCreatedSlices). Absent in records of older ocits.
   */
  createdSlices?: string[];
}

/** The scope create asks for, decided and checked before anything is made. */
export interface ScopePlan {
  scope: SystemdScope;
  /** The scope's cgroup in every hierarchy (systemd makes it; other v1 hierarchies are ours to make). */
  cgroup: ContainerCgroup;
  /** Everything but PIDs, which the init's pid completes. */
  properties: UnitProperty[];
  bus: SystemdBus;
}

export function planScope(host: CgroupHost, config: RuntimeConfig, id: string, privileged: boolean): ScopePlan {
  const user = !privileged;
  if (user && host.mode !== 'unified') {
    throw new OcitsError('--systemd-cgroup: a non-root caller can use its own systemd instance only on a cgroup v2 host');
  }
  const target = parseSystemdCgroupsPath(config.linux?.cgroupsPath, id, user);
  const resources = config.linux?.resources ?? {};
  // Every refusal of the config comes before systemd is asked anything.
  const properties: UnitProperty[] = [
    ['Description', 's', `ocits container ${id}`],
    ['Slice', 's', target.slice],
    ['Delegate', 'b', true],
    ...accountingProperties(host.mode),
    ...resourceProperties(host.mode, resources),
    ...deviceProperties(resources.devices),
    // Last: an annotation overrides what ocits derived, as in runc.
    ...annotationProperties(config.annotations),
  ];
  const bus = connectSystemd(user);
  // A user instance's units live below its own cgroup (user@UID.service).
  const managerCgroup = user ? systemdCall(() => addon().systemdManagerProperty(bus, 'ControlGroup')) : '/';
  const cgroup = resolveContainerCgroup(host, path.posix.join('/', managerCgroup, target.path), id);
  const createdSlices = target.slices.filter((slice) => !sliceIsActive(bus, slice));
  trace('slices systemd will start for %s: %o', target.unit, createdSlices);
  return { scope: { unit: target.unit, user, createdSlices }, cgroup, properties, bus };
}

/**
 * Whether the slice is up already, so that it is someone else's (system.slice,
 * machine.slice, a kubelet's pod slice) and never ours to stop. A slice that
 * is loaded but inactive (a unit file nobody uses yet) is started by our
 * scope just as a new one is, so stopping it later returns it to how it was.
 */
function sliceIsActive(bus: SystemdBus, slice: string): boolean {
  const state = systemdCall(() => addon().systemdUnitActiveState(bus, slice));
  return state !== null && state !== 'inactive' && state !== 'failed';
}

/** Starts the scope with pid in it and waits until systemd has made it. */
export function startScope(plan: ScopePlan, pid: number): void {
  const properties: UnitProperty[] = [['PIDs', 'au', [pid]], ...plan.properties];
  trace('starting %s with %o', plan.scope.unit, properties);
  systemdCall(() => addon().systemdStartTransientUnit(plan.bus, plan.scope.unit, properties, JOB_TIMEOUT_MS));
}

/** Stops the scope (killing what is left in it) and waits; a scope already gone is fine. */
export function stopScope(scope: SystemdScope, bus: SystemdBus = connectSystemd(scope.user)): void {
  const existed = systemdCall(() => addon().systemdStopUnit(bus, scope.unit, 'replace', JOB_TIMEOUT_MS));
  trace('%s %s', existed ? 'stopped' : 'no unit', scope.unit);
}

/**
 * After the scope is stopped (and its cgroup gone): stops the slices create
 * made systemd start, deepest first, so that a nested cgroupsPath
 * (a-b-c.slice) leaves no a.slice, a-b.slice, a-b-c.slice behind. Stopping a
 * slice stops every unit in it, so a slice is stopped only while its cgroup
 * has no child cgroup in any hierarchy, i.e. no other container's scope (or
 * anything else) lives in it; then the slices around it stay too. The stop
 * is queued in systemd's "fail" mode, so a scope another create is starting
 * in the slice at that moment makes systemd refuse it and the slice stays.
 */
export function stopCreatedSlices(scope: SystemdScope, cgroup: ContainerCgroup, bus?: SystemdBus): void {
  const slices = [...(scope.createdSlices ?? [])].reverse();
  if (slices.length === 0) return;
  const manager = bus ?? connectSystemd(scope.user);
  for (const slice of slices) {
    const holder = cgroup.dirs.map((dir) => sliceDir(dir.dir, dir.mountPoint, slice)).find(hasChildCgroup);
    if (holder !== undefined) {
      trace('%s holds other cgroups (%s): it and the slices around it stay', slice, holder);
      return;
    }
    try {
      const existed = addon().systemdStopUnit(manager, slice, 'fail', JOB_TIMEOUT_MS);
      trace('%s %s', existed ? 'stopped' : 'no unit', slice);
    } catch (error) {
      if ((error as SystemdError).dbusName === TRANSACTION_IS_DESTRUCTIVE) {
        trace('%s is in use by a queued job: it and the slices around it stay', slice);
        return;
      }
      throw new OcitsError(`systemd: ${messageOf(error)}`);
    }
  }
}

/** systemd's refusal of a "fail" mode job that would cancel one already queued. */
const TRANSACTION_IS_DESTRUCTIVE = 'org.freedesktop.systemd1.TransactionIsDestructive';

/** The directory of slice above the scope's cgroup dir in one hierarchy, if the scope is in it there. */
function sliceDir(scopeDir: string, mountPoint: string, slice: string): string | undefined {
  for (let dir = path.dirname(scopeDir); dir.length > mountPoint.length; dir = path.dirname(dir)) {
    if (path.basename(dir) === slice) return dir;
  }
  return undefined;
}

function hasChildCgroup(dir: string | undefined): boolean {
  if (dir === undefined) return false;
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).some((entry) => entry.isDirectory());
  } catch (error) {
    // systemd made no cgroup for the slice in this hierarchy, or has removed it.
    if (isErrno(error, 'ENOENT')) return false;
    throw new OcitsError(`cannot read ${dir} to see whether the slice still holds other cgroups: ${messageOf(error)}`);
  }
}

/**
 * Has systemd move pid into the scope's cgroup, or the one below it at
 * subcgroup: for a non-root caller, who may not move a process from its own
 * cgroup into its systemd instance's, while systemd may (asking the system
 * instance on its behalf).
 */
export function attachToScope(scope: SystemdScope, subcgroup: string, pid: number): void {
  const bus = connectSystemd(scope.user);
  systemdCall(() => addon().systemdAttachProcesses(bus, scope.unit, subcgroup, [pid]));
}

/** update: the limits systemd knows, set on the running scope (the files are written too, by the caller). */
export function updateScope(scope: SystemdScope, mode: CgroupMode, resources: LinuxResources): void {
  const properties = resourceProperties(mode, resources);
  if (properties.length === 0) return;
  const bus = connectSystemd(scope.user);
  systemdCall(() => addon().systemdSetUnitProperties(bus, scope.unit, properties));
}

/** Whether systemd is this host's init, so --systemd-cgroup can work (runc's test too). */
export function systemdIsInit(): boolean {
  return fs.existsSync('/run/systemd/system');
}

/**
 * A connection to the manager. Without systemd as init, or without its bus,
 * one line says which is missing.
 */
function connectSystemd(user: boolean): SystemdBus {
  if (!systemdIsInit()) {
    throw new OcitsError("--systemd-cgroup: systemd is not running on this host (no /run/systemd/system), so it cannot manage the container's cgroup");
  }
  const address = user
    ? process.env.DBUS_SESSION_BUS_ADDRESS ?? `unix:path=${process.env.XDG_RUNTIME_DIR ?? '$XDG_RUNTIME_DIR'}/bus`
    : process.env.DBUS_SYSTEM_BUS_ADDRESS ?? 'unix:path=/run/dbus/system_bus_socket';
  try {
    return addon().systemdConnect(user);
  } catch (error) {
    throw new OcitsError(`--systemd-cgroup: ${messageOf(error)} (${address})`);
  }
}

function systemdCall<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw new OcitsError(`systemd: ${messageOf(error)}`);
  }
}
