// Checks the JSON Schema cannot express: relations between fields, names
// from closed sets, and facts about the bundle on disk.
//
// Each check declares the fields it reads. It runs only when the schema
// found nothing wrong under any of them, so a check can trust the shapes it
// reads, and a mistake in one field does not hide the problems of another.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  CAPABILITIES, RLIMITS, SECCOMP_ACTIONS, SECCOMP_ACTIONS_WITH_ERRNO, SECCOMP_ARCHITECTURES,
  SECCOMP_FLAGS, SECCOMP_OPERATORS,
} from './names';
import { pointer, type Problem } from './problems';
import type { RuntimeConfig, Seccomp } from './types';
import { OCI_VERSION } from './version';

type Report = (where: string, message: string, severity?: Problem['severity']) => void;

interface Check {
  /** JSON pointers of the fields the check reads. */
  reads: string[];
  run(config: RuntimeConfig, bundleDir: string, report: Report): void;
}

/**
 * Runs every check whose fields are free of schema problems (the pointers
 * in schemaProblems) and returns what they find.
 */
export function semanticProblems(
  config: RuntimeConfig,
  bundleDir: string,
  schemaProblems: readonly Problem[] = [],
): Problem[] {
  const problems: Problem[] = [];
  const report: Report = (where, message, severity = 'error') =>
    problems.push({ pointer: where, message, severity });
  // A field is spoiled by a problem beneath it, or by a wrong type at it or above it.
  const spoiled = (field: string) =>
    schemaProblems.some(
      (p) =>
        p.pointer.startsWith(field + '/') ||
        (p.breaksShape === true && (p.pointer === field || field.startsWith(p.pointer + '/'))),
    );
  for (const check of CHECKS) {
    if (!check.reads.some(spoiled)) check.run(config, bundleDir, report);
  }
  return problems;
}

const CHECKS: Check[] = [
  { reads: ['/ociVersion'], run: (config, _, report) => checkVersion(config.ociVersion, report) },
  { reads: ['/root'], run: checkRoot },
  {
    reads: ['/process/env'],
    run: (config, _, report) =>
      (config.process?.env ?? []).forEach((entry, i) => {
        if (!entry.includes('=')) report(pointer('process', 'env', i), `${JSON.stringify(entry)} is not of the form KEY=value`);
      }),
  },
  { reads: ['/process/capabilities'], run: checkCapabilities },
  { reads: ['/process/rlimits'], run: checkRlimits },
  { reads: ['/mounts', '/linux/namespaces'], run: checkMounts },
  { reads: ['/linux/namespaces'], run: checkNamespaces },
  { reads: ['/linux/namespaces', '/linux/uidMappings', '/linux/gidMappings'], run: checkIdMappings },
  { reads: ['/linux/namespaces', '/linux/timeOffsets'], run: checkTimeOffsets },
  {
    reads: ['/linux/seccomp'],
    run: (config, _, report) => {
      if (config.linux?.seccomp !== undefined) checkSeccomp(config.linux.seccomp, report);
    },
  },
];

function checkVersion(version: string, report: Report): void {
  // The schema has already checked that this is SemVer.
  const [major, minor] = version.split('.').map(Number);
  const supportedMinor = Number(OCI_VERSION.split('.')[1]);
  const where = pointer('ociVersion');
  if (major > 1) {
    report(where, `version ${version} is not compatible with ${OCI_VERSION}, the version ocits implements`);
  } else if (major === 0) {
    report(where, `version ${version} predates 1.0.0; it is read as ${OCI_VERSION}`, 'warning');
  } else if (minor > supportedMinor) {
    report(where, `version ${version} is newer than ${OCI_VERSION}; fields added since are ignored`, 'warning');
  }
}

function checkRoot(config: RuntimeConfig, bundleDir: string, report: Report): void {
  if (config.root === undefined) return;
  const rootfs = path.resolve(bundleDir, config.root.path);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(rootfs);
  } catch {
    report(pointer('root', 'path'), `${rootfs} does not exist`);
    return;
  }
  if (!stat.isDirectory()) report(pointer('root', 'path'), `${rootfs} is not a directory`);
}

function checkCapabilities(config: RuntimeConfig, _: string, report: Report): void {
  for (const [set, names] of Object.entries(config.process?.capabilities ?? {})) {
    (names ?? []).forEach((name, i) => {
      if (!CAPABILITIES.has(name)) report(pointer('process', 'capabilities', set, i), `unknown capability ${name}`);
    });
  }
}

function checkRlimits(config: RuntimeConfig, _: string, report: Report): void {
  const seen = new Set<string>();
  (config.process?.rlimits ?? []).forEach((rlimit, i) => {
    const type = pointer('process', 'rlimits', i, 'type');
    if (!RLIMITS.has(rlimit.type)) report(type, `unknown rlimit ${rlimit.type}`);
    if (seen.has(rlimit.type)) report(type, `duplicate rlimit ${rlimit.type}`);
    seen.add(rlimit.type);
    if (rlimit.soft > rlimit.hard) {
      report(pointer('process', 'rlimits', i), `soft limit ${rlimit.soft} is above hard limit ${rlimit.hard}`);
    }
  });
}

function checkMounts(config: RuntimeConfig, _: string, report: Report): void {
  const hasUserNamespace = (config.linux?.namespaces ?? []).some((ns) => ns.type === 'user');
  (config.mounts ?? []).forEach((mount, i) => {
    if (!mount.destination.startsWith('/')) {
      report(
        pointer('mounts', i, 'destination'),
        `relative destination ${JSON.stringify(mount.destination)} is deprecated; it is read as /${mount.destination}`,
        'warning',
      );
    }
    const options = mount.options ?? [];
    const idmapped = options.includes('idmap') || options.includes('ridmap');
    if (idmapped && mount.uidMappings === undefined && !hasUserNamespace) {
      report(pointer('mounts', i, 'options'), 'an idmap mount needs uidMappings and gidMappings, or a user namespace');
    }
    if (!idmapped && mount.uidMappings !== undefined) {
      report(pointer('mounts', i), 'uidMappings and gidMappings need the idmap or ridmap option');
    }
  });
}

function checkNamespaces(config: RuntimeConfig, _: string, report: Report): void {
  const seen = new Set<string>();
  (config.linux?.namespaces ?? []).forEach((ns, i) => {
    if (seen.has(ns.type)) report(pointer('linux', 'namespaces', i, 'type'), `duplicate namespace type ${ns.type}`);
    seen.add(ns.type);
  });
}

function checkIdMappings(config: RuntimeConfig, _: string, report: Report): void {
  const hasUserNamespace = (config.linux?.namespaces ?? []).some((ns) => ns.type === 'user');
  for (const field of ['uidMappings', 'gidMappings'] as const) {
    if (config.linux?.[field] !== undefined && !hasUserNamespace) {
      report(pointer('linux', field), 'id mappings need a user namespace in /linux/namespaces');
    }
  }
}

function checkTimeOffsets(config: RuntimeConfig, _: string, report: Report): void {
  if (config.linux?.timeOffsets === undefined) return;
  const timeNamespace = (config.linux.namespaces ?? []).find((ns) => ns.type === 'time');
  if (timeNamespace === undefined) {
    report(pointer('linux', 'timeOffsets'), 'time offsets need a time namespace in /linux/namespaces');
  } else if (timeNamespace.path !== undefined) {
    // The kernel takes offsets only before a time namespace has a process.
    report(pointer('linux', 'timeOffsets'), 'time offsets apply only to a new time namespace, not one joined by path');
  }
}

function checkSeccomp(seccomp: Seccomp, report: Report): void {
  const at = (...segments: (string | number)[]) => pointer('linux', 'seccomp', ...segments);
  const checkAction = (action: string, errnoRet: number | undefined, actionAt: string, errnoAt: string) => {
    if (!SECCOMP_ACTIONS.has(action)) report(actionAt, `unknown seccomp action ${action}`);
    else if (errnoRet !== undefined && !SECCOMP_ACTIONS_WITH_ERRNO.has(action)) report(errnoAt, `${action} does not take an errno`);
  };
  checkAction(seccomp.defaultAction, seccomp.defaultErrnoRet, at('defaultAction'), at('defaultErrnoRet'));
  (seccomp.architectures ?? []).forEach((arch, i) => {
    if (!SECCOMP_ARCHITECTURES.has(arch)) report(at('architectures', i), `unknown seccomp architecture ${arch}`);
  });
  (seccomp.flags ?? []).forEach((flag, i) => {
    if (!SECCOMP_FLAGS.has(flag)) report(at('flags', i), `unknown seccomp flag ${flag}`);
  });
  let notifies = seccomp.defaultAction === 'SCMP_ACT_NOTIFY';
  (seccomp.syscalls ?? []).forEach((rule, i) => {
    checkAction(rule.action, rule.errnoRet, at('syscalls', i, 'action'), at('syscalls', i, 'errnoRet'));
    notifies ||= rule.action === 'SCMP_ACT_NOTIFY';
    (rule.args ?? []).forEach((arg, j) => {
      if (!SECCOMP_OPERATORS.has(arg.op)) report(at('syscalls', i, 'args', j, 'op'), `unknown seccomp operator ${arg.op}`);
    });
  });
  if (notifies && seccomp.listenerPath === undefined) {
    report(at('listenerPath'), 'SCMP_ACT_NOTIFY needs a listenerPath to send the notify fd to');
  }
}
