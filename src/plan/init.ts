// From config.json to the plan the addon's init process executes
// (addon/init/init.cc runs it). All policy lives in plan/: which namespaces,
// which mounts with which flags, which devices and links, which capabilities
// and limits, one module per addon/init/ file. The addon only carries it out.
import type { Plan } from '../addon-plan';
import { OcitsError } from '../errors';
import type { RuntimeConfig } from '../spec/types';
import { planHooks } from './hooks';
import type { PlanHost } from './host';
import { planNamespaces, type IdMaps } from './namespaces';
import { planProcess } from './process';
import { planPersonality } from './process-attributes';
import { planRootfs, type RootfsContext } from './rootfs';
import { planSeccomp } from './seccomp';
import { planSysctls } from './sysctl';
import { unsupportedFeatures } from './unsupported';

/** What the plan needs besides the config. */
export interface PlanContext extends RootfsContext {
  execFifo: string;
  /** -1 without a terminal. */
  consoleSocket: number;
  /** Room for the two state documents the parent sends the init process. */
  stateBufferSize: number;
  /** Whether we have root's privileges on the host (not rootless). */
  privileged: boolean;
  host: PlanHost;
}

/** The addon's plan, and what the parent does itself. */
export interface InitPlan extends Plan {
  /** What the parent writes for a new user namespace. */
  idMaps: IdMaps | null;
}

export function buildInitPlan(config: RuntimeConfig, context: PlanContext): InitPlan {
  const problems = unsupportedFeatures(config);
  if (problems.length > 0) throw new OcitsError(problems[0]);
  const linux = config.linux ?? {};
  const process = config.process;
  if (process === undefined) throw new OcitsError('/process: a container needs a process to run');

  const namespaces = planNamespaces(config, context.privileged);
  // New or joined, as in runc: the name is set in whichever uts namespace the
  // container has; only the runtime's own, inherited, may not be renamed.
  if ((config.hostname !== undefined || config.domainname !== undefined) && !(linux.namespaces ?? []).some((namespace) => namespace.type === 'uts')) {
    throw new OcitsError('/hostname: setting the hostname needs a uts namespace of the container\'s own (new or joined)');
  }
  const rootfs = planRootfs(config, context, namespaces, context.host);

  const env = process.env ?? [];
  const processPlan = planProcess(process, context.consoleSocket, context.host);
  processPlan.setGroups = namespaces.idMaps?.denySetgroups !== true;
  return {
    cloneFlags: namespaces.cloneFlags,
    namespaces: namespaces.entry,
    idMaps: namespaces.idMaps,
    cgroup: { dir: -1, tasks: [] },
    unshareCgroup: namespaces.unshareCgroup,
    hostname: config.hostname ?? null,
    domainname: config.domainname ?? null,
    ...rootfs,
    sysctls: planSysctls(config),
    createContainerHooks: planHooks(config.hooks?.createContainer, env),
    startContainerHooks: planHooks(config.hooks?.startContainer, env),
    execFifo: context.execFifo,
    passedFds: 0,
    stateBufferSize: context.stateBufferSize,
    process: {
      ...processPlan,
      seccomp: linux.seccomp !== undefined ? planSeccomp(linux.seccomp, context.host.seccomp) : null,
      personality: planPersonality(linux.personality),
    },
  };
}

