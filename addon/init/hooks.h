// Hooks that run in the container's namespaces (createContainer,
// startContainer): forked from the init child with argv and env built before
// clone, fed the state JSON on stdin, killed at their timeout.
#pragma once
#include <stddef.h>

#include "plan.h"

namespace ocits::init {

// Runs each hook in order. On the first failure, fills detail (hook path,
// then why, in the words src/lifecycle/hooks.ts uses for the runtime's hooks:
// "exit status N", "killed by SIGTERM", "timed out after N s", "cannot
// execute it", then the last three lines of its output), sets *error to the
// errno of an execve that failed (else 0) and returns the hook's index;
// returns -1 when all succeeded.
int RunContainerHooks(const HookCommand* hooks, size_t count, const char* state, char* detail, size_t capacity,
                      int* error);

}  // namespace ocits::init
