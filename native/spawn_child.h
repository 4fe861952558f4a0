// The child side of spawn_clone3 (spawn_child.cc): the Plan it runs, built
// by the parent (spawn.cc) before clone3, and its entry points. Everything
// behind these runs between clone3 and execve, sharing our memory: raw
// syscalls only, no allocation, no locks, no libc.
#pragma once

#include <cstddef>
#include <cstdint>

#include "spawn_wire.h"

// clone3 that runs fn(arg) in the child on the new stack and exits with its
// result. Returns the pid or -errno. Defined in spawn_child.cc.
extern "C" long nsfd_clone3(void* args, size_t size, int (*fn)(void*), void* arg);

namespace nsfd {
namespace spawn {

// Everything the child needs, built before clone3. The child only reads it
// (fd_tmp and tree_fds aside): with CLONE_VM it is our memory, shared by relay and grandchild.
struct Plan {
  char* const* paths;  // execve candidates, tried in order (PATH lookup done in JS)
  int npaths;
  char* const* argv;
  char* const* envp;

  int join_pidfd;  // setns(join_pidfd, join_flags): one atomic join
  int join_flags;
  const int* join_fds;  // or setns(fd, type) for each, in this order
  const int* join_types;
  int njoin;
  int unshare_after;  // unshare() after the joins (new namespaces owned by the joined user ns)
  bool two_stage;
  bool need_maps;

  const int* fd_src;  // the child's fd table: fd_src[i] lands on fd_slot[i]
  const int* fd_slot;
  int* fd_tmp;  // scratch: only the final process writes it
  int nfds;
  int max_slot;

  const char* root;  // nullptr: unchanged
  int root_fd;       // >= 0: chroot to this directory fd instead (fchdir, chroot("."))
  const char* cwd;
  bool mount_proc;
  bool new_session;

  int rootfs_fd;  // >= 0: unshare the mount ns here, run fs_ops on a bind of it, pivot_root into it
  const int32_t* fs_ops;  // kFsOpInts ints per op (spawn_wire.h)
  int nfs_ops;
  char* const* fs_strs;
  const char* hostname;    // nullptr: unchanged (sethostname in the new uts namespace)
  const char* domainname;  // nullptr: unchanged
  bool loopback_up;        // lo up in the new net namespace
  bool block_signals;      // exec with every signal blocked (an init that takes them with sigwaitinfo)
  int exec_fd;  // >= 0: execveat(exec_fd, "", AT_EMPTY_PATH) instead of the paths
  bool idmap_rootfs;  // the go on go_fd (a socket) carries the idmapped rootfs tree, as tree_fds[0]
  int ntrees;         // trees the go carries: the idmapped rootfs, then the kFsIdmap binds in op order (0: a plain go byte)
  int* tree_fds;      // scratch, kMaxTrees ints: where the child keeps them (its own fd table)

  int uid, gid;  // -1: unchanged
  const uint32_t* groups;
  int ngroups;  // -1: setgroups not asked for
  bool drop_groups;  // uid/gid change without groups: setgroups(0) best-effort

  // Privileges, applied last (spawn_child.cc, ApplyPrivileges).
  const int64_t* rlimits;  // triples: resource, soft, hard (-1: RLIM_INFINITY)
  int nrlimits;
  const uint32_t* caps;  // nullptr: unchanged; else 10 words: bounding, effective, permitted, inheritable, ambient (lo, hi each)
  bool no_new_privs;
  const void* seccomp;  // a SockFprog, or nullptr

  bool kill_on_close;
  int parent_pidfd;  // our pidfd, to catch our death before PR_SET_PDEATHSIG took hold

  int report_fd;  // write end of the report pipe
  int go_fd;      // read end of the "maps written" pipe
  char* g_stack;  // the grandchild's stack (two stages)
  size_t g_stack_size;
  uint64_t g_clone_flags;
};

// Entry points for nsfd_clone3, arg a const Plan*: one stage (enter, then
// exec), or the relay of two stages (enter, then clone the final process).
int OneStage(void* arg);
int RelayStage(void* arg);

}  // namespace spawn
}  // namespace nsfd
