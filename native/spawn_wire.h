// The wires of spawn_clone3: the spec keys JS sends (the one list of them:
// the addon exports it as spawn_spec_keys and lib/spawn/wire.ts checks its
// own against it), and the steps and records the child reports back on.
#pragma once

#include <cstdint>

namespace nsfd {
namespace spawn {

// X(enumerator, "JS key"). Every key must be present in a spec, no other
// key may be: a key renamed on one side is an error, not a default.
#define NSFD_SPAWN_SPEC_KEYS(X)         \
  X(kKeyPaths, "paths")                 \
  X(kKeyArgv, "argv")                   \
  X(kKeyEnvp, "envp")                   \
  X(kKeyInheritEnv, "inheritEnv")       \
  X(kKeyCloneFlags, "cloneFlags")       \
  X(kKeyJoinPidfd, "joinPidfd")         \
  X(kKeyJoinFlags, "joinFlags")         \
  X(kKeyJoinFds, "joinFds")             \
  X(kKeyJoinTypes, "joinTypes")         \
  X(kKeyParentPidFd, "parentPidFd")     \
  X(kKeyUnshareAfter, "unshareAfter")   \
  X(kKeyTwoStage, "twoStage")           \
  X(kKeyShareVm, "shareVm")             \
  X(kKeyUidMap, "uidMap")               \
  X(kKeyGidMap, "gidMap")               \
  X(kKeySetgroupsDeny, "setgroupsDeny") \
  X(kKeyCgroupFd, "cgroupFd")           \
  X(kKeyRoot, "root")                   \
  X(kKeyRootFd, "rootFd")               \
  X(kKeyCwd, "cwd")                     \
  X(kKeyUid, "uid")                     \
  X(kKeyGid, "gid")                     \
  X(kKeyGroups, "groups")               \
  X(kKeyFds, "fds")                     \
  X(kKeyKillOnClose, "killOnClose")     \
  X(kKeyMountProc, "mountProc")         \
  X(kKeyNewSession, "newSession")       \
  X(kKeyProcFd, "procFd")               \
  X(kKeyCaps, "caps")                   \
  X(kKeyNoNewPrivs, "noNewPrivs")       \
  X(kKeyRlimits, "rlimits")             \
  X(kKeySeccomp, "seccomp")             \
  X(kKeyRootfsFd, "rootfsFd")           \
  X(kKeyFsOps, "fsOps")                 \
  X(kKeyFsStrs, "fsStrs")               \
  X(kKeyExecFd, "execFd")               \
  X(kKeyHostname, "hostname")           \
  X(kKeyDomainname, "domainname")       \
  X(kKeyLoopbackUp, "loopbackUp")       \
  X(kKeyBlockSignals, "blockSignals")   \
  X(kKeyIdmapRootfs, "idmapRootfs")

#define NSFD_KEY_ENUM(id, name) id,
enum SpecKey : int { NSFD_SPAWN_SPEC_KEYS(NSFD_KEY_ENUM) kSpecKeyCount };
#undef NSFD_KEY_ENUM

#define NSFD_KEY_NAME(id, name) name,
constexpr const char* kSpecKeyNames[kSpecKeyCount] = {NSFD_SPAWN_SPEC_KEYS(NSFD_KEY_NAME)};
#undef NSFD_KEY_NAME

// Steps the child (or the parent, for maps) can fail in: the JS name of the
// step and the syscall that failed.
enum Step : int32_t {
  kStepClone3,
  kStepCgroup,
  kStepSetns,
  kStepUnshare,
  kStepSync,
  kStepUidMap,
  kStepGidMap,
  kStepDup,
  kStepCloseRange,
  kStepSetsid,
  kStepMount,
  kStepChroot,
  kStepMountProc,
  kStepChdir,
  kStepSetgroups,
  kStepSetgid,
  kStepSetuid,
  kStepPrctl,
  kStepSignals,
  kStepExecve,
  kStepRoot,
  kStepRlimit,
  kStepCapBounding,
  kStepKeepCaps,
  kStepCapset,
  kStepCapAmbient,
  kStepNoNewPrivs,
  kStepSeccomp,
  // rootfs (pivot_root) set-up: detail is the index of the fs op (or -1)
  kStepRootfs,
  kStepFsResolve,
  kStepFsFsopen,
  kStepFsFsconfig,
  kStepFsFsmount,
  kStepFsOpenTree,
  kStepFsSetattr,
  kStepFsMove,
  kStepFsSymlink,
  kStepPivotRoot,
  kStepUmountOld,
  kStepHostname,
  kStepDomainname,
  kStepLoopback,
  // the parent, after the maps: the rootfs cloned (open_tree) and idmapped
  // (mount_setattr MOUNT_ATTR_IDMAP) with the child's user namespace
  kStepIdmap,
};
struct StepName {
  const char* step;
  const char* syscall;
};
constexpr StepName kStepNames[] = {
    {"clone3", "clone3"},       {"cgroup", "clone3"},        {"setns", "setns"},
    {"unshare", "unshare"},     {"sync", "read"},            {"uid_map", "write"},
    {"gid_map", "write"},       {"dup", "dup3"},             {"close_range", "close_range"},
    {"setsid", "setsid"},       {"mount", "mount"},          {"chroot", "chroot"},
    {"mount_proc", "mount"},    {"chdir", "chdir"},          {"setgroups", "setgroups"},
    {"setgid", "setresgid"},    {"setuid", "setresuid"},     {"prctl", "prctl"},
    {"sigaction", "rt_sigaction"}, {"execve", "execve"}, {"root", "fchdir"},
    {"rlimit", "prlimit64"}, {"cap_bounding", "prctl"}, {"keepcaps", "prctl"},
    {"capset", "capset"}, {"cap_ambient", "prctl"}, {"no_new_privs", "prctl"},
    {"seccomp", "seccomp"},
    {"rootfs", "unshare"},      {"fs_op", "openat2"},        {"fs_op", "fsopen"},
    {"fs_op", "fsconfig"},      {"fs_op", "fsmount"},        {"fs_op", "open_tree"},
    {"fs_op", "mount_setattr"}, {"fs_op", "move_mount"},     {"fs_op", "symlinkat"},
    {"pivot_root", "pivot_root"}, {"pivot_root", "umount2"},
    {"hostname", "sethostname"}, {"domainname", "setdomainname"}, {"loopback", "ioctl"},
    {"idmap", "mount_setattr"},
};

// The rootfs set-up the child runs between clone and exec, one op per
// kFsOpInts ints: {kind, dest, src, fstype, optStart, optCount, attrs,
// flags}; dest/src/fstype/opts index fsStrs (-1: none). Destinations are
// relative to the new root, normalised in JS (no ".", "..", empty parts).
constexpr int kFsOpInts = 8;
enum FsOpKind : int32_t {
  kFsOpMount = 1,      // fsopen(fstype) + fsconfig(opts: "k=v" or "k") + fsmount(attrs) onto dest
  kFsOpBind = 2,       // open_tree(src) (+ mount_setattr(attrs)) onto dest
  kFsOpMask = 3,       // dest, if it exists: a directory gets a read-only tmpfs, a file src (/dev/null)
  kFsOpSymlink = 5,    // symlink dest -> src
  kFsOpRootAttrs = 6,  // mount_setattr(the new root, attrs), + AT_RECURSIVE with kFsRecursive
};
enum FsOpFlag : int32_t {
  kFsRecursive = 1,  // AT_RECURSIVE for open_tree/mount_setattr
  kFsOptional = 2,   // dest missing: skip the op (never create it)
  kFsSrcInRoot = 4,  // src is resolved in the new root, not in ours
  kFsFile = 8,       // dest is made as a file, not a directory
  // A bind (of a host path) whose tree the parent makes, after the maps:
  // open_tree(src) and mount_setattr(attrs | MOUNT_ATTR_IDMAP, the child's
  // user namespace), sent with the go. The child attaches what it received.
  kFsIdmap = 16,
};
// Trees the go can carry: the idmapped rootfs and the kFsIdmap binds.
constexpr int kMaxTrees = 64;

// What the child writes to the report pipe. Fixed size: a pipe write of
// less than PIPE_BUF bytes is atomic.
enum Kind : int32_t { kError = 1, kNeedMaps = 2, kGrandchild = 3 };
struct Record {
  int32_t kind;
  int32_t step;
  int32_t err;     // positive errno
  int32_t detail;  // step-specific: failing slot, CLONE_NEW* flag, path index; or a pid
  int32_t fd;      // kGrandchild: its pidfd (in our shared fd table)
};

}  // namespace spawn
}  // namespace nsfd
