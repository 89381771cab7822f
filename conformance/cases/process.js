// The process object (config.md#configProcess and following): what the
// program sees of its args, env, cwd, user, rlimits, capabilities,
// no_new_privs, oom_score_adj, and of hostname and domainname.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { makeBundle, writeExecutable } = require('../lib/bundle');
const { probeScript, parseProbes, probe, parseStatus } = require('../lib/probe');

const CAPABILITY_NUMBERS = {
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_FOWNER: 3,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_NET_BIND_SERVICE: 10,
  CAP_SYS_CHROOT: 18,
  CAP_AUDIT_WRITE: 29,
};

/** The /proc/<pid>/status hex mask of a list of capability names. */
function capabilityMask(names) {
  let mask = 0n;
  for (const name of names) mask |= 1n << BigInt(CAPABILITY_NUMBERS[name]);
  return mask;
}

/** A case: /proc/self/status field `field` equals the mask of `names(o)`. */
function capabilitySet(section, set, field, names) {
  return {
    section,
    requirement: `capabilities.${set} is the ${field} set of the process`,
    check(o) {
      const status = parseStatus(probe(o.probes, 'status').out);
      const seen = BigInt(`0x${status.get(field) ?? 'missing'}`);
      const expected = capabilityMask(names);
      return seen === expected ? undefined : `${field} is ${seen.toString(16)}, expected ${expected.toString(16)} (${names.join(' ') || 'none'})`;
    },
  };
}

/** Runs a container whose program is PROGRAM followed by the probes. */
function observe({ runtime, dir, id }, name, change, probes, program = 'exec sh /probe.sh') {
  const bundle = makeBundle(dir, name, (config, b) => {
    writeExecutable(path.join(b, 'rootfs', 'probe.sh'), probeScript(probes));
    config.process.args = ['sh', '-c', program];
    change(config, b);
  });
  const result = runtime.runToCompletion(id(name), bundle);
  return { ...result, probes: parseProbes(result.stdout), bundle };
}

/** /proc/self/limits as type name -> { soft, hard }. */
function parseLimits(text) {
  const limits = new Map();
  for (const line of text.split('\n').slice(1)) {
    const match = /^(.+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
    if (match) limits.set(match[1].trim(), { soft: match[2], hard: match[3] });
  }
  return limits;
}

const ENV = ['PATH=/bin', 'CONFORMANCE_SPACES=a value with spaces', 'CONFORMANCE_EMPTY=', 'CONFORMANCE_EQUALS=a=b'];
const USER = { uid: 1000, gid: 1000, additionalGids: [2000, 3000], umask: 0o027 };
const BOUNDING = ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETUID', 'CAP_SETGID'];
const AMBIENT = ['CAP_KILL', 'CAP_NET_BIND_SERVICE'];
const RLIMITS = [
  { type: 'RLIMIT_NOFILE', soft: 500, hard: 600 },
  { type: 'RLIMIT_CORE', soft: 1024, hard: 2048 },
];
const LIMIT_NAMES = { RLIMIT_NOFILE: 'Max open files', RLIMIT_CORE: 'Max core file size' };

const nonRoot = {
  title: 'a non-root process',
  setup(context) {
    return observe(
      context,
      'non-root',
      (config, bundle) => {
        fs.mkdirSync(path.join(bundle, 'rootfs', 'home', 'conformance'), { recursive: true });
        config.process.user = USER;
        config.process.cwd = '/home/conformance';
        config.process.env = ENV;
        config.process.rlimits = RLIMITS;
        // Unprivileged: after execve the permitted and effective sets are
        // the ambient set, so every set but bounding is the same list.
        config.process.capabilities = { bounding: BOUNDING, effective: AMBIENT, permitted: AMBIENT, inheritable: AMBIENT, ambient: AMBIENT };
        config.process.noNewPrivileges = false;
        config.hostname = 'conformance-host';
        config.domainname = 'conformance.example';
      },
      [
        ['args', 'echo "$#|$1|$2"'],
        ['env', 'env'],
        ['cwd', 'pwd'],
        ['uid', 'id -u'],
        ['gid', 'id -g'],
        ['groups', 'id -G'],
        ['umask', 'umask'],
        ['created-file-mode', 'touch /tmp/umask-file && stat -c %a /tmp/umask-file'],
        ['limits', 'cat /proc/self/limits'],
        ['status', 'cat /proc/self/status'],
        ['oom', 'cat /proc/self/oom_score_adj'],
        ['hostname', 'hostname'],
        ['domainname', 'cat /proc/sys/kernel/domainname'],
      ],
      // `sh -c` holds no file of its own: its descriptors are what the
      // runtime left open. args[0] is "sh", found through PATH as execvp does.
      'echo @@fds; ls /proc/$$/fd; echo @@=$?; exec sh /probe.sh "first arg" second',
    );
  },
  cases: [
    {
      section: 'config.md#configProcess',
      requirement: 'args are run with execvp semantics: args[0] "sh" found through PATH, every argument passed',
      check(o) {
        const out = probe(o.probes, 'args').out;
        return out === '2|first arg|second' ? undefined : `the program saw ${JSON.stringify(out)}`;
      },
    },
    {
      section: 'config.md#configProcess',
      requirement: 'env is the environment of the process',
      check(o) {
        const lines = probe(o.probes, 'env').out.split('\n');
        const missing = ENV.filter((entry) => !lines.includes(entry));
        return missing.length === 0 ? undefined : `missing ${JSON.stringify(missing)} in ${JSON.stringify(lines)}`;
      },
    },
    {
      section: 'config.md#configProcess',
      requirement: 'cwd is the working directory of the process',
      check(o) {
        const out = probe(o.probes, 'cwd').out;
        return out === '/home/conformance' ? undefined : `pwd printed ${JSON.stringify(out)}`;
      },
    },
    {
      section: 'config.md#configPOSIXUser',
      requirement: 'user.uid is the user ID of the process',
      check: (o) => (probe(o.probes, 'uid').out === '1000' ? undefined : `id -u printed ${probe(o.probes, 'uid').out}`),
    },
    {
      section: 'config.md#configPOSIXUser',
      requirement: 'user.gid is the group ID of the process',
      check: (o) => (probe(o.probes, 'gid').out === '1000' ? undefined : `id -g printed ${probe(o.probes, 'gid').out}`),
    },
    {
      section: 'config.md#configPOSIXUser',
      requirement: 'user.additionalGids are the supplementary groups of the process',
      check(o) {
        const groups = probe(o.probes, 'groups').out.split(/\s+/).sort().join(' ');
        return groups === '1000 2000 3000' ? undefined : `id -G printed ${groups}`;
      },
    },
    {
      section: 'config.md#configPOSIXUser',
      requirement: 'user.umask is the umask of the process',
      check(o) {
        const umask = probe(o.probes, 'umask').out;
        const mode = probe(o.probes, 'created-file-mode').out;
        if (umask !== '0027') return `umask printed ${umask}`;
        return mode === '640' ? undefined : `a new file has mode ${mode}`;
      },
    },
    {
      section: 'config.md#configPOSIXProcess',
      requirement: 'rlimits: rlim_cur of each type MUST match the configured soft value',
      check(o) {
        const limits = parseLimits(probe(o.probes, 'limits').out);
        for (const { type, soft } of RLIMITS) {
          const seen = limits.get(LIMIT_NAMES[type])?.soft;
          if (seen !== String(soft)) return `${type} soft limit is ${seen}, expected ${soft}`;
        }
        return undefined;
      },
    },
    {
      section: 'config.md#configPOSIXProcess',
      requirement: 'rlimits: rlim_max of each type MUST match the configured hard value',
      check(o) {
        const limits = parseLimits(probe(o.probes, 'limits').out);
        for (const { type, hard } of RLIMITS) {
          const seen = limits.get(LIMIT_NAMES[type])?.hard;
          if (seen !== String(hard)) return `${type} hard limit is ${seen}, expected ${hard}`;
        }
        return undefined;
      },
    },
    capabilitySet('config.md#configLinuxProcess', 'bounding', 'CapBnd', BOUNDING),
    capabilitySet('config.md#configLinuxProcess', 'effective', 'CapEff', AMBIENT),
    capabilitySet('config.md#configLinuxProcess', 'permitted', 'CapPrm', AMBIENT),
    capabilitySet('config.md#configLinuxProcess', 'inheritable', 'CapInh', AMBIENT),
    capabilitySet('config.md#configLinuxProcess', 'ambient', 'CapAmb', AMBIENT),
    {
      section: 'config.md#configLinuxProcess',
      requirement: 'noNewPrivileges false leaves no_new_privs unset',
      check(o) {
        const value = parseStatus(probe(o.probes, 'status').out).get('NoNewPrivs');
        return value === '0' ? undefined : `NoNewPrivs is ${value}`;
      },
    },
    {
      section: 'config.md#configLinuxProcess',
      requirement: 'if oomScoreAdj is not set, the runtime MUST NOT change oom_score_adj',
      check(o) {
        const ours = fs.readFileSync('/proc/self/oom_score_adj', 'utf8').trim();
        const seen = probe(o.probes, 'oom').out;
        return seen === ours ? undefined : `oom_score_adj is ${seen}, the runtime's caller has ${ours}`;
      },
    },
    {
      section: 'config.md#configHostname',
      requirement: 'hostname is the hostname the container process sees',
      check: (o) => (probe(o.probes, 'hostname').out === 'conformance-host' ? undefined : `hostname printed ${probe(o.probes, 'hostname').out}`),
    },
    {
      section: 'config.md#configDomainname',
      requirement: 'domainname is the NIS domain name the container process sees',
      deviations: { runc: 'runc 1.1.5 ignores domainname (libcontainer sets it from runc 1.2 on)' },
      check: (o) => (probe(o.probes, 'domainname').out === 'conformance.example' ? undefined : `domainname is ${probe(o.probes, 'domainname').out}`),
    },
    {
      section: 'runtime-linux.md#runtimeLinuxFileDescriptors',
      requirement: 'by default only stdin, stdout and stderr are kept open for the application',
      check(o) {
        const fds = probe(o.probes, 'fds').out.split(/\s+/).sort().join(' ');
        return fds === '0 1 2' ? undefined : `open descriptors: ${fds}`;
      },
    },
  ],
};

const PRIVILEGED = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID', 'CAP_NET_BIND_SERVICE'];

const root = {
  title: 'a root process with no_new_privs and oomScoreAdj',
  setup(context) {
    return observe(
      context,
      'root',
      (config) => {
        // As root, execve makes permitted and effective the union of
        // inheritable and bounding: the same list in all four keeps it exact.
        config.process.capabilities = { bounding: PRIVILEGED, effective: PRIVILEGED, permitted: PRIVILEGED, inheritable: PRIVILEGED };
        config.process.noNewPrivileges = true;
        config.process.oomScoreAdj = 500;
      },
      [
        ['status', 'cat /proc/self/status'],
        ['oom', 'cat /proc/self/oom_score_adj'],
      ],
    );
  },
  cases: [
    capabilitySet('config.md#configLinuxProcess', 'bounding (root)', 'CapBnd', PRIVILEGED),
    capabilitySet('config.md#configLinuxProcess', 'effective (root)', 'CapEff', PRIVILEGED),
    capabilitySet('config.md#configLinuxProcess', 'permitted (root)', 'CapPrm', PRIVILEGED),
    capabilitySet('config.md#configLinuxProcess', 'inheritable (root)', 'CapInh', PRIVILEGED),
    capabilitySet('config.md#configLinuxProcess', 'ambient (root, unset)', 'CapAmb', []),
    {
      section: 'config.md#configLinuxProcess',
      requirement: 'noNewPrivileges true sets no_new_privs',
      check(o) {
        const value = parseStatus(probe(o.probes, 'status').out).get('NoNewPrivs');
        return value === '1' ? undefined : `NoNewPrivs is ${value}`;
      },
    },
    {
      section: 'config.md#configLinuxProcess',
      requirement: 'if oomScoreAdj is set, the runtime MUST set oom_score_adj to it',
      check: (o) => (probe(o.probes, 'oom').out === '500' ? undefined : `oom_score_adj is ${probe(o.probes, 'oom').out}`),
    },
  ],
};

module.exports = { groups: [nonRoot, root], observe };
