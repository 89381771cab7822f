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
import { quoted } from '../errors';
import { pointer, type Problem } from './problems';
import type { IdMapping, RuntimeConfig, Seccomp } from './types';
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
  // Reads every field, whatever its shape, so it declares none.
  { reads: [], run: (config, _, report) => checkStrings(config, report) },
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
  { reads: ['/linux/uidMappings'], run: (config, _, report) => checkIdRanges(config.linux?.uidMappings, report, 'linux', 'uidMappings') },
  { reads: ['/linux/gidMappings'], run: (config, _, report) => checkIdRanges(config.linux?.gidMappings, report, 'linux', 'gidMappings') },
  {
    reads: ['/mounts'],
    run: (config, _, report) =>
      (config.mounts ?? []).forEach((mount, i) => {
        checkIdRanges(mount.uidMappings, report, 'mounts', i, 'uidMappings');
        checkIdRanges(mount.gidMappings, report, 'mounts', i, 'gidMappings');
      }),
  },
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
    report(pointer('root', 'path'), `${quoted(rootfs)} does not exist`);
    return;
  }
  if (!stat.isDirectory()) report(pointer('root', 'path'), `${quoted(rootfs)} is not a directory`);
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

// Where a string goes to the kernel (paths, mount data, argv, environ,
// hostname, sysctl, cgroup names), C reads it up to its first NUL byte: a
// masked path "/pr\0oc/kcore" would mask "/pr". Annotations, ociVersion and
// extension fields only ever travel as JSON.
const SYSCALL_FIELDS = ['root', 'mounts', 'process', 'hostname', 'domainname', 'hooks', 'linux'];

function checkStrings(config: RuntimeConfig, report: Report): void {
  if (typeof config !== 'object' || config === null) return;
  // A stack rather than recursion: the nesting of a hostile document is unbounded.
  const pending: Array<[string, unknown]> = SYSCALL_FIELDS.map((field) => [pointer(field), (config as unknown as Record<string, unknown>)[field]]);
  while (pending.length > 0) {
    const [where, value] = pending.pop()!;
    if (typeof value === 'string') {
      checkString(value, where, report);
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) pending.push([`${where}/${i}`, value[i]]);
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, entry] of Object.entries(value).reverse()) {
        const at = `${where}${pointer(key)}`;
        checkString(key, at, report, 'its key ');
        pending.push([at, entry]);
      }
    }
  }
}

// A lone UTF-16 surrogate (from a \ud800 escape) has no UTF-8 form; the addon would pass U+FFFD instead.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function checkString(value: string, where: string, report: Report, what = ''): void {
  if (value.includes('\0')) report(where, `${what}contains a NUL byte, at which a system call would cut it`);
  else if (LONE_SURROGATE.test(value)) report(where, `${what}contains a lone UTF-16 surrogate, which has no UTF-8 form`);
}

// The kernel takes ids as u32 and -1 means "no id": a range must end below it.
const LAST_ID = 0xfffffffe;

function checkIdRanges(mappings: IdMapping[] | undefined, report: Report, ...at: (string | number)[]): void {
  (mappings ?? []).forEach((mapping, i) => {
    for (const side of ['containerID', 'hostID'] as const) {
      const last = mapping[side] + mapping.size - 1;
      if (last > LAST_ID) report(pointer(...at, i), `${side} ${mapping[side]} + size ${mapping.size} reaches ${last}, past the last id ${LAST_ID}`);
    }
  });
}
