// linux.sysctl with real containers: namespaced keys are written inside the
// container's namespaces (the host keeps its values), anything else is
// refused before a container exists.
import * as fs from 'node:fs';
import { Runtime, busyboxBundle } from '../helpers/busybox';

const runtime = new Runtime();
afterAll(() => runtime.cleanUp());

let counter = 0;
const nextId = (): string => `c${process.pid}-${++counter}`;

function runWith(script: string, sysctl: Record<string, string>, change: (config: Record<string, any>) => void = () => {}) {
  const bundle = busyboxBundle((config) => {
    config.process.args = ['sh', '-c', script];
    config.linux.sysctl = sysctl;
    change(config);
  });
  const id = nextId();
  return { ...runtime.run(['run', '--bundle', bundle, id]), id };
}

describe('linux.sysctl', () => {
  it('writes ipc, network and uts keys inside the container, though /proc/sys is read-only there', () => {
    const hostShmmax = fs.readFileSync('/proc/sys/kernel/shmmax', 'utf8');
    const { stdout, stderr, status } = runWith(
      'cat /proc/sys/kernel/shmmax /proc/sys/kernel/msgmax /proc/sys/fs/mqueue/msg_max /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/domainname; grep " /proc/sys " /proc/self/mountinfo | grep -c " ro,"',
      {
        'kernel.shmmax': '12345678',
        'kernel.msgmax': '4321',
        'fs.mqueue.msg_max': '42',
        'net.ipv4.ip_forward': '1',
        'kernel.domainname': 'example.test',
      },
    );
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toBe('12345678\n4321\n42\n1\nexample.test\n1\n');
    expect(fs.readFileSync('/proc/sys/kernel/shmmax', 'utf8')).toBe(hostShmmax);
  });

  const refusals: Array<[string, Record<string, string>, (config: Record<string, any>) => void, string]> = [
    ['a key no namespace holds', { 'kernel.pid_max': '4096' }, () => {}, 'sysctl kernel.pid_max is not in a separate kernel namespace'],
    ['a network key without a network namespace', { 'net.ipv4.ip_forward': '1' },
      (config) => {
        config.linux.namespaces = config.linux.namespaces.filter((ns: { type: string }) => ns.type !== 'network');
      },
      'sysctl net.ipv4.ip_forward is not allowed in the host network namespace'],
    ['an ipc key without an ipc namespace', { 'kernel.shmmax': '1' },
      (config) => {
        config.linux.namespaces = config.linux.namespaces.filter((ns: { type: string }) => ns.type !== 'ipc');
      },
      'sysctl kernel.shmmax is not allowed in the host ipc namespace'],
    ['kernel.hostname, which /hostname sets', { 'kernel.hostname': 'x' }, () => {},
      'sysctl kernel.hostname is not allowed: it conflicts with the /hostname field'],
    ['kernel.domainname without a uts namespace', { 'kernel.domainname': 'x' },
      (config) => {
        config.linux.namespaces = config.linux.namespaces.filter((ns: { type: string }) => ns.type !== 'uts');
        delete config.hostname;
      },
      'sysctl kernel.domainname is not in a separate kernel namespace'],
  ];

  it.each(refusals)('refuses %s, naming the key', (_, sysctl, change, message) => {
    const key = Object.keys(sysctl)[0];
    const { stderr, status, id } = runWith('true', sysctl, change);
    expect(status).toBe(1);
    expect(stderr).toBe(`ocits: /linux/sysctl/${key}: ${message}\n`);
    expect(runtime.run(['state', id]).status).toBe(1);
  });

  it('refuses a key that is not a sysctl name', () => {
    const { stderr, status } = runWith('true', { 'net/../../kernel/pid_max': '1' });
    expect(status).toBe(1);
    expect(stderr).toBe('ocits: /linux/sysctl/net/../../kernel/pid_max: not a sysctl name\n');
  });

  it('names the key when the kernel refuses its value', () => {
    const { stderr, status, id } = runWith('true', { 'net.ipv4.ip_forward': 'not-a-number' });
    expect(status).toBe(1);
    expect(runtime.run(['state', id]).status).toBe(1);
    expect(stderr).toBe('ocits: container init failed: sysctl /linux/sysctl/net.ipv4.ip_forward: invalid argument\n');
  });
});
