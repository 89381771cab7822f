// The container init's way into its namespaces (see NamespaceEntry, plan.h).
#pragma once
#include "plan.h"

namespace ocits::init {

// Joins, unshares and maps what plan.namespaces asks for. With fork_init it
// returns only in the forked init (the caller has told the parent its pid and
// exited); otherwise in the caller itself.
void EnterNamespaces(const Plan& plan);

}  // namespace ocits::init
