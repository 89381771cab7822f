// AppArmor and SELinux settings. This host has neither module enabled, so
// what runs here is the refusal: each field, and exec's flags, fail with a
// message naming them before anything is made. The enabled path (writes to
// /proc/self/attr before execve) is not exercised on this host.
import * as fs from 'node:fs';
import { apparmorEnabled, selinuxEnabled } from '../../src/plan/host';
import { labelMountData } from '../../src/plan/lsm';
import { Runtime, busyboxBundle } from '../helpers/busybox';

const runtime = new Runtime();
afterAll(() => runtime.cleanUp());

let counter = 0;
const nextId = (): string => `c${process.pid}-${++counter}`;

const withoutAppArmor = apparmorEnabled() ? it.skip : it;
const withoutSelinux = selinuxEnabled() ? it.skip : it;

function expectRefusedCreate(change: (config: Record<string, any>) => void, message: string): void {
  const bundle = busyboxBundle(change);
  const id = nextId();
  const { stderr, status } = runtime.run(['create', '--bundle', bundle, id]);
  expect(stderr).toBe(`ocits: ${message}\n`);
  expect(status).toBe(1);
  expect(runtime.run(['state', id]).status).toBe(1);
}

describe('on a host without AppArmor and SELinux', () => {
  withoutAppArmor('refuses process.apparmorProfile', () => {
    expectRefusedCreate((config) => {
      config.process.apparmorProfile = 'docker-default';
    }, '/process/apparmorProfile: AppArmor is not enabled on this host');
  });

  withoutSelinux('refuses process.selinuxLabel', () => {
    expectRefusedCreate((config) => {
      config.process.selinuxLabel = 'system_u:system_r:container_t:s0';
    }, '/process/selinuxLabel: SELinux is not enabled on this host');
  });

  withoutSelinux('refuses linux.mountLabel', () => {
    expectRefusedCreate((config) => {
      config.linux.mountLabel = 'system_u:object_r:container_file_t:s0';
    }, '/linux/mountLabel: SELinux is not enabled on this host');
  });

  it('runs a container whose profile and labels are empty strings, as runc does', () => {
    const bundle = busyboxBundle((config) => {
      config.process.args = ['true'];
      config.process.apparmorProfile = '';
      config.process.selinuxLabel = '';
      config.linux.mountLabel = '';
    });
    const { stderr, status } = runtime.run(['run', '--bundle', bundle, nextId()]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
  });

  describe('exec', () => {
    const id = nextId();
    beforeAll(() => {
      const bundle = busyboxBundle((config) => {
        config.process.args = ['sleep', '60'];
      });
      runtime.ok(['run', '--detach', '--bundle', bundle, id]);
    });
    afterAll(() => runtime.run(['kill', id, 'KILL']));

    withoutAppArmor('refuses --apparmor', () => {
      const { stderr, status } = runtime.run(['exec', '--apparmor', 'docker-default', id, 'true']);
      expect(stderr).toBe('ocits: --apparmor: AppArmor is not enabled on this host\n');
      expect(status).toBe(1);
    });

    withoutSelinux('refuses --process-label', () => {
      const { stderr, status } = runtime.run(['exec', '--process-label', 'system_u:system_r:container_t:s0', id, 'true']);
      expect(stderr).toBe('ocits: --process-label: SELinux is not enabled on this host\n');
      expect(status).toBe(1);
    });

    withoutAppArmor('refuses a --process file with apparmorProfile', () => {
      const file = `${runtime.root}/process.json`;
      fs.writeFileSync(file, JSON.stringify({ args: ['true'], cwd: '/', apparmorProfile: 'p' }));
      const { stderr, status } = runtime.run(['exec', '--process', file, id]);
      expect(stderr).toBe('ocits: /process/apparmorProfile: AppArmor is not enabled on this host\n');
      expect(status).toBe(1);
    });
  });
});

describe('linux.mountLabel on filesystem mounts', () => {
  it('adds context= as runc\'s label.FormatMountLabel does, except where the filesystem takes none', () => {
    expect(labelMountData(null, 'tmpfs', 'l:a:b:s0')).toBe('context="l:a:b:s0"');
    expect(labelMountData('mode=755', 'tmpfs', 'l:a:b:s0')).toBe('mode=755,context="l:a:b:s0"');
    expect(labelMountData('newinstance', 'devpts', 'l:a:b:s0')).toBe('newinstance,context="l:a:b:s0"');
    expect(labelMountData(null, 'proc', 'l:a:b:s0')).toBeNull();
    expect(labelMountData(null, 'mqueue', 'l:a:b:s0')).toBeNull();
    expect(labelMountData('mode=755', 'tmpfs', null)).toBe('mode=755');
  });
});
