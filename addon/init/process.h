// The container process itself: its terminal, limits, credentials and
// capabilities, and finally the execve of the user's program. The container
// init and `exec` both prepare their process with these.
#pragma once
#include <stddef.h>

#include "plan.h"

namespace ocits::init {

// Everything the process spec asks for, in runc's order: terminal, rlimits,
// no_new_privs, bounding set, user and groups, capabilities, umask, cwd.
// Returns argv[0] found as execvp would, using the process's PATH; the result
// stays valid until exec. Failures go to socket as the step that failed. A
// credential change clears the parent-death signal: keep_parent_death_signal
// sets it again (the init, whose parent still waits for it).
const char* PrepareProcess(const ProcessPlan& process, int socket, bool keep_parent_death_signal);
// Signal dispositions and mask back to defaults: Node's (ignored SIGPIPE,
// handlers) must not leak into the container.
void ResetSignals();
// close_range(2) over every fd from 3 up but those in keep (any order; -1 is none).
void CloseFdsExcept(const int* keep, size_t count);
// The same from first up, keeping those in keep and in more: fds
// 3 .. first-1 are passed to the process.
void CloseFdsFrom(int first, const int* keep, size_t count, const int* more = nullptr, size_t more_count = 0);
// Clears close-on-exec on fds 3 .. 3+count-1 (LISTEN_FDS and --preserve-fds),
// which the process inherits as they are.
void PassFds(int count);
// Node may have left our stdio non-blocking or close-on-exec; the user
// process expects plain, blocking stdio.
void MakeStdioPlain();

}  // namespace ocits::init
