// The hooks that run inside the container (createContainer and
// startContainer), which the init process forks (addon/init/hooks.cc).
import type { HookCommand } from '../addon-plan';
import type { Hook } from '../spec/types';

// runc gives a hook without env its own environment; here that is the
// container process's, which is what a hook inside the container expects.
export function planHooks(hooks: Hook[] | undefined, processEnv: string[]): HookCommand[] {
  return (hooks ?? []).map((hook) => ({
    path: hook.path,
    args: hook.args ?? [hook.path],
    env: hook.env ?? processEnv,
    timeout: hook.timeout ?? 0,
  }));
}

