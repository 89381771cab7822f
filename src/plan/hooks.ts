// The hooks that run inside the container (createContainer and
// startContainer), which the init process forks (addon/init/hooks.cc).
import type { Hook } from '../spec/types';

export interface InitHook {
  path: string;
  args: string[];
  env: string[];
  timeout: number;
}

// runc gives a hook without env its own environment; here that is the
// container process's, which is what a hook inside the container expects.
export function planHooks(hooks: Hook[] | undefined, processEnv: string[]): InitHook[] {
  return (hooks ?? []).map((hook) => ({
    path: hook.path,
    args: hook.args ?? [hook.path],
    env: hook.env ?? processEnv,
    timeout: hook.timeout ?? 0,
  }));
}

