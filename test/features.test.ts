import { spawnSync } from 'node:child_process';
import { addon } from '../src/addon';
import { schemaProblems } from '../src/spec/schema';
import { ocits } from './helpers/cli';

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

  it('claims nothing this commit cannot do: no container runs yet', () => {
    expect(document.hooks).toEqual([]);
    expect(document.mountOptions).toEqual([]);
    expect(document.linux.namespaces).toEqual(['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts']);
    // cgroupfs on v1, v2 and hybrid hosts; no systemd driver.
    expect(document.linux.cgroup).toEqual({ v1: true, v2: true, systemd: false, systemdUser: false, rdma: true });
  });
});
