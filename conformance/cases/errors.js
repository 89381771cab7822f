// Operations that MUST generate an error: missing or unknown ids, and
// configurations the runtime cannot apply. A refused create MUST NOT leave a
// container behind (runtime.md#runtimeErrors: as if never attempted).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { makeBundle } = require('../lib/bundle');

const UNKNOWN = 'conformance-no-such-container';

/** A case: `operation` (args after --root) must exit non-zero. */
function refused(section, requirement, key) {
  return {
    section,
    requirement,
    check(o) {
      const result = o[key];
      if (result.status === 0) return `exited 0 and printed ${JSON.stringify(result.stdout)}`;
      return undefined;
    },
  };
}

/** A case: create with a bad bundle must fail and leave no container. */
function refusedCreate(section, requirement, key, deviations) {
  return {
    section,
    requirement,
    deviations,
    check(o) {
      const { create, after } = o[key];
      if (create.status === 0) return `create exited 0 (state: ${JSON.stringify(after)})`;
      if (after !== undefined) return `create failed but left a container: ${JSON.stringify(after)}`;
      return undefined;
    },
  };
}

// Each bad bundle: the change that breaks it.
const BAD_BUNDLES = {
  missingRoot(config) {
    config.root.path = 'no-such-rootfs';
  },
  missingMountSource(config, bundle) {
    config.mounts.push({ destination: '/missing', type: 'bind', source: path.join(bundle, 'no-such-dir'), options: ['bind'] });
  },
  duplicateRlimit(config) {
    config.process.rlimits = [
      { type: 'RLIMIT_NOFILE', soft: 100, hard: 100 },
      { type: 'RLIMIT_NOFILE', soft: 200, hard: 200 },
    ];
  },
  unknownRlimit(config) {
    config.process.rlimits = [{ type: 'RLIMIT_CONFORMANCE', soft: 1, hard: 1 }];
  },
  duplicateNamespace(config) {
    config.linux.namespaces.push({ type: 'ipc' });
  },
  unknownNamespace(config) {
    config.linux.namespaces.push({ type: 'conformance' });
  },
  relativeCwd(config) {
    config.process.cwd = 'relative/dir';
  },
  deviceOverFile(config, bundle) {
    fs.mkdirSync(path.join(bundle, 'rootfs', 'devices'));
    fs.writeFileSync(path.join(bundle, 'rootfs', 'devices', 'regular'), 'a regular file\n');
    config.linux.devices = [{ path: '/devices/regular', type: 'c', major: 1, minor: 3 }];
  },
};

const errors = {
  title: 'operations that must generate an error',
  setup({ runtime, dir, id: makeId }) {
    const o = {};
    for (const op of ['state', 'start', 'kill', 'delete']) {
      o[`${op}NoId`] = runtime.run([op]);
      o[`${op}Unknown`] = runtime.run(op === 'kill' ? [op, UNKNOWN, 'KILL'] : [op, UNKNOWN]);
    }
    const good = makeBundle(dir, 'good', (config) => {
      config.process.args = ['sh', '-c', 'sleep 100'];
    });
    o.createNoId = runtime.run(['create', '--bundle', good]);
    const escape = '../conformance-escape';
    o.invalidId = { create: runtime.create(escape, good), after: runtime.tryState(escape) };
    for (const [name, change] of Object.entries(BAD_BUNDLES)) {
      const id = makeId(name);
      const bundle = makeBundle(dir, name, change);
      o[name] = { create: runtime.create(id, bundle), after: runtime.tryState(id) };
    }

    // The id of a refused create is free again: the error changed nothing.
    const reused = makeId('missingMountSource');
    o.reuse = runtime.create(reused, good);
    o.reuseState = runtime.tryState(reused);
    runtime.run(['delete', '--force', reused]);

    // No process: create may refuse it, else start MUST.
    const noProcessId = makeId('no-process');
    const noProcess = makeBundle(dir, 'no-process', (config) => {
      delete config.process;
    });
    o.noProcessCreate = runtime.create(noProcessId, noProcess);
    o.noProcessStart = o.noProcessCreate.status === 0 ? runtime.run(['start', noProcessId]) : undefined;

    // Unknown properties are ignored.
    const extendedId = makeId('extended');
    const extended = makeBundle(dir, 'extended', (config) => {
      config['org.example.conformance'] = { unknown: true };
      config.process['org.example.conformance'] = [1, 2];
      config.linux['org.example.conformance'] = 'unknown';
      config.process.args = ['sh', '-c', 'echo extended'];
    });
    try {
      o.extended = runtime.runToCompletion(extendedId, extended);
    } catch (error) {
      o.extended = { error: error.message };
    }
    return o;
  },
  cases: [
    refused('runtime.md#runtimeQueryState', 'state MUST generate an error if it is not provided the ID of a container', 'stateNoId'),
    refused('runtime.md#runtimeQueryState', 'state of a container that does not exist MUST generate an error', 'stateUnknown'),
    refused('runtime.md#runtimeStart', 'start MUST generate an error if it is not provided the container ID', 'startNoId'),
    refused('runtime.md#runtimeStart', 'start of a container that does not exist (not created) MUST generate an error', 'startUnknown'),
    refused('runtime.md#runtimeKill', 'kill MUST generate an error if it is not provided the container ID', 'killNoId'),
    refused('runtime.md#runtimeKill', 'kill of a container that does not exist MUST generate an error', 'killUnknown'),
    refused('runtime.md#runtimeDelete', 'delete MUST generate an error if it is not provided the container ID', 'deleteNoId'),
    refused('runtime.md#runtimeDelete', 'delete of a container that does not exist MUST generate an error', 'deleteUnknown'),
    refused('runtime.md#runtimeCreate', 'create MUST generate an error if it is not provided the container ID', 'createNoId'),
    refusedCreate('runtime.md#runtimeCreate', 'create with an invalid ID (../conformance-escape) MUST generate an error and create nothing', 'invalidId'),
    refusedCreate('config.md#configRoot', 'a directory MUST exist at root.path: create fails without one', 'missingRoot'),
    refusedCreate('runtime.md#runtimeCreate', 'a property that cannot be applied (bind mount of a missing source) MUST generate an error and create nothing', 'missingMountSource'),
    refusedCreate('config.md#configPOSIXProcess', 'rlimits with duplicated entries of the same type MUST generate an error', 'duplicateRlimit'),
    refusedCreate('config.md#configPOSIXProcess', 'an rlimit type that cannot be mapped to a kernel interface MUST generate an error', 'unknownRlimit'),
    refusedCreate('config-linux.md#configLinuxNamespaces', 'duplicated namespaces of the same type MUST generate an error', 'duplicateNamespace'),
    refusedCreate('config.md#valid-values', 'an invalid value (namespace type "conformance") MUST generate an error', 'unknownNamespace'),
    refusedCreate('config.md#configProcess', 'process.cwd MUST be an absolute path: a relative one is refused', 'relativeCwd'),
    refusedCreate('config-linux.md#configLinuxDevices', 'a file at a device path that does not match the device MUST generate an error', 'deviceOverFile', {
      runc: 'runc 1.1.5 replaces the file with the device node',
      ocits: 'ocits follows runc, the reference, and replaces the file with the device node',
    }),
    {
      section: 'runtime.md#runtimeErrors',
      requirement: 'a create that generated an error leaves things as if never attempted: its id is free',
      check(o) {
        if (o.reuse.status !== 0) return `create with the id of a refused create exited ${o.reuse.status}: ${o.reuse.stderr.trim()}`;
        return o.reuseState?.status === 'created' ? undefined : `state: ${JSON.stringify(o.reuseState)}`;
      },
    },
    {
      section: 'runtime.md#runtimeStart',
      requirement: 'start MUST generate an error if process was not set',
      check(o) {
        if (o.noProcessCreate.status !== 0) return undefined;
        return o.noProcessStart.status === 0 ? 'create and start of a config without process both exited 0' : undefined;
      },
    },
    {
      section: 'config.md#configExtensibility',
      requirement: 'runtimes MUST ignore unknown properties',
      check(o) {
        if (o.extended.error) return o.extended.error;
        return o.extended.stdout === 'extended\n' ? undefined : `the program printed ${JSON.stringify(o.extended.stdout)}`;
      },
    },
  ],
};

module.exports = { groups: [errors] };
