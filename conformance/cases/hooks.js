// POSIX-platform hooks (config.md#configHooks): when each kind runs, in
// which namespace, with which state on stdin, and what their failure does to
// the lifecycle (runtime.md#runtimeLifecycle).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { makeBundle, writeExecutable } = require('../lib/bundle');
const { stateProblem } = require('../lib/state');

// Records one call: NAME appended to DIR/order, and its stdin, mount
// namespace (and that of the state's pid), environment and argument in
// DIR/NAME.*. The same script runs on
// the host and, for startContainer, inside the container (busybox sh).
const RECORDER = `#!/bin/sh
name=$1
dir=$2
cat > "$dir/$name.state"
readlink /proc/self/ns/mnt > "$dir/$name.mnt"
pid=$(sed -n 's/.*"pid": *\\([0-9]*\\).*/\\1/p' "$dir/$name.state")
[ -n "$pid" ] && readlink "/proc/$pid/ns/mnt" > "$dir/$name.container-mnt"
echo "$CONFORMANCE_HOOK" > "$dir/$name.env"
echo "$3" > "$dir/$name.arg"
echo "$name" >> "$dir/order"
exit "\${4:-0}"
`;

const HOOK_ENV = (name) => ['PATH=/usr/bin:/bin', `CONFORMANCE_HOOK=env of ${name}`];

/** A hook entry running the recorder as NAME, exiting with `exitCode`. */
function recorder(script, name, dir, exitCode = 0) {
  return { path: script, args: [script, name, dir, `arg of ${name}`, String(exitCode)], env: HOOK_ENV(name) };
}

function readOr(file, fallback = '') {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

/** The hooks called so far, in order. */
const calls = (dir) => readOr(path.join(dir, 'order')).split('\n').filter((line) => line !== '');

/** Makes a bundle whose hooks record into bundle/hooklog, seen as /hooklog inside. */
function hookBundle(dir, name, hooks, program) {
  let log;
  let script;
  const bundle = makeBundle(dir, name, (config, b) => {
    log = path.join(b, 'hooklog');
    fs.mkdirSync(log);
    // On the host only, so that hooks whose path resolves in the runtime
    // namespace cannot be found in the container's root by mistake.
    script = path.join(dir, `${name}-record`);
    writeExecutable(script, RECORDER);
    // In the rootfs only: startContainer's path resolves in the container.
    writeExecutable(path.join(b, 'rootfs', 'conformance', 'record'), RECORDER);
    config.mounts.push({ destination: '/hooklog', type: 'bind', source: log, options: ['rbind', 'rw'] });
    config.process.args = ['sh', '-c', program];
    config.hooks = hooks({ host: (hook, code) => recorder(script, hook, log, code), container: (hook, code) => recorder('/conformance/record', hook, '/hooklog', code) });
  });
  return { bundle, log };
}

// Waits (at most 10 s) until poststart ran, so poststart sees it running.
const WAIT_FOR_POSTSTART = [
  'echo process >> /hooklog/order',
  'readlink /proc/self/ns/mnt > /hooklog/process.mnt',
  'i=0; while ! grep -q poststart /hooklog/order && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done',
].join('; ');

const KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'];

// runc 1.1.5 runs poststart hooks at the end of create (libcontainer's
// Start runs them for the init process), before the program is executed.
const RUNC_POSTSTART = 'runc 1.1.5 runs poststart hooks at the end of create, before start executes the program';
const STATUS_DEVIATIONS = { poststart: { runc: `${RUNC_POSTSTART}, so they see status created` } };

const allHooks = {
  title: 'all six kinds of hooks of one container',
  setup({ runtime, dir, id: makeId }) {
    const id = makeId('hooks');
    const { bundle, log } = hookBundle(
      dir,
      'hooks',
      ({ host, container }) => ({
        prestart: [host('prestart'), host('prestart-second')],
        createRuntime: [host('createRuntime')],
        createContainer: [host('createContainer')],
        startContainer: [container('startContainer')],
        poststart: [host('poststart')],
        poststop: [host('poststop')],
      }),
      WAIT_FOR_POSTSTART,
    );
    const o = { id, bundle };
    runtime.ok('create', runtime.create(id, bundle));
    o.afterCreate = calls(log);
    o.created = runtime.state(id);
    runtime.ok('start', runtime.run(['start', id]));
    o.afterStart = calls(log);
    runtime.waitForStatus(id, 'stopped');
    o.beforeDelete = calls(log);
    runtime.ok('delete', runtime.run(['delete', id]));
    o.afterDelete = calls(log);
    o.records = {};
    for (const name of [...KINDS, 'prestart-second']) {
      const text = readOr(path.join(log, `${name}.state`));
      let state;
      try {
        state = JSON.parse(text);
      } catch {
        state = undefined;
      }
      o.records[name] = {
        stdin: text,
        state,
        mnt: readOr(path.join(log, `${name}.mnt`)).trim(),
        containerMnt: readOr(path.join(log, `${name}.container-mnt`)).trim(),
        env: readOr(path.join(log, `${name}.env`)).trim(),
        arg: readOr(path.join(log, `${name}.arg`)).trim(),
      };
    }
    o.processMnt = readOr(path.join(log, 'process.mnt')).trim();
    o.runtimeMnt = fs.readlinkSync('/proc/self/ns/mnt');
    return o;
  },
  cases: [
    {
      section: 'config.md#configHooks',
      requirement: 'hooks MUST be called in the listed order',
      check(o) {
        const first = o.afterCreate.indexOf('prestart');
        const second = o.afterCreate.indexOf('prestart-second');
        return first >= 0 && second > first ? undefined : `calls: ${o.afterCreate.join(' ')}`;
      },
    },
    {
      section: 'config.md#configHooksPrestart',
      requirement: 'prestart hooks MUST be called as part of create, before the createRuntime hooks',
      check(o) {
        const i = o.afterCreate.indexOf('prestart-second');
        return i >= 0 && i < o.afterCreate.indexOf('createRuntime') ? undefined : `calls after create: ${o.afterCreate.join(' ')}`;
      },
    },
    {
      section: 'config.md#configHooksCreateRuntime',
      requirement: 'createRuntime hooks MUST be called as part of create',
      check: (o) => (o.afterCreate.includes('createRuntime') ? undefined : `calls after create: ${o.afterCreate.join(' ')}`),
    },
    {
      section: 'config.md#configHooksCreateContainer',
      requirement: 'createContainer hooks MUST be called as part of create, after the createRuntime hooks',
      check(o) {
        const i = o.afterCreate.indexOf('createContainer');
        return i >= 0 && i > o.afterCreate.indexOf('createRuntime') ? undefined : `calls after create: ${o.afterCreate.join(' ')}`;
      },
    },
    {
      section: 'config.md#configHooksStartContainer',
      requirement: 'startContainer hooks MUST be called as part of start, before the user-specified process',
      check(o) {
        if (o.afterCreate.includes('startContainer')) return 'called during create';
        if (!o.afterStart.includes('startContainer')) return `calls when start returned: ${o.afterStart.join(' ')}`;
        // The program records itself when it runs, which may be after start returned.
        const i = o.beforeDelete.indexOf('startContainer');
        return i < o.beforeDelete.indexOf('process') ? undefined : `calls: ${o.beforeDelete.join(' ')}`;
      },
    },
    {
      section: 'config.md#configHooksPoststart',
      requirement: 'poststart hooks MUST be called after the process is executed, before start returns',
      deviations: { runc: RUNC_POSTSTART },
      check(o) {
        if (o.afterCreate.includes('poststart')) return 'called during create';
        return o.afterStart.includes('poststart') ? undefined : `calls when start returned: ${o.afterStart.join(' ')}`;
      },
    },
    {
      section: 'config.md#configHooksPoststop',
      requirement: 'poststop hooks MUST be called after the container is deleted, before delete returns',
      check(o) {
        if (o.beforeDelete.includes('poststop')) return 'called before delete';
        return o.afterDelete.includes('poststop') ? undefined : `calls when delete returned: ${o.afterDelete.join(' ')}`;
      },
    },
    {
      section: 'config.md#configHooks',
      requirement: 'the state of the container MUST be passed to every hook over stdin',
      check(o) {
        for (const kind of KINDS) {
          const { stdin, state } = o.records[kind];
          if (state === undefined) return `${kind} read ${JSON.stringify(stdin)}`;
          const problem = stateProblem(state, { id: o.id, bundle: o.bundle });
          if (problem) return `${kind}: ${problem}`;
        }
        return undefined;
      },
    },
    ...[
      ['prestart', 'creating', 'configHooksPrestart'],
      ['createRuntime', 'creating', 'configHooksCreateRuntime'],
      ['createContainer', 'creating', 'configHooksCreateContainer'],
      ['startContainer', 'created', 'configHooksStartContainer'],
      ['poststart', 'running', 'configHooksPoststart'],
      ['poststop', 'stopped', 'configHooksPoststop'],
    ].map(([kind, status, anchor]) => ({
      section: `config.md#${anchor}`,
      requirement: `${kind} hooks get the state with status ${status} (runtime.md#runtimeState)`,
      deviations: STATUS_DEVIATIONS[kind],
      check(o) {
        const seen = o.records[kind].state?.status;
        return seen === status ? undefined : `status ${seen}`;
      },
    })),
    ...['prestart', 'createRuntime', 'poststart'].map((kind) => ({
      section: 'runtime.md#runtimeState',
      requirement: `${kind} hooks (runtime namespace) get the pid as the runtime sees it`,
      check(o) {
        const seen = o.records[kind].state?.pid;
        return seen === o.created.pid ? undefined : `pid ${seen}, the state said ${o.created.pid}`;
      },
    })),
    ...['createContainer', 'startContainer'].map((kind) => ({
      section: 'runtime.md#runtimeState',
      requirement: `${kind} hooks (container namespace) get the pid as the container sees it`,
      check(o) {
        const seen = o.records[kind].state?.pid;
        return seen === 1 ? undefined : `pid ${seen}, the container process is pid 1 in its namespace`;
      },
    })),
    ...[
      ['prestart', 'configHooksPrestart'],
      ['createRuntime', 'configHooksCreateRuntime'],
      ['poststart', 'configHooksPoststart'],
      ['poststop', 'configHooksPoststop'],
    ].map(([kind, anchor]) => ({
      section: `config.md#${anchor}`,
      requirement: `${kind} hooks MUST be executed in the runtime namespace`,
      check: (o) => (o.records[kind].mnt === o.runtimeMnt ? undefined : `mount namespace ${o.records[kind].mnt}, the runtime's is ${o.runtimeMnt}`),
    })),
    ...[
      ['prestart', 'configHooksPrestart'],
      ['createRuntime', 'configHooksCreateRuntime'],
    ].map(([kind, anchor]) => ({
      section: `config.md#${anchor}`,
      requirement: `${kind} hooks MUST be called after the runtime environment has been created`,
      check(o) {
        const seen = o.records[kind].containerMnt;
        return seen !== '' && seen === o.processMnt ? undefined : `the state's pid was in mount namespace ${seen || 'none'}, the program runs in ${o.processMnt}`;
      },
    })),
    {
      section: 'config.md#configHooksCreateContainer',
      requirement: "createContainer hooks' path MUST resolve in the runtime namespace and run in the container namespace",
      check: (o) => (o.records.createContainer.mnt === o.processMnt ? undefined : `mount namespace ${o.records.createContainer.mnt || 'none'}, the container's is ${o.processMnt}`),
    },
    {
      section: 'config.md#configHooksStartContainer',
      requirement: "startContainer hooks' path MUST resolve in the container namespace and run there",
      check: (o) => (o.records.startContainer.mnt === o.processMnt ? undefined : `mount namespace ${o.records.startContainer.mnt || 'none'}, the container's is ${o.processMnt}`),
    },
    {
      section: 'config.md#configHooks',
      requirement: 'hooks get their args and env as configured',
      check(o) {
        for (const kind of KINDS) {
          const { arg, env } = o.records[kind];
          if (arg !== `arg of ${kind}`) return `${kind} got argument ${JSON.stringify(arg)}`;
          if (env !== `env of ${kind}`) return `${kind} got CONFORMANCE_HOOK=${JSON.stringify(env)}`;
        }
        return undefined;
      },
    },
  ],
};

/** Creates (and starts, unless create failed) ID; records what happened. */
function failingLifecycle(runtime, dir, id, hooks, program = 'true') {
  const { bundle, log } = hookBundle(dir, id, hooks, program);
  const o = { create: runtime.create(id, bundle) };
  o.afterCreate = runtime.tryState(id);
  if (o.create.status === 0) {
    o.start = runtime.run(['start', id]);
    o.afterStart = runtime.tryState(id);
  }
  o.calls = calls(log);
  o.log = log;
  return o;
}

const failures = {
  title: 'hooks that fail or time out',
  setup({ runtime, dir, id: makeId }) {
    const o = {};
    o.prestart = failingLifecycle(runtime, dir, makeId('fail-prestart'), ({ host }) => ({
      prestart: [host('prestart', 1)],
      poststop: [host('poststop')],
    }));
    o.startContainer = failingLifecycle(
      runtime,
      dir,
      makeId('fail-startcontainer'),
      ({ host, container }) => ({ startContainer: [container('startContainer', 1)], poststop: [host('poststop')] }),
      'echo process >> /hooklog/order',
    );
    o.poststart = failingLifecycle(runtime, dir, makeId('fail-poststart'), ({ host }) => ({ poststart: [host('poststart', 1)] }), 'sleep 100');

    const id = makeId('fail-poststop');
    const { bundle, log } = hookBundle(dir, 'fail-poststop', ({ host }) => ({ poststop: [host('poststop', 1), host('poststop-second')] }), 'true');
    runtime.ok('create', runtime.create(id, bundle));
    runtime.ok('start', runtime.run(['start', id]));
    runtime.waitForStatus(id, 'stopped');
    o.poststop = { delete: runtime.run(['delete', id]) };
    o.poststop.after = runtime.tryState(id);
    o.poststop.calls = calls(log);

    const timeoutId = makeId('timeout');
    const slow = makeBundle(dir, 'timeout', (config) => {
      config.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', 'sleep 5'], timeout: 1 }] };
    });
    o.timeout = { create: runtime.create(timeoutId, slow) };
    o.timeout.after = runtime.tryState(timeoutId);
    return o;
  },
  cases: [
    {
      section: 'runtime.md#runtimeLifecycle',
      requirement: 'a failing prestart hook: create MUST generate an error and the container is destroyed',
      check(o) {
        const { create, afterCreate } = o.prestart;
        if (create.status === 0) return 'create exited 0';
        return afterCreate === undefined ? undefined : `the container is left: ${JSON.stringify(afterCreate)}`;
      },
    },
    {
      section: 'runtime.md#runtimeLifecycle',
      requirement: 'a failing prestart hook: the lifecycle continues at step 12, so poststop hooks run',
      check: (o) => (o.prestart.calls.includes('poststop') ? undefined : `calls: ${o.prestart.calls.join(' ')}`),
    },
    {
      section: 'runtime.md#runtimeLifecycle',
      requirement: 'a failing startContainer hook: start MUST generate an error and the program does not run',
      deviations: { runc: 'runc 1.1.5 runs startContainer hooks in its init process after start returned 0 (the program does not run)' },
      check(o) {
        const { create, start, calls: seen } = o.startContainer;
        if (create.status !== 0) return `create exited ${create.status}: ${create.stderr.trim()}`;
        if (start.status === 0) return 'start exited 0';
        return seen.includes('process') ? 'the program ran' : undefined;
      },
    },
    {
      section: 'runtime.md#runtimeLifecycle',
      requirement: 'a failing startContainer hook: the container is stopped (and destroyed)',
      check(o) {
        const { afterStart } = o.startContainer;
        return afterStart === undefined || afterStart.status === 'stopped' ? undefined : `state after start: ${JSON.stringify(afterStart)}`;
      },
    },
    {
      section: 'runtime.md#runtimeLifecycle',
      requirement: 'a failing poststart hook MUST generate an error and the container is stopped (and destroyed)',
      check(o) {
        const { create, start, afterCreate, afterStart } = o.poststart;
        const failed = create.status !== 0 || start.status !== 0;
        if (!failed) return 'create and start exited 0';
        const after = afterStart ?? (create.status === 0 ? undefined : afterCreate);
        return after === undefined || after.status === 'stopped' ? undefined : `state after: ${JSON.stringify(after)}`;
      },
    },
    {
      section: 'runtime.md#runtimeLifecycle',
      requirement: 'a failing poststop hook is only a warning: delete succeeds and later poststop hooks run',
      deviations: { runc: 'runc 1.1.5 stops at the first failing poststop hook (delete still succeeds)' },
      check(o) {
        const { delete: result, after, calls: seen } = o.poststop;
        if (result.status !== 0) return `delete exited ${result.status}: ${result.stderr.trim()}`;
        if (after !== undefined) return `the container is left: ${JSON.stringify(after)}`;
        return seen.join(' ') === 'poststop poststop-second' ? undefined : `calls: ${seen.join(' ')}`;
      },
    },
    {
      section: 'config.md#configHooks',
      requirement: 'a hook that outlives its timeout fails: create MUST generate an error and leave no container',
      check(o) {
        const { create, after } = o.timeout;
        if (create.status === 0) return 'create exited 0';
        return after === undefined ? undefined : `the container is left: ${JSON.stringify(after)}`;
      },
    },
  ],
};

module.exports = { groups: [allHooks, failures] };
