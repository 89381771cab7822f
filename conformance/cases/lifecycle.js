// The lifecycle of a container through create, start, kill and delete, and
// what each operation must refuse in the wrong state (runtime.md).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { makeBundle } = require('../lib/bundle');
const { stateProblem } = require('../lib/state');
const { waitUntil } = require('../lib/runtime');

/** A bind mount of a host directory, so the suite sees what the program does. */
function sharedDir(config, bundle) {
  const shared = path.join(bundle, 'shared');
  fs.mkdirSync(shared);
  fs.writeFileSync(path.join(shared, 'owned-by-the-caller'), 'kept');
  config.mounts.push({ destination: '/shared', type: 'bind', source: shared, options: ['rbind', 'rw'] });
  return shared;
}

const isProcess = (pid) => fs.existsSync(`/proc/${pid}`) && !/\) [ZX] /.test(readOr(`/proc/${pid}/stat`, ''));
function readLink(file) {
  try {
    return fs.readlinkSync(file);
  } catch {
    return '';
  }
}
function readOr(file, fallback) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

// The program traps SIGUSR1 to show that kill delivers the signal asked for.
const PROGRAM = [
  'touch /shared/started',
  "trap 'echo usr1 > /shared/signal; exit 3' USR1",
  'while true; do sleep 1 & wait $!; done',
].join('\n');

const lifecycle = {
  title: 'one container from create to delete',
  setup({ runtime, dir, id: makeId }) {
    const o = {};
    const id = makeId('life');
    let shared;
    const bundle = makeBundle(dir, 'bundle', (config, b) => {
      shared = sharedDir(config, b);
      config.process.args = ['sh', '-c', PROGRAM];
    });
    o.bundle = bundle;
    o.id = id;
    // A relative bundle path: the state must still give an absolute one.
    o.create = runtime.create(id, path.basename(bundle), { cwd: dir });
    runtime.ok('create', o.create);
    o.created = runtime.state(id);
    o.startedAfterCreate = fs.existsSync(path.join(shared, 'started'));
    o.cmdlineCreated = readOr(`/proc/${o.created.pid}/cmdline`, '');
    // What create applied, seen from the host through the container process.
    o.createdMounts = readOr(`/proc/${o.created.pid}/mountinfo`, '');
    o.createdNamespaces = ['pid', 'net', 'ipc', 'uts', 'mnt', 'cgroup'].map((ns) => [ns, readLink(`/proc/${o.created.pid}/ns/${ns}`), readLink(`/proc/self/ns/${ns}`)]);
    const config = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
    config.process.args = ['sh', '-c', 'touch /shared/modified'];
    fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(config));

    o.start = runtime.run(['start', id]);
    o.startedAfterStart = waitUntil(() => fs.existsSync(path.join(shared, 'started')), 10000);
    o.modified = fs.existsSync(path.join(shared, 'modified'));
    o.running = runtime.state(id);
    o.cmdlineRunning = readOr(`/proc/${o.running.pid}/cmdline`, '');

    o.startAgain = runtime.run(['start', id]);
    o.afterStartAgain = runtime.tryState(id);
    o.deleteRunning = runtime.run(['delete', id]);
    o.afterDeleteRunning = runtime.tryState(id);
    o.duplicateBundle = makeBundle(dir, 'duplicate', (c, b) => {
      c.process.args = ['sh', '-c', PROGRAM];
      sharedDir(c, b);
    });
    o.createDuplicate = runtime.create(id, o.duplicateBundle);
    o.afterDuplicate = runtime.tryState(id);

    o.kill = runtime.run(['kill', id, 'USR1']);
    o.stopped = runtime.waitForStatus(id, 'stopped');
    o.signal = readOr(path.join(shared, 'signal'), '').trim();
    o.runningPidAlive = isProcess(o.running.pid);

    o.startStopped = runtime.run(['start', id]);
    o.killStopped = runtime.run(['kill', id, 'KILL']);
    o.afterWrongOps = runtime.tryState(id);

    o.delete = runtime.run(['delete', id]);
    o.afterDelete = runtime.run(['state', id]);
    o.sharedKept = readOr(path.join(shared, 'owned-by-the-caller'), '');
    o.bundleKept = fs.existsSync(path.join(bundle, 'config.json')) && fs.existsSync(path.join(bundle, 'rootfs', 'bin', 'busybox'));
    return o;
  },
  cases: [
    {
      section: 'runtime.md#runtimeCreate',
      requirement: 'create MUST create a new container, in state created',
      check: (o) => stateProblem(o.created, { id: o.id, status: 'created' }),
    },
    {
      section: 'runtime.md#runtimeState',
      requirement: 'the state of a created container has its pid, the container process as the runtime sees it',
      check(o) {
        if (!Number.isInteger(o.created.pid) || o.created.pid <= 0) return `pid is ${o.created.pid}`;
        if (o.cmdlineCreated === '') return `no process ${o.created.pid} on the host`;
        return undefined;
      },
    },
    {
      section: 'runtime.md#runtimeState',
      requirement: 'bundle is the absolute path to the bundle, even when create was given a relative one',
      check: (o) => stateProblem(o.created, { bundle: o.bundle }),
    },
    {
      section: 'runtime.md#runtimeCreate',
      requirement: 'create MUST apply the properties of config.json other than process: namespaces and mounts exist before start',
      check(o) {
        for (const [ns, container, ours] of o.createdNamespaces) {
          if (container === '' || container === ours) return `the created container process is in ${ns} namespace ${container || 'none'}, ours is ${ours}`;
        }
        return / \/shared /.test(o.createdMounts) ? undefined : 'the created container process has no /shared mount yet';
      },
    },
    {
      section: 'runtime.md#runtimeCreate',
      requirement: 'process.args MUST NOT be applied until start',
      check: (o) => (o.startedAfterCreate ? 'the program ran before start' : undefined),
    },
    {
      section: 'runtime.md#runtimeStart',
      requirement: 'start MUST run the user-specified program',
      check(o) {
        if (o.start.status !== 0) return `start exited ${o.start.status}: ${o.start.stderr.trim()}`;
        return o.startedAfterStart ? undefined : 'the program did not run';
      },
    },
    {
      section: 'runtime.md#runtimeLifecycle',
      requirement: 'updates to config.json after create MUST NOT affect the container',
      check: (o) => (o.modified ? 'start ran the args written to config.json after create' : undefined),
    },
    {
      section: 'runtime.md#runtimeState',
      requirement: 'a started container is running, with the pid of the process running the program',
      check(o) {
        const problem = stateProblem(o.running, { id: o.id, status: 'running', bundle: o.bundle });
        if (problem) return problem;
        if (!o.cmdlineRunning.startsWith('sh\0-c\0')) return `pid ${o.running.pid} runs ${JSON.stringify(o.cmdlineRunning)}`;
        return undefined;
      },
    },
    {
      section: 'runtime.md#runtimeStart',
      requirement: 'start of a container that is not created MUST generate an error and have no effect (running)',
      check(o) {
        if (o.startAgain.status === 0) return 'a second start exited 0';
        if (o.afterStartAgain?.status !== 'running' || o.afterStartAgain.pid !== o.running.pid) return `state changed: ${JSON.stringify(o.afterStartAgain)}`;
        return undefined;
      },
    },
    {
      section: 'runtime.md#runtimeDelete',
      requirement: 'delete of a container that is not stopped MUST generate an error and have no effect (running)',
      check(o) {
        if (o.deleteRunning.status === 0) return 'delete of a running container exited 0';
        if (o.afterDeleteRunning?.status !== 'running' || o.afterDeleteRunning.pid !== o.running.pid) return `state changed: ${JSON.stringify(o.afterDeleteRunning)}`;
        return undefined;
      },
    },
    {
      section: 'runtime.md#runtimeCreate',
      requirement: 'create with an id already in use MUST generate an error and not create a container',
      check(o) {
        if (o.createDuplicate.status === 0) return 'create with a duplicate id exited 0';
        if (o.afterDuplicate?.pid !== o.running.pid || o.afterDuplicate.bundle !== o.bundle) return `the first container changed: ${JSON.stringify(o.afterDuplicate)}`;
        return undefined;
      },
    },
    {
      section: 'runtime.md#runtimeKill',
      requirement: 'kill MUST send the specified signal to the container process',
      check(o) {
        if (o.kill.status !== 0) return `kill exited ${o.kill.status}: ${o.kill.stderr.trim()}`;
        return o.signal === 'usr1' ? undefined : `the program's USR1 trap did not run (${JSON.stringify(o.signal)})`;
      },
    },
    {
      section: 'runtime.md#runtimeState',
      requirement: 'a container whose process exited is stopped',
      check(o) {
        const problem = stateProblem(o.stopped, { id: o.id, status: 'stopped', bundle: o.bundle });
        if (problem) return problem;
        return o.runningPidAlive ? `process ${o.running.pid} still runs` : undefined;
      },
    },
    {
      section: 'runtime.md#runtimeStart',
      requirement: 'start of a stopped container MUST generate an error and have no effect',
      check(o) {
        if (o.startStopped.status === 0) return 'start of a stopped container exited 0';
        return o.afterWrongOps?.status === 'stopped' ? undefined : `state changed: ${JSON.stringify(o.afterWrongOps)}`;
      },
    },
    {
      section: 'runtime.md#runtimeKill',
      requirement: 'kill of a container neither created nor running MUST generate an error and have no effect',
      check(o) {
        if (o.killStopped.status === 0) return 'kill of a stopped container exited 0';
        return o.afterWrongOps?.status === 'stopped' ? undefined : `state changed: ${JSON.stringify(o.afterWrongOps)}`;
      },
    },
    {
      section: 'runtime.md#runtimeDelete',
      requirement: 'delete of a stopped container deletes what create made: the container is gone',
      check(o) {
        if (o.delete.status !== 0) return `delete exited ${o.delete.status}: ${o.delete.stderr.trim()}`;
        return o.afterDelete.status === 0 ? `state still answers: ${o.afterDelete.stdout}` : undefined;
      },
    },
    {
      section: 'runtime.md#runtimeDelete',
      requirement: 'resources not created by the container (bundle, bind-mount sources) MUST NOT be deleted',
      check(o) {
        if (o.sharedKept !== 'kept') return 'the bind mount source lost its file';
        return o.bundleKept ? undefined : 'the bundle lost config.json or its rootfs';
      },
    },
  ],
};

const createdContainers = {
  title: 'created containers: delete without force, kill',
  setup({ runtime, dir, id: makeId }) {
    const o = {};
    const bundle = makeBundle(dir, 'bundle', (config) => {
      config.process.args = ['sh', '-c', 'sleep 100'];
    });
    const deleted = makeId('delete-created');
    runtime.ok('create', runtime.create(deleted, bundle));
    o.created = runtime.state(deleted);
    o.deleteCreated = runtime.run(['delete', deleted]);
    o.afterDeleteCreated = runtime.tryState(deleted);

    const killed = makeId('kill-created');
    runtime.ok('create', runtime.create(killed, bundle));
    o.kill = runtime.run(['kill', killed, 'KILL']);
    o.stopped = runtime.waitForStatus(killed, 'stopped');
    runtime.ok('delete', runtime.run(['delete', killed]));
    return o;
  },
  cases: [
    {
      section: 'runtime.md#runtimeDelete',
      requirement: 'delete of a created container (not stopped) MUST generate an error and have no effect',
      deviations: {
        runc: 'runc 1.1.5 deletes a created container without --force: it kills and destroys it',
        ocits: 'ocits follows runc, the reference, and deletes a created container without --force',
      },
      check(o) {
        if (o.deleteCreated.status === 0) return `delete of a created container exited 0; state after: ${JSON.stringify(o.afterDeleteCreated)}`;
        if (o.afterDeleteCreated?.status !== 'created' || o.afterDeleteCreated.pid !== o.created.pid) return `state changed: ${JSON.stringify(o.afterDeleteCreated)}`;
        return undefined;
      },
    },
    {
      section: 'runtime.md#runtimeKill',
      requirement: 'kill MUST send the signal to a created container (SIGKILL stops it)',
      check(o) {
        if (o.kill.status !== 0) return `kill exited ${o.kill.status}: ${o.kill.stderr.trim()}`;
        return stateProblem(o.stopped, { status: 'stopped' });
      },
    },
  ],
};

module.exports = { groups: [lifecycle, createdContainers] };
