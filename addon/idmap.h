// Idmapped bind mounts need a user namespace that carries the mount's
// mapping (its own, or the container's user namespace mapping). The parent
// makes one per mount before the container init is cloned (or, for a user
// namespace the container joins by path, copies that one's fd); the init, still
// root in the runtime's user and mount namespaces, clones the source
// (open_tree), applies the mapping (mount_setattr MOUNT_ATTR_IDMAP) and,
// once its mounts are under way, moves the clone into place. Only the
// namespace fd crosses clone().
#pragma once
#include <string>
#include <vector>

namespace ocits {

// A user namespace with these uid_map and gid_map contents, as an fd
// (close-on-exec), or -1 with *failure saying which call failed.
int OpenUserNamespace(const char* uid_map, const char* gid_map, std::string* failure);

// The namespaces of one create; closed when it goes out of scope (the child
// has its own copies by then).
class MountNamespaceFds {
 public:
  MountNamespaceFds() = default;
  MountNamespaceFds(const MountNamespaceFds&) = delete;
  MountNamespaceFds& operator=(const MountNamespaceFds&) = delete;
  ~MountNamespaceFds();
  std::vector<int> fds;
};

}  // namespace ocits
