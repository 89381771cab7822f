// The container process itself: its terminal, limits, credentials and
// capabilities, and finally the execve of the user's program.
#pragma once
#include "plan.h"

namespace ocits::init {

void SetUpConsole(const Plan& plan);
void ApplyRlimits(const Plan& plan);
void ApplyNoNewPrivileges(const Plan& plan);
// Drops the bounding set, switches to the container user keeping the
// capabilities the config grants, then sets the other sets.
void SwitchUserAndCapabilities(const Plan& plan);
void EnterCwd(const Plan& plan);
// Finds argv[0] as execvp would, using the container's PATH; the result stays
// valid until exec.
const char* FindExecutable(const Plan& plan);
// Signal dispositions and mask back to defaults: Node's (ignored SIGPIPE,
// handlers) must not leak into the container.
void ResetSignals();

}  // namespace ocits::init
