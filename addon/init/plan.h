// The container-init plan in C form (src/addon-plan.ts declares it for
// TypeScript, under the same names). src/plan/ computes every path, flag and
// mask; spawn.cc copies that plan into these structures before clone(), so the
// child only ever reads memory that was complete before it existed.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

namespace ocits::init {

// Where the child was when it failed. The order is the wire format shared with
// src/plan/protocol.ts (kStepNames is exported to it by name).
enum Step : int32_t {
  kStepSync,
  kStepCgroup,
  kStepCgroupNamespace,
  kStepHostname,
  kStepDomainname,
  kStepExecFifo,
  kStepRootPropagation,
  kStepRootfs,
  kStepMountTarget,
  kStepMount,
  kStepRemount,
  kStepPropagation,
  kStepCopyUp,
  kStepDevice,
  kStepSymlink,
  kStepCwd,
  kStepCreateContainerHook,
  kStepSysctl,
  kStepMaskedPath,
  kStepReadonlyPath,
  kStepPivotRoot,
  kStepReadonlyRoot,
  kStepConsole,
  kStepPersonality,
  kStepScheduler,
  kStepIoPriority,
  kStepRlimit,
  kStepNoNewPrivileges,
  kStepCapabilityBounding,
  kStepUser,
  kStepCapabilities,
  kStepSeccomp,
  kStepChdir,
  kStepFindExecutable,
  kStepStartContainerHook,
  kStepExec,
  kStepJoinNamespace,  // exec: setns into one of the container's namespaces
  kStepFork,           // exec: the fork that enters the pid namespace
  kStepOomScoreAdj,    // exec: the container's oom_score_adj
  kStepUserNamespace,  // unshare(CLONE_NEWUSER) and the wait for the id maps
  kStepUnshare,        // unshare() of the other new namespaces
  kStepTimeOffsets,    // /proc/self/timens_offsets
  kStepBecomeRoot,     // setresuid/setresgid to 0 in the user namespace
  kStepSecurityLabel,  // AppArmor profile or SELinux label for the execve
  kStepCount
};

extern const char* const kStepNames[kStepCount];

// Messages on the init socket (SOCK_SEQPACKET), both directions. The kinds
// and the layout are exported to src/plan/protocol.ts (InitMessageFormat).
enum MessageKind : int32_t {
  kMessageMounted = 1,   // child: mounts done; run prestart/createRuntime hooks now
  kMessageReady = 2,     // child: set up, about to wait on exec.fifo
  kMessageError = 3,     // child: failed at step/index with errno and detail
  kMessageContinue = 4,  // parent: go on
  kMessageExecPid = 5,   // exec child: index holds the host pid of the process it forked
  kMessageSeccompListener = 6,  // child: the seccomp notify fd, as SCM_RIGHTS; wait for continue
  kMessageMapIds = 7,    // init: in a new user namespace; write our uid_map and gid_map now
  kMessageInitPid = 8,   // init: index holds the host pid of the init it forked; we exit
};

struct Message {
  int32_t kind;
  int32_t step;
  int32_t index;
  int32_t error;  // errno, or 0 when detail says it all
  char detail[1024];
};

// kEnsurePlainDirectory: a directory, and no symlink on the way to it.
enum Ensure : int32_t { kEnsureNothing = 0, kEnsureDirectory = 1, kEnsureFile = 2, kEnsurePlainDirectory = 3 };

// How the rootfs becomes the root (src/addon-plan.ts has the same values).
enum RootEntry : int32_t {
  kPivotRoot = 0,
  kMoveRoot = 1,  // --no-pivot: MS_MOVE onto / and chroot
  kChroot = 2,    // no mount namespace of the container's own: chroot only
};

// One mount(2), with the extra calls runc makes around it.
struct MountStep {
  const char* source;      // host path or filesystem source; nullptr for none
  const char* target;      // relative to the rootfs, resolved inside it
  const char* fstype;      // nullptr for binds and moves
  unsigned long flags;
  const char* data;        // filesystem-specific options, or nullptr
  unsigned long remount;   // nonzero: remount a bind with these flags (MS_BIND|MS_REMOUNT|...)
  unsigned long propagation;  // nonzero: then change propagation with these flags
  int32_t ensure;          // create the target first when it is missing
  bool copy_up;            // tmpcopyup: copy what the target held into the new tmpfs
  // When the filesystem mount fails with EPERM or EBUSY (sysfs in a user
  // namespace without a network namespace it owns, cgroup2 without a cgroup
  // namespace), bind this host path recursively
  // instead and remount it with fallback_remount; nullptr: no fallback.
  const char* fallback_source;
  unsigned long fallback_remount;
  uint64_t attr_set;       // mount_setattr(AT_RECURSIVE) afterwards, when either is nonzero
  uint64_t attr_clr;
  int userns;              // >= 0: an idmapped bind (open_tree, mount_setattr
                           // MOUNT_ATTR_IDMAP with this user namespace, move_mount).
                           // Before the init enters a namespace, the mapped tree
                           // takes this fd number (CloneIdmappedSources).
  bool idmap_recursive;    // ridmap: the mapping also on every mount below
};

struct DeviceNode {
  const char* path;  // relative to the rootfs
  const char* bind_source;  // in a user namespace, where mknod is refused: this host node is bind-mounted; else nullptr
  mode_t mode;       // S_IFCHR/S_IFBLK/S_IFIFO | permissions
  dev_t dev;
  uid_t uid;
  gid_t gid;
};

struct Symlink {
  const char* target;  // the link's content
  const char* path;    // relative to the rootfs
  bool replace;        // remove whatever is there first (/dev/ptmx)
};

struct HookCommand {
  const char* path;
  char* const* argv;
  char* const* envp;
  int32_t timeout_seconds;  // 0: none
};

struct Rlimit {
  int32_t resource;
  uint64_t soft;
  uint64_t hard;
};

struct Capabilities {
  bool apply;  // false: leave the sets as they are (no process.capabilities)
  uint64_t bounding, effective, permitted, inheritable, ambient;
  int32_t last_cap;  // /proc/sys/kernel/cap_last_cap
};

// One linux.sysctl entry, written through the container's own /proc.
struct Sysctl {
  const char* path;   // relative to the rootfs: proc/sys/...
  const char* value;
};

// The seccomp filter TypeScript compiled with libseccomp before clone().
struct SeccompFilter {
  const void* program;          // struct sock_filter[]; nullptr: no filter
  unsigned short length;        // instructions
  unsigned int flags;           // SECCOMP_FILTER_FLAG_* for seccomp(2)
  bool listener;                // NEW_LISTENER: the notify fd goes to the parent
};

// process.scheduler as struct sched_attr's fields (sched_setattr(2)).
struct Scheduler {
  bool apply;  // false: leave the scheduling policy as it is
  uint32_t policy;
  uint64_t flags;
  int32_t nice;
  uint32_t priority;
  uint64_t runtime, deadline, period;
};

struct ProcessPlan {
  char* const* argv;
  char* const* envp;
  const char* path_env;  // PATH from envp, for finding argv[0]; nullptr when unset
  const char* cwd;       // absolute inside the container
  uid_t uid;
  gid_t gid;
  const gid_t* groups;
  size_t group_count;
  mode_t umask;
  bool no_new_privileges;
  const Rlimit* rlimits;
  size_t rlimit_count;
  Capabilities capabilities;
  SeccompFilter seccomp;
  int64_t personality;   // persona for personality(2); -1: leave it
  Scheduler scheduler;
  int32_t io_priority;   // ioprio_set(2) value, class << 13 | level; -1: leave it
  bool set_groups;  // false where setgroups(2) is denied (a rootless user namespace)
  // AppArmor's "exec PROFILE" or an SELinux label, each written to its
  // /proc/self/attr file; the kernel applies them at execve.
  const char* const* lsm_paths;
  const char* const* lsm_values;
  size_t lsm_count;
  bool terminal;
  unsigned short console_rows;     // process.consoleSize; 0 leaves the size unset
  unsigned short console_columns;
  int console_socket;  // the pty master goes here; -1 without a terminal
};

// How a child joins its cgroup without the global lock that moving a whole
// process through cgroup.procs takes (its first writer waits for an RCU
// grace period, 10-15 ms): on cgroup2, clone3(CLONE_INTO_CGROUP) starts it
// there; on v1, it writes "0" to each tasks file, which moves only itself,
// a single thread. See JoinCgroup (cgroup.h).
struct CgroupJoin {
  int dir;               // the cgroup2 directory, or -1
  bool dir_needs_write;  // clone3 could not start us there: write cgroup.procs
  const int* tasks;      // v1 tasks files
  size_t tasks_count;
};

// A namespace given by linux.namespaces[].path, opened by the parent.
struct NamespaceJoin {
  int fd;
  int type;          // CLONE_NEW*, for setns to check
  const char* path;  // for messages
};

// How the init enters its namespaces. Without joins, a user or a time
// namespace, clone() makes them all at once (clone_flags). Otherwise, as
// runc's nsexec: clone() with none, join those given by path (the user
// namespace first), unshare a new user namespace and wait while the parent
// writes its id maps, become root in it, unshare the rest, and fork the init
// itself, since a pid or time namespace only takes in the caller's children.
struct NamespaceEntry {
  const NamespaceJoin* joins;  // in the order to join them
  size_t join_count;
  bool new_user;            // unshare(CLONE_NEWUSER), then kMessageMapIds
  bool become_root;         // in a user namespace (new or joined): setresgid/setresuid(0)
  int unshare_flags;        // the other new namespaces (never CLONE_NEWCGROUP)
  const char* time_offsets;  // written to /proc/self/timens_offsets; nullptr: none
  bool fork_init;           // the init is a child forked (CLONE_PARENT) after all that
};

struct Plan {
  int clone_flags;          // CLONE_NEW* for clone(); never CLONE_NEWCGROUP
  NamespaceEntry namespaces;
  CgroupJoin cgroup;
  bool unshare_cgroup;      // unshare(CLONE_NEWCGROUP) once the parent put us in our cgroup
  const char* hostname;     // nullptr: leave it
  const char* domainname;
  const char* rootfs;       // absolute host path
  unsigned long root_propagation;  // applied recursively to / first (MS_REC|MS_SLAVE by default); 0: none
  const char* rootfs_parent_mount;  // made private so pivot_root accepts the rootfs; may be nullptr
  bool readonly_root;
  unsigned long dev_remount;  // nonzero: remount /dev so once its submounts, nodes and links exist
  RootEntry root_entry;
  const char* const* hidden_mounts;  // kMoveRoot: unmounted, or covered, before the move
  size_t hidden_count;
  const MountStep* mounts;
  size_t mount_count;
  const DeviceNode* devices;
  size_t device_count;
  const Symlink* symlinks;
  size_t symlink_count;
  const char* const* masked_paths;
  size_t masked_count;
  const char* const* readonly_paths;
  size_t readonly_count;
  const Sysctl* sysctls;
  size_t sysctl_count;
  const HookCommand* create_container_hooks;
  size_t create_container_count;
  const HookCommand* start_container_hooks;
  size_t start_container_count;
  const char* exec_fifo;    // absolute host path of the fifo `start` opens
  int passed_fds;           // fds 3 .. 3+passed_fds-1 go to the process (LISTEN_FDS, --preserve-fds)
  const int* mount_userns;   // every MountStep::userns, kept open until the mounts are done
  size_t mount_userns_count;
  ProcessPlan process;
  // The parent sends the state documents for the container hooks here:
  // "<createContainer state>\0<startContainer state>\0".
  char* state_buffer;
  size_t state_buffer_size;
  int sync_socket;
};

// Runs in the cloned child; never returns. Only async-signal-safe code.
[[noreturn]] void RunContainerInit(const Plan& plan);

}  // namespace ocits::init
