// tmpcopyup: filling a new tmpfs with what the directory it covers held.
#pragma once

namespace ocits::init {

// Copies the tree below the open directory `from` into the open directory
// `to`: directories, regular files, symlinks and other nodes, with their
// modes, owners and times, then gives `to` the mode and owner of `from`.
// Async-signal-safe (no allocation). Returns 0 or -errno.
int CopyTree(int from, int to);

}  // namespace ocits::init
