// The wire between lib/inside/ and the in-namespace operations, defined
// once: op ids, each op's argument slots (by name), the steps a failure is
// reported at, the helper and socket-option bits, and the Job they travel
// in. The addon exports the tables at init as `inns_wire` (native/inns.cc);
// lib/inside/wire.ts reads the numbers from there and never retypes them.
//
//   native/inns.cc      the N-API side: marshalling, the two vehicles'
//                       parent side, the wire export, plain syscall wrappers
//   native/inns_ops.cc  what runs after a namespace join (the ops, the
//                       thread's body, the helper child): async-signal-safe
#pragma once

#include <cstddef>
#include <cstdint>

namespace nsfd::inns {

// Each op's argument slots, in order: X(name). INTS fill Job::i, STRS
// fill Job::s. JS passes them as positional arrays, built from these names.
//   socket: buf is the sockaddr to bind (optional); sockopt: kSock* bits.
//   mkdir: path is normalized and absolute.
//   fsmount: the strings after fstype and target are "key=value" | "flag".
//   root: a directory fd to resolve under, or -1 for "/" (after a join).
#define NSFD_INNS_SOCKET_INTS(X) X(domain) X(type) X(protocol) X(sockopt)
#define NSFD_INNS_SOCKET_STRS(X)
#define NSFD_INNS_OPEN_INTS(X) X(root) X(flags) X(mode) X(resolve)
#define NSFD_INNS_OPEN_STRS(X) X(path)
#define NSFD_INNS_MKDIR_INTS(X) X(root) X(mode) X(resolve) X(recursive)
#define NSFD_INNS_MKDIR_STRS(X) X(path)
#define NSFD_INNS_SETHOSTNAME_INTS(X)
#define NSFD_INNS_SETHOSTNAME_STRS(X) X(name)
#define NSFD_INNS_FSMOUNT_INTS(X) X(root) X(attrs) X(resolve)
#define NSFD_INNS_FSMOUNT_STRS(X) X(fstype) X(target)
#define NSFD_INNS_MOVE_MOUNT_INTS(X) X(tree) X(root) X(resolve)
#define NSFD_INNS_MOVE_MOUNT_STRS(X) X(target)
#define NSFD_INNS_MAKE_PRIVATE_INTS(X) X(root)
#define NSFD_INNS_MAKE_PRIVATE_STRS(X)
#define NSFD_INNS_SETDOMAINNAME_INTS(X)
#define NSFD_INNS_SETDOMAINNAME_STRS(X) X(name)

// The operations: X(enumerator, id, JS name, SLOTS) where SLOTS names the
// NSFD_INNS_<SLOTS>_INTS/_STRS lists above.
#define NSFD_INNS_OPS(X)                            \
  X(kOpSocket, 1, socket, SOCKET)                   \
  X(kOpOpen, 2, open, OPEN)                         \
  X(kOpMkdir, 3, mkdir, MKDIR)                      \
  X(kOpSethostname, 4, sethostname, SETHOSTNAME)    \
  X(kOpFsmount, 5, fsmount, FSMOUNT)                \
  X(kOpMoveMount, 6, moveMount, MOVE_MOUNT)         \
  X(kOpMakePrivate, 7, makePrivate, MAKE_PRIVATE)   \
  X(kOpSetdomainname, 8, setdomainname, SETDOMAINNAME)

// Steps, reported with a failure so JS can name the syscall that failed:
// X(enumerator, number, syscall name). Step 0 is no failure.
#define NSFD_INNS_STEPS(X)                   \
  X(kStepNone, 0, "")                        \
  X(kStepSetns, 1, "setns")                  \
  X(kStepSetresuid, 2, "setresuid")          \
  X(kStepClone, 3, "clone")                  \
  X(kStepOpenRoot, 4, "open")                \
  X(kStepOpenat2, 5, "openat2")              \
  X(kStepSocket, 6, "socket")                \
  X(kStepSetsockopt, 7, "setsockopt")        \
  X(kStepBind, 8, "bind")                    \
  X(kStepMkdirat, 9, "mkdirat")              \
  X(kStepSethostname, 10, "sethostname")     \
  X(kStepFsopen, 11, "fsopen")               \
  X(kStepFsconfig, 12, "fsconfig")           \
  X(kStepFsmount, 13, "fsmount")             \
  X(kStepMoveMount, 14, "move_mount")        \
  X(kStepMount, 15, "mount")                 \
  X(kStepWait, 16, "waitpid")                \
  X(kStepBadOp, 17, "inns")                  \
  X(kStepSetdomainname, 18, "setdomainname") \
  X(kStepSetgroups, 19, "setgroups")         \
  X(kStepSetresgid, 20, "setresgid")

// Helper-child flags: X(enumerator, bit, JS name).
//   becomeRoot   after a user-ns join: no supplementary groups (where the
//                kernel lets us drop them), setresgid/setresuid(0) when 0
//                is mapped
//   requireRoot  with becomeRoot: all three must succeed, else the op
//                fails (step setgroups, setresgid or setresuid) rather than
//                run with ids the namespace does not map (host root's)
//   intoPidns    run the op in a grandchild (a member of the joined pid ns)
#define NSFD_INNS_HELPER_FLAGS(X)        \
  X(kHelperBecomeRoot, 1, becomeRoot)    \
  X(kHelperIntoPidns, 2, intoPidns)      \
  X(kHelperRequireRoot, 4, requireRoot)

// Socket options set before the bind: X(enumerator, bit, JS name).
//   v6Only / v6Dual: IPV6_V6ONLY 1 / 0.
#define NSFD_INNS_SOCKOPTS(X)         \
  X(kSockReuseAddr, 1, reuseAddr)     \
  X(kSockV6Only, 2, v6Only)           \
  X(kSockV6Dual, 4, v6Dual)           \
  X(kSockReusePort, 8, reusePort)

#define NSFD_INNS_ENUM(e, n, ...) e = n,
enum Op : int { NSFD_INNS_OPS(NSFD_INNS_ENUM) };
enum Step : int { NSFD_INNS_STEPS(NSFD_INNS_ENUM) };
enum HelperFlag : int { NSFD_INNS_HELPER_FLAGS(NSFD_INNS_ENUM) };
enum SockOpt : int { NSFD_INNS_SOCKOPTS(NSFD_INNS_ENUM) };
#undef NSFD_INNS_ENUM

constexpr int kMaxJoins = 10;
constexpr int kMaxInts = 8;
constexpr int kMaxStrs = 34;
constexpr size_t kStackSize = 128 * 1024;

// slot::<op>::<name> is the index of that argument, slot::<op>::kInts /
// kStrs how many named ones there are: j->i[slot::open::flags].
namespace slot {
#define NSFD_INNS_SLOT(name) name,
#define NSFD_INNS_SLOTS_OF(e, n, js, SLOTS)                          \
  namespace js {                                                     \
  enum Int : int { NSFD_INNS_##SLOTS##_INTS(NSFD_INNS_SLOT) kInts }; \
  enum Str : int { NSFD_INNS_##SLOTS##_STRS(NSFD_INNS_SLOT) kStrs }; \
  static_assert(kInts <= kMaxInts && kStrs <= kMaxStrs);             \
  }
NSFD_INNS_OPS(NSFD_INNS_SLOTS_OF)
#undef NSFD_INNS_SLOTS_OF
#undef NSFD_INNS_SLOT
}  // namespace slot

// Ops that take strings after their named ones (fsmount's options).
constexpr bool TakesMoreStrs(int op) { return op == kOpFsmount; }

// How many ints and strs `op` takes (its named slots); false for an op
// this addon does not know. The N-API side checks every call against it
// before anything runs: an op reads its slots without counting them.
inline bool ArityOf(int op, int* ints, int* strs) {
  switch (op) {
#define NSFD_INNS_ARITY(e, n, js, SLOTS) \
  case e:                                \
    *ints = slot::js::kInts;             \
    *strs = slot::js::kStrs;             \
    return true;
    NSFD_INNS_OPS(NSFD_INNS_ARITY)
#undef NSFD_INNS_ARITY
    default:
      return false;
  }
}

struct Job {
  int njoins = 0;
  int join_fd[kMaxJoins];
  int join_type[kMaxJoins];
  int flags = 0;  // HelperFlag bits
  int op = 0;
  int64_t i[kMaxInts] = {};
  int nint = 0;
  char* s[kMaxStrs] = {};
  int nstr = 0;
  const void* buf = nullptr;
  size_t buflen = 0;
  char* stack2 = nullptr;  // grandchild stack (top), for kHelperIntoPidns
  // results
  long result = 0;
  int step = 0;
  int index = 0;
  char msg[256] = {0};
};

inline void SetFail(Job* j, int step, long err, int index = 0) {
  j->result = err;
  j->step = step;
  j->index = index;
}

// The thread vehicle's argument: join `fd` (-1: none) as `nstype`, run the job.
struct ThreadJob {
  int fd;
  int nstype;
  Job* job;
};

// native/inns_ops.cc. Async-signal-safe, all three.
void RunOp(Job* j);
void* ThreadMain(void* arg);  // pthread body: setns, then RunOp
int Child(void* arg);         // the helper child: joins, ids, RunOp

}  // namespace nsfd::inns
