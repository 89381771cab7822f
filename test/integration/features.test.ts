import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { addon } from '../../src/addon';
import { schemaProblems } from '../../src/spec/schema';
import { ocits } from '../helpers/cli';

describe('ocits features', () => {
  const result = ocits(['features']);
  const document = JSON.parse(result.stdout);

  it('prints a features document that passes the schema', () => {
    expect(result.status).toBe(0);
    expect(schemaProblems('features', document)).toEqual([]);
    expect(document.ociVersionMin).toBe('1.0.0');
    expect(document.ociVersionMax).toBe('1.3.0');
  });

  it('names the libseccomp the addon links', () => {
    expect(document.annotations['io.github.seccomp.libseccomp.version']).toBe(addon().seccompVersion());
    const runc = spawnSync('runc', ['--version'], { encoding: 'utf8' });
    // Debian's runc links the same system libseccomp.
    if (runc.status === 0) expect(runc.stdout).toContain(`libseccomp: ${addon().seccompVersion()}`);
  });

  it('claims what works at this commit, and nothing more', () => {
    expect(document.hooks).toEqual(['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
    expect(document.linux.namespaces).toEqual(['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts']);
    // cgroupfs on v1, v2 and hybrid hosts; the systemd driver where systemd is init (not here).
    const systemd = fs.existsSync('/run/systemd/system');
    const userSystemd = systemd && fs.existsSync('/sys/fs/cgroup/cgroup.controllers');
    expect(document.linux.cgroup).toEqual({ v1: true, v2: true, systemd, systemdUser: userSystemd, rdma: true });
    expect(document.linux.mountExtensions).toEqual({ idmap: { enabled: true } });
    expect(document.linux.intelRdt).toEqual({ enabled: false });
  });

  it('lists AppArmor and SELinux as the host has them', () => {
    const apparmor = fs.existsSync('/sys/module/apparmor/parameters/enabled') &&
      fs.readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').startsWith('Y');
    expect(document.linux.apparmor).toEqual({ enabled: apparmor });
    expect(document.linux.selinux).toEqual({ enabled: fs.existsSync('/sys/fs/selinux/enforce') });
  });

  // runc 1.1.5 on this machine is the reference for the names and their order.
  const runc = spawnSync('runc', ['features'], { encoding: 'utf8' });
  const runcDocument = runc.status === 0 ? JSON.parse(runc.stdout) : undefined;
  const withRunc = runcDocument !== undefined ? it : it.skip;

  withRunc('lists the capabilities runc knows, in the same order', () => {
    expect(document.linux.capabilities).toEqual(runcDocument.linux.capabilities);
  });

  withRunc('lists runc\'s mount options, sorted, but the acl flags, plus the spec\'s idmap and ridmap', () => {
    const expected = [...runcDocument.mountOptions.filter((name: string) => !['acl', 'noacl'].includes(name)), 'idmap', 'ridmap'].sort();
    expect(document.mountOptions).toEqual(expected);
  });
});
