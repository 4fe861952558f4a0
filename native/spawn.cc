// spawn_clone3: starts a program straight into new or existing namespaces.
//
// The child is made with clone3(CLONE_VM|CLONE_VFORK|CLONE_PIDFD) on a stack
// of its own: no page tables are copied, so the cost does not grow with the
// parent's memory. Between clone3 and execve the child shares our memory
// and runs only raw syscalls (inline asm, errno never touched): no malloc,
// no locks, no libc. Everything it needs is prepared in a Plan first.
//
// Failures in the child come back as {step, errno} records on an O_CLOEXEC
// pipe; the parent reaps whatever it started before returning the error.
//
// The shapes, chosen in lib/spawn.ts:
//  - one stage: the child creates namespaces through clone3 flags (it is
//    pid 1 of a new pid ns), or joins (setns) and unshares, then execs. A pid
//    namespace join moves only future children: a privileged caller's thread
//    joins it around the clone3 alone, so the child is born inside;
//  - two stages, when an unprivileged caller joins a pid namespace (or one is
//    made after a join): the child ("relay") joins, then clones the real
//    process with CLONE_PARENT (it is our child, we reap it) and, through
//    CLONE_FILES, gets its pidfd straight into our fd table. The relay's exit
//    walks all our mappings (acct_collect), so it costs more with the heap;
//  - no CLONE_VFORK when uid/gid maps must be written from outside: the child
//    reports "need maps", we write /proc/PID/{setgroups,gid_map,uid_map},
//    then let it go on. No CLONE_VM when a time namespace is joined: the
//    kernel refuses that (EUSERS) to a task sharing its mm.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "uapi.h"
#include "util.h"

namespace nsfd {
namespace {

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

// --- raw syscalls: return -errno, never touch errno (the child shares our TLS)

#if defined(__x86_64__)
inline long Sys(long n, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0, long f = 0) {
  long ret;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}
#elif defined(__aarch64__)
inline long Sys(long n, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0, long f = 0) {
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  register long x4 __asm__("x4") = e;
  register long x5 __asm__("x5") = f;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
  return x0;
}
#endif

}  // namespace
}  // namespace nsfd

// clone3 that runs fn(arg) in the child on the new stack and exits with its
// result. A C function cannot do this: after the syscall the child is on an
// empty stack and must not return through the caller's frames (glibc's
// internal __clone3 works the same way). Returns the pid or -errno.
extern "C" long nsfd_clone3(void* args, size_t size, int (*fn)(void*), void* arg);
#if defined(__x86_64__)
__asm__(
    ".text\n"
    ".globl nsfd_clone3\n"
    ".hidden nsfd_clone3\n"
    ".type nsfd_clone3,@function\n"
    "nsfd_clone3:\n"
    "  mov %rdx, %r8\n"   // fn and arg survive the syscall in r8/r9
    "  mov %rcx, %r9\n"
    "  mov $435, %eax\n"  // __NR_clone3
    "  syscall\n"
    "  test %rax, %rax\n"
    "  jz 1f\n"
    "  ret\n"  // parent (pid) or error (-errno)
    "1:\n"
    "  xor %ebp, %ebp\n"  // outermost frame
    "  mov %r9, %rdi\n"
    "  call *%r8\n"
    "  mov %eax, %edi\n"
    "  mov $231, %eax\n"  // __NR_exit_group
    "  syscall\n"
    "  hlt\n"
    ".size nsfd_clone3, .-nsfd_clone3\n");
#elif defined(__aarch64__)
__asm__(
    ".text\n"
    ".globl nsfd_clone3\n"
    ".hidden nsfd_clone3\n"
    ".type nsfd_clone3,%function\n"
    "nsfd_clone3:\n"
    "  mov x10, x2\n"
    "  mov x11, x3\n"
    "  mov x8, #435\n"
    "  svc #0\n"
    "  cbz x0, 1f\n"
    "  ret\n"
    "1:\n"
    "  mov x29, #0\n"
    "  mov x30, #0\n"
    "  mov x0, x11\n"
    "  blr x10\n"
    "  mov x8, #94\n"  // __NR_exit_group
    "  svc #0\n"
    "  brk #0\n"
    ".size nsfd_clone3, .-nsfd_clone3\n");
#endif

namespace nsfd {
namespace {

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
};

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

// Everything the child needs, built before clone3. The child only reads it
// (fd_tmp aside): with CLONE_VM it is our memory, shared by relay and grandchild.
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

  int uid, gid;  // -1: unchanged
  const uint32_t* groups;
  int ngroups;  // -1: setgroups not asked for
  bool drop_groups;  // uid/gid change without groups: setgroups(0) best-effort

  bool kill_on_close;
  int parent_pidfd;  // our pidfd, to catch our death before PR_SET_PDEATHSIG took hold

  int report_fd;  // write end of the report pipe
  int go_fd;      // read end of the "maps written" pipe
  char* g_stack;  // the grandchild's stack (two stages)
  size_t g_stack_size;
  uint64_t g_clone_flags;
};

constexpr size_t kStackSize = 64 * 1024;
constexpr size_t kGuard = 4096;
constexpr size_t kSlab = kGuard + kStackSize;

// Two stacks with a guard page below each: [guard|child][guard|grandchild].
// Kept per thread: a fresh mapping per spawn costs page faults in the child
// and a TLB shootdown across Node's threads at munmap. No child uses them
// once spawn_clone3 returns (it has exec'd or exited by then).
struct Stacks {
  char* mem = nullptr;
  ~Stacks() {
    if (mem != nullptr) munmap(mem, 2 * kSlab);
  }
  char* Get() {
    if (mem != nullptr) return mem;
    void* m = mmap(nullptr, 2 * kSlab, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (m == MAP_FAILED) return nullptr;
    mem = static_cast<char*>(m);
    mprotect(mem, kGuard, PROT_NONE);
    mprotect(mem + kSlab, kGuard, PROT_NONE);
    return mem;
  }
};
thread_local Stacks tls_stacks;

// --- child side (async-signal-safe: raw syscalls only) ---------------------

// Code that runs in the child, on its own stack: never instrumented (a
// sanitizer's runtime may allocate or take locks, which the child must not).
#define NSFD_CHILD __attribute__((no_sanitize("address", "undefined")))

NSFD_CHILD void Report(int fd, int32_t kind, int32_t step, long err, int32_t detail = 0, int32_t extra = 0) {
  Record r;
  r.kind = kind;
  r.step = step;
  r.err = static_cast<int32_t>(err < 0 ? -err : err);
  r.detail = detail;
  r.fd = extra;
  Sys(SYS_write, fd, reinterpret_cast<long>(&r), sizeof r);
}

[[noreturn]] NSFD_CHILD void Die(int fd, int32_t step, long err, int32_t detail = 0) {
  Report(fd, kError, step, err, detail);
  Sys(SYS_exit_group, 127);
  __builtin_unreachable();
}

// Returns true if the process that made us has exited (poll on its pidfd).
NSFD_CHILD bool ParentGone(const Plan* p) {
  if (p->parent_pidfd < 0) return false;
  struct pollfd pfd;
  pfd.fd = p->parent_pidfd;
  pfd.events = POLLIN;
  pfd.revents = 0;
  struct timespec zero = {0, 0};
  long r = Sys(SYS_ppoll, reinterpret_cast<long>(&pfd), 1, reinterpret_cast<long>(&zero), 0, 8);
  return r > 0 && (pfd.revents & POLLIN);
}

// Joins, unshares and waits for the id maps: what the child (one stage) or
// the relay (two stages) does before the final process exists.
NSFD_CHILD void EnterNamespaces(const Plan* p) {
  int rep = p->report_fd;
  if (p->join_pidfd >= 0) {
    long r = Sys(kSysSetns, p->join_pidfd, p->join_flags);
    if (r < 0) Die(rep, kStepSetns, r, p->join_flags);
  }
  for (int i = 0; i < p->njoin; i++) {
    long r = Sys(kSysSetns, p->join_fds[i], p->join_types[i]);
    if (r < 0) Die(rep, kStepSetns, r, p->join_types[i]);
  }
  if (p->unshare_after != 0) {
    long r = Sys(kSysUnshare, p->unshare_after);
    if (r < 0) Die(rep, kStepUnshare, r, p->unshare_after);
  }
  if (p->need_maps) {
    // If we die, the parent is woken by our pidfd; if it dies, we must not
    // wait forever for a byte that will never come.
    Sys(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);
    if (ParentGone(p)) Sys(SYS_exit_group, 127);
    Report(rep, kNeedMaps, kStepSync, 0);
    char c;
    long r;
    do r = Sys(SYS_read, p->go_fd, reinterpret_cast<long>(&c), 1);
    while (r == -EINTR);
    if (r != 1) Die(rep, kStepSync, r < 0 ? r : -EPIPE);
    if (!p->kill_on_close) Sys(SYS_prctl, PR_SET_PDEATHSIG, 0);
  }
}

// Kernel struct sigaction for rt_sigaction: SIG_DFL is all zeros.
struct KSigaction {
  void* handler;
  unsigned long flags;
  void* restorer;
  uint64_t mask;
};
const KSigaction kDefaultAction = {nullptr, 0, nullptr, 0};
const uint64_t kNoSignals = 0;

// The process that execs: fds, root, cwd, credentials, signals, execve.
NSFD_CHILD int FinalStage(void* arg) {
  const Plan* p = static_cast<const Plan*>(arg);
  int rep = p->report_fd;
  bool chroot_to = p->root != nullptr || p->root_fd >= 0;

  // 0. A root given as an fd: enter it before step 1 can move fds onto
  // its number (the joins, which reset cwd, are done by now).
  if (p->root_fd >= 0) {
    long r0 = Sys(SYS_fchdir, p->root_fd);
    if (r0 < 0) Die(rep, kStepRoot, r0);
  }

  // 1. Fds. Copy every source above the highest slot first, so a source
  // sitting in another's slot is not overwritten; then place the copies.
  int hi = p->max_slot + 1;
  if (hi < 3) hi = 3;
  long r = Sys(SYS_fcntl, rep, F_DUPFD_CLOEXEC, hi);
  if (r < 0) Die(rep, kStepDup, r, -1);
  rep = static_cast<int>(r);  // the report fd may sit in a slot
  for (int i = 0; i < p->nfds; i++) {
    r = Sys(SYS_fcntl, p->fd_src[i], F_DUPFD_CLOEXEC, hi);
    if (r < 0) Die(rep, kStepDup, r, p->fd_slot[i]);
    p->fd_tmp[i] = static_cast<int>(r);
  }
  for (int i = 0; i < p->nfds; i++) {
    r = Sys(SYS_dup3, p->fd_tmp[i], p->fd_slot[i], 0);  // without O_CLOEXEC: kept across exec
    if (r < 0) Die(rep, kStepDup, r, p->fd_slot[i]);
  }
  // Holes below the highest slot: nothing was asked for there.
  for (int fd = 0; fd < hi; fd++) {
    bool used = false;
    for (int i = 0; i < p->nfds && !used; i++) used = p->fd_slot[i] == fd;
    if (!used) Sys(SYS_close, fd);
  }
  // Everything above: close on exec, including fds this process inherited
  // without O_CLOEXEC from whoever started it (CVE-2024-21626 was such a leak).
  r = Sys(kSysCloseRange, hi, ~0U, kCloseRangeCloexec);
  if (r == -ENOSYS || r == -EINVAL) {  // before 5.11
    struct rlimit lim;
    long max = 65536;
    if (Sys(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, reinterpret_cast<long>(&lim)) == 0 && lim.rlim_cur < (1u << 20)) {
      max = static_cast<long>(lim.rlim_cur);
    }
    for (long fd = hi; fd < max; fd++) Sys(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC);
  } else if (r < 0) {
    Die(rep, kStepCloseRange, r);
  }

  if (p->new_session) {
    r = Sys(SYS_setsid);
    if (r < 0) Die(rep, kStepSetsid, r);
  }

  // 2. Filesystem. A new /proc must not propagate back to the host: make
  // the new mount namespace private first (as unshare --mount-proc does).
  if (p->mount_proc) {
    r = Sys(SYS_mount, reinterpret_cast<long>("none"), reinterpret_cast<long>("/"), 0, MS_REC | MS_PRIVATE, 0);
    if (r < 0) Die(rep, kStepMount, r);
  }
  if (chroot_to) {
    r = Sys(SYS_chroot, reinterpret_cast<long>(p->root_fd >= 0 ? "." : p->root));
    if (r < 0) Die(rep, kStepChroot, r);
  }
  if (p->mount_proc) {
    r = Sys(SYS_mount, reinterpret_cast<long>("proc"), reinterpret_cast<long>("/proc"),
            reinterpret_cast<long>("proc"), MS_NOSUID | MS_NODEV | MS_NOEXEC, 0);
    if (r < 0) Die(rep, kStepMountProc, r);
  }
  const char* cwd = p->cwd != nullptr ? p->cwd : chroot_to ? "/" : nullptr;
  if (cwd != nullptr) {
    r = Sys(SYS_chdir, reinterpret_cast<long>(cwd));
    if (r < 0) Die(rep, kStepChdir, r);
  }

  // 3. Credentials: groups, then gid, then uid (after setuid we may no longer change the others).
  if (p->ngroups >= 0) {
    r = Sys(SYS_setgroups, p->ngroups, reinterpret_cast<long>(p->groups));
    if (r < 0) Die(rep, kStepSetgroups, r);
  } else if (p->drop_groups) {
    Sys(SYS_setgroups, 0, 0);  // best effort, as libuv does: EPERM in a userns with setgroups=deny
  }
  if (p->gid >= 0) {
    r = Sys(SYS_setresgid, p->gid, p->gid, p->gid);
    if (r < 0) Die(rep, kStepSetgid, r);
  }
  if (p->uid >= 0) {
    r = Sys(SYS_setresuid, p->uid, p->uid, p->uid);
    if (r < 0) Die(rep, kStepSetuid, r);
  }

  // 4. Death signal last: a credential change clears it. Then check that
  // the parent did not die before it took hold.
  if (p->kill_on_close) {
    r = Sys(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);
    if (r < 0) Die(rep, kStepPrctl, r);
    if (ParentGone(p)) Sys(SYS_exit_group, 127);
  }

  // 5. Signals: CLONE_CLEAR_SIGHAND reset handlers but kept "ignored"
  // (Node ignores SIGPIPE); reset those as libuv does, then unblock all.
  for (int sig = 1; sig < 32; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    r = Sys(SYS_rt_sigaction, sig, reinterpret_cast<long>(&kDefaultAction), 0, 8);
    if (r < 0) Die(rep, kStepSignals, r, sig);
  }
  Sys(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&kNoSignals), 0, 8);

  // 6. execve, each candidate in turn like execvp: keep looking past
  // ENOENT/ENOTDIR/EACCES, stop at anything else.
  long first_eacces = 0;
  r = -ENOENT;
  int i = 0;
  for (; i < p->npaths; i++) {
    r = Sys(SYS_execve, reinterpret_cast<long>(p->paths[i]), reinterpret_cast<long>(p->argv),
            reinterpret_cast<long>(p->envp));
    if (r == -EACCES && first_eacces == 0) first_eacces = r;
    if (r != -ENOENT && r != -ENOTDIR && r != -EACCES) break;
  }
  if (i == p->npaths && first_eacces != 0) r = first_eacces;
  // Blocked signals again would be moot: we exit right away.
  Die(rep, kStepExecve, r, i < p->npaths ? i : p->npaths - 1);
}

// The relay of a two-stage spawn: join, then clone the real process.
NSFD_CHILD int RelayStage(void* arg) {
  const Plan* p = static_cast<const Plan*>(arg);
  EnterNamespaces(p);
  CloneArgs ca;
  int pidfd = -1;
  // Zero without memset: no libc in the child.
  volatile uint64_t* w = reinterpret_cast<volatile uint64_t*>(&ca);
  for (size_t k = 0; k < sizeof ca / sizeof(uint64_t); k++) w[k] = 0;
  ca.flags = p->g_clone_flags;
  ca.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  ca.exit_signal = 0;  // CLONE_PARENT: the kernel uses ours (SIGCHLD)
  ca.stack = reinterpret_cast<uint64_t>(p->g_stack);
  ca.stack_size = p->g_stack_size;
  long pid = nsfd_clone3(&ca, kCloneArgsSizeVer0, FinalStage, const_cast<Plan*>(p));
  if (pid < 0) Die(p->report_fd, kStepClone3, pid);
  // CLONE_VFORK: the grandchild has exec'd or exited by now.
  Report(p->report_fd, kGrandchild, 0, 0, static_cast<int32_t>(pid), pidfd);
  return 0;
}

NSFD_CHILD int OneStage(void* arg) {
  EnterNamespaces(static_cast<const Plan*>(arg));
  return FinalStage(arg);
}

// --- parent side ------------------------------------------------------------

// Spec readers: TS has validated the spec; these only backstop types.
// Reading a key may run JS (a getter, a Proxy trap). Each reader returns
// false when the spec cannot be used: the exception that JS threw is
// pending, or a TypeError was thrown for a wrong type. The caller returns
// at once. A missing (undefined) key takes the default.
class SpecReader {
 public:
  SpecReader(const Napi::CallbackInfo& info, Napi::Object spec) : info_(info), spec_(spec) {}

  // A key's value, or false (exception pending).
  bool Get(const char* key, Napi::Value* out) { return GetProp(spec_, key, out); }

  bool Int(const char* key, int dflt, int* out, double lo = INT32_MIN, double hi = INT32_MAX) {
    Napi::Value v;
    if (!Get(key, &v)) return false;
    if (v.IsUndefined()) {
      *out = dflt;
      return true;
    }
    int64_t n;
    if (!IntIn(v, lo, hi, &n)) return Bad("nsfd native: spawn spec: expected an integer in range");
    *out = static_cast<int>(n);
    return true;
  }

  bool Bool(const char* key, bool* out) {
    Napi::Value v;
    if (!Get(key, &v)) return false;
    *out = v.ToBoolean().Value();  // runs no JS
    return true;
  }

  // *present: whether the key holds a string (undefined: absent).
  bool Str(const char* key, std::string* out, bool* present = nullptr) {
    Napi::Value v;
    if (!Get(key, &v)) return false;
    if (present != nullptr) *present = false;
    if (v.IsUndefined()) return true;
    if (!v.IsString()) return Bad("nsfd native: spawn spec: expected a string");
    *out = v.As<Napi::String>().Utf8Value();
    // A C string would end at the null byte: another path, another argument.
    if (out->find('\0') != std::string::npos) return Bad("nsfd native: spawn spec: string with a null byte");
    if (present != nullptr) *present = true;
    return true;
  }

  bool Strs(const char* key, std::vector<std::string>* out) {
    Napi::Array a;
    if (!Array(key, &a)) return false;
    uint32_t n = a.IsEmpty() ? 0 : a.Length();  // read once: a getter may grow the array
    for (uint32_t i = 0; i < n; i++) {
      Napi::Value v;
      if (!GetElem(a, i, &v)) return false;
      if (!v.IsString()) return Bad("nsfd native: spawn spec: expected an array of strings");
      out->push_back(v.As<Napi::String>().Utf8Value());
      if (out->back().find('\0') != std::string::npos) return Bad("nsfd native: spawn spec: string with a null byte");
    }
    return true;
  }

  // *present: whether the key holds an array (undefined: absent, empty).
  template <typename T>
  bool Ints(const char* key, std::vector<T>* out, double lo, double hi, bool* present = nullptr) {
    Napi::Array a;
    if (!Array(key, &a)) return false;
    if (present != nullptr) *present = !a.IsEmpty();
    uint32_t n = a.IsEmpty() ? 0 : a.Length();
    for (uint32_t i = 0; i < n; i++) {
      Napi::Value v;
      if (!GetElem(a, i, &v)) return false;
      int64_t x;
      if (!IntIn(v, lo, hi, &x)) return Bad("nsfd native: spawn spec: expected an array of integers in range");
      out->push_back(static_cast<T>(x));
    }
    return true;
  }

 private:
  // An array, or an empty handle for undefined.
  bool Array(const char* key, Napi::Array* out) {
    Napi::Value v;
    if (!Get(key, &v)) return false;
    if (v.IsUndefined()) {
      *out = Napi::Array();
      return true;
    }
    if (!v.IsArray()) return Bad("nsfd native: spawn spec: expected an array");
    *out = v.As<Napi::Array>();
    return true;
  }
  bool Bad(const char* what) {
    Fail(info_, what);
    return false;
  }
  const Napi::CallbackInfo& info_;
  Napi::Object spec_;
};

std::vector<char*> CStrs(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

Napi::Value Failure(Napi::Env env, int32_t step, int err, int32_t detail, const char* syscall_name = nullptr) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("errno", -err);
  o.Set("step", kStepNames[step].step);
  o.Set("syscall", syscall_name != nullptr ? syscall_name : kStepNames[step].syscall);
  o.Set("detail", detail);
  return o;
}

void Reap(int pidfd) {
  siginfo_t si;
  while (syscall(kSysWaitid, P_PIDFD, pidfd, &si, WEXITED, nullptr) < 0 && errno == EINTR) {
  }
}

// Writes one /proc/PID/<file>; 0 or -errno, with the failing syscall in *what.
int WriteProcFile(int pid, const char* file, const std::string& text, const char** what) {
  std::string path = "/proc/" + std::to_string(pid) + "/" + file;
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    *what = "open";
    return -errno;
  }
  ssize_t n = write(fd, text.data(), text.size());
  int err = n < 0 ? errno : n == static_cast<ssize_t>(text.size()) ? 0 : EIO;
  close(fd);
  *what = "write";
  return -err;
}

struct Fds {
  std::vector<int> fds;
  ~Fds() {
    for (int fd : fds)
      if (fd >= 0) close(fd);
  }
  int Add(int fd) {
    fds.push_back(fd);
    return fd;
  }
};

// spawn_clone3(spec) -> {pidfd, pid} | {errno, step, syscall, detail}
Napi::Value SpawnClone3(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) return Fail(info, "nsfd native: expected a spawn spec");
  Napi::Object spec = info[0].As<Napi::Object>();
  Napi::Value undef = env.Undefined();

  // Every key is read (and may run JS) here, before any fd is made.
  SpecReader rd(info, spec);
  std::vector<std::string> paths, argv, envp;
  if (!rd.Strs("paths", &paths) || !rd.Strs("argv", &argv) || !rd.Strs("envp", &envp)) return undef;
  if (paths.empty() || argv.empty()) return Fail(info, "nsfd native: spawn needs paths and argv");
  bool inherit_env;
  if (!rd.Bool("inheritEnv", &inherit_env)) return undef;

  // Fds are int32 (a larger number would be truncated into another fd);
  // slots stay below INT32_MAX (the child computes the highest slot + 1).
  std::vector<int> join_fds, join_types, fd_pairs;
  std::vector<uint32_t> groups;
  bool set_groups = false;
  if (!rd.Ints("joinFds", &join_fds, INT32_MIN, INT32_MAX) || !rd.Ints("joinTypes", &join_types, INT32_MIN, INT32_MAX) ||
      !rd.Ints("fds", &fd_pairs, INT32_MIN, INT32_MAX - 1) || !rd.Ints("groups", &groups, 0, UINT32_MAX, &set_groups)) {
    return undef;
  }
  if (join_fds.size() != join_types.size() || fd_pairs.size() % 2 != 0) return Fail(info, "nsfd native: bad spawn spec");
  std::vector<int> fd_src, fd_slot;
  int max_slot = 2;
  for (size_t i = 0; i < fd_pairs.size(); i += 2) {
    if (fd_pairs[i + 1] < 0) return Fail(info, "nsfd native: bad spawn spec");
    fd_src.push_back(fd_pairs[i]);
    fd_slot.push_back(fd_pairs[i + 1]);
    if (fd_pairs[i + 1] > max_slot) max_slot = fd_pairs[i + 1];
  }
  std::vector<int> fd_tmp(fd_src.size() + 1);

  std::string root, cwd, uid_map, gid_map;
  bool has_root, has_cwd, setgroups_deny, share_vm, two_stage, mount_proc, new_session, kill_on_close;
  int clone_flags, cgroup_fd, join_pidfd, join_flags, unshare_after, uid, gid, parent_pid_fd, root_fd;
  if (!rd.Str("root", &root, &has_root) || !rd.Str("cwd", &cwd, &has_cwd) || !rd.Str("uidMap", &uid_map) ||
      !rd.Str("gidMap", &gid_map) || !rd.Bool("setgroupsDeny", &setgroups_deny) ||
      !rd.Int("cloneFlags", 0, &clone_flags) || !rd.Int("cgroupFd", -1, &cgroup_fd) || !rd.Bool("shareVm", &share_vm) ||
      !rd.Int("joinPidfd", -1, &join_pidfd) || !rd.Int("joinFlags", 0, &join_flags) ||
      !rd.Int("unshareAfter", 0, &unshare_after) || !rd.Bool("twoStage", &two_stage) ||
      !rd.Bool("mountProc", &mount_proc) || !rd.Bool("newSession", &new_session) ||
      // -1: unchanged. The child holds ids as ints: a larger id would read as "unchanged".
      !rd.Int("uid", -1, &uid, -1, INT32_MAX) || !rd.Int("gid", -1, &gid, -1, INT32_MAX) ||
      !rd.Bool("killOnClose", &kill_on_close) || !rd.Int("parentPidFd", -1, &parent_pid_fd) ||
      !rd.Int("rootFd", -1, &root_fd, -1, INT32_MAX)) {
    return undef;
  }
  // From here on no JS runs until the result is built.

  std::vector<char*> cpaths = CStrs(paths), cargv = CStrs(argv), cenvp = CStrs(envp);
  if (inherit_env) {
    // process.env is the C environment (Node's setter calls setenv), and
    // copying it here is much cheaper than enumerating process.env in JS.
    // glibc never frees environment strings, so the pointers stay valid.
    cenvp.clear();
    for (char** e = environ; *e != nullptr; e++) cenvp.push_back(*e);
    cenvp.push_back(nullptr);
  }
  uint64_t clone_ns = static_cast<uint32_t>(clone_flags);

  Plan p;
  std::memset(&p, 0, sizeof p);
  p.paths = cpaths.data();
  p.npaths = static_cast<int>(paths.size());
  p.argv = cargv.data();
  p.envp = cenvp.data();
  p.join_pidfd = join_pidfd;
  p.join_flags = join_flags;
  p.join_fds = join_fds.data();
  p.join_types = join_types.data();
  p.njoin = static_cast<int>(join_fds.size());
  p.unshare_after = unshare_after;
  p.two_stage = two_stage;
  p.need_maps = !uid_map.empty() || !gid_map.empty();
  p.fd_src = fd_src.data();
  p.fd_slot = fd_slot.data();
  p.fd_tmp = fd_tmp.data();
  p.nfds = static_cast<int>(fd_src.size());
  p.max_slot = max_slot;
  p.root = has_root ? root.c_str() : nullptr;
  p.root_fd = root_fd;
  p.cwd = has_cwd ? cwd.c_str() : nullptr;
  p.mount_proc = mount_proc;
  p.new_session = new_session;
  p.uid = uid;
  p.gid = gid;
  p.groups = groups.data();
  p.ngroups = set_groups ? static_cast<int>(groups.size()) : -1;
  p.drop_groups = !set_groups && (p.uid >= 0 || p.gid >= 0);
  p.kill_on_close = kill_on_close;
  p.parent_pidfd = -1;
  p.go_fd = -1;

  Fds own;
  int rep[2], go[2] = {-1, -1};
  if (pipe2(rep, O_CLOEXEC | O_NONBLOCK) < 0) return Failure(env, kStepClone3, errno, 0, "pipe2");
  own.Add(rep[0]);
  int rep_w = own.Add(rep[1]);
  p.report_fd = rep[1];
  if (p.need_maps) {
    if (pipe2(go, O_CLOEXEC) < 0) return Failure(env, kStepClone3, errno, 0, "pipe2");
    own.Add(go[0]);
    own.Add(go[1]);
    p.go_fd = go[0];
  }
  if (p.kill_on_close || p.need_maps) {
    long r = syscall(kSysPidfdOpen, getpid(), 0);
    if (r < 0) return Failure(env, kStepClone3, errno, 0, "pidfd_open");
    p.parent_pidfd = own.Add(static_cast<int>(r));
  }

  char* mem = tls_stacks.Get();
  if (mem == nullptr) return Failure(env, kStepClone3, errno, 0, "mmap");
  if (p.two_stage) {
    p.g_stack = mem + kSlab + kGuard;
    p.g_stack_size = kStackSize;
    p.g_clone_flags = kCloneVm | kCloneVfork | kCloneParent | kClonePidfd | kCloneClearSighand;
  }

  CloneArgs ca;
  std::memset(&ca, 0, sizeof ca);
  int child_pidfd = -1;
  ca.flags = kClonePidfd | kCloneClearSighand | clone_ns;
  if (share_vm) ca.flags |= kCloneVm;
  if (!p.need_maps) ca.flags |= kCloneVfork;
  if (p.two_stage) ca.flags |= kCloneFiles;  // the grandchild's pidfd lands in our table
  if (cgroup_fd >= 0) {
    ca.flags |= kCloneIntoCgroup;
    ca.cgroup = static_cast<uint64_t>(cgroup_fd);
  }
  ca.pidfd = reinterpret_cast<uint64_t>(&child_pidfd);
  ca.exit_signal = SIGCHLD;
  ca.stack = reinterpret_cast<uint64_t>(mem + kGuard);
  ca.stack_size = kStackSize;

  // Pid namespace join by a privileged caller: this thread's
  // pid_for_children points at the target's pid namespace for the clone3
  // only, so the child is born there: no relay. A relay would be a task
  // sharing our mm that exits, and its exit walks all our mappings
  // (acct_collect), a cost that grows with the heap. While pid_for_children
  // differs from our own pid ns this thread cannot create threads, and it
  // creates none before the restore below (this is one synchronous call).
  int restore_fd = -1;
  if (parent_pid_fd >= 0) {
    restore_fd = open("/proc/thread-self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
    if (restore_fd < 0) return Failure(env, kStepSetns, errno, static_cast<int32_t>(kCloneNewpid), "open");
    own.Add(restore_fd);
  }

  // No signal handler may run in the child before CLONE_CLEAR_SIGHAND and
  // the reset: block everything (glibc's internal signals too) around clone3.
  uint64_t all = ~0ULL, saved = 0;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &saved, 8);
  long pid;
  bool pid_join_failed = parent_pid_fd >= 0 && syscall(kSysSetns, parent_pid_fd, kCloneNewpid) < 0;
  if (pid_join_failed) {
    pid = -errno;  // setns is all or nothing: nothing to restore
  } else {
    pid = nsfd_clone3(&ca, cgroup_fd >= 0 ? kCloneArgsSizeVer2 : kCloneArgsSizeVer0,
                      p.two_stage ? RelayStage : OneStage, &p);
    if (parent_pid_fd >= 0) {
      int tries = 0;
      while (syscall(kSysSetns, restore_fd, kCloneNewpid) < 0) {
        // Only ENOMEM could get here. Left as it is, this thread could never
        // create a thread again and Node would fail later in obscure ways.
        if (++tries == 100) {
          std::fprintf(stderr, "nsfd: cannot restore pid_for_children (errno %d); aborting\n", errno);
          std::abort();
        }
      }
    }
  }
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &saved, nullptr, 8);
  if (pid_join_failed) return Failure(env, kStepSetns, static_cast<int>(-pid), static_cast<int32_t>(kCloneNewpid));

  if (pid < 0) {
    // CLONE_INTO_CGROUP's own errors (KERNEL-FACTS 53) name the cgroup step.
    int e = static_cast<int>(-pid);
    bool cg = cgroup_fd >= 0 && (e == EBADF || e == EOPNOTSUPP || e == ENOENT || e == EBUSY || e == EACCES);
    return Failure(env, cg ? kStepCgroup : kStepClone3, e, 0);
  }
  own.Add(child_pidfd);

  // Without CLONE_FILES the child has its own copy of the write end: drop
  // ours so that its exec (or death) reads as EOF.
  if (!p.two_stage) {
    close(rep_w);
    own.fds[1] = -1;
  }

  Record err{};
  bool failed = false;
  int g_pid = -1, g_pidfd = -1;
  const char* map_syscall = nullptr;
  int map_err = 0;
  int32_t map_step = 0;
  auto take = [&](const Record& r) {
    if (r.kind == kError && !failed) {
      failed = true;
      err = r;
    } else if (r.kind == kGrandchild) {
      g_pid = r.detail;
      g_pidfd = r.fd;
    }
  };
  auto drain = [&] {
    Record r;
    while (read(rep[0], &r, sizeof r) == static_cast<ssize_t>(sizeof r)) take(r);
  };

  if (!p.need_maps) {
    // CLONE_VFORK: the child (or the relay) has exec'd or exited already.
    drain();
  } else {
    // The child runs beside us: serve its request for maps, then wait
    // for its exec (EOF) or its exit (pidfd readable).
    for (;;) {
      struct pollfd pf[2] = {{rep[0], POLLIN, 0}, {child_pidfd, POLLIN, 0}};
      if (poll(pf, 2, -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if (pf[0].revents & (POLLIN | POLLHUP)) {
        Record r;
        ssize_t n = read(rep[0], &r, sizeof r);
        if (n == 0) break;  // exec'd
        if (n != static_cast<ssize_t>(sizeof r)) continue;
        if (r.kind != kNeedMaps) {
          take(r);
          continue;
        }
        if (setgroups_deny) {
          map_err = WriteProcFile(static_cast<int>(pid), "setgroups", "deny", &map_syscall);
          map_step = kStepGidMap;
        }
        if (map_err == 0 && !gid_map.empty()) {
          map_err = WriteProcFile(static_cast<int>(pid), "gid_map", gid_map, &map_syscall);
          map_step = kStepGidMap;
        }
        if (map_err == 0 && !uid_map.empty()) {
          map_err = WriteProcFile(static_cast<int>(pid), "uid_map", uid_map, &map_syscall);
          map_step = kStepUidMap;
        }
        if (map_err != 0) {
          syscall(kSysPidfdSendSignal, child_pidfd, SIGKILL, nullptr, 0);
          break;
        }
        char go_byte = 1;
        if (write(go[1], &go_byte, 1) != 1) {
          syscall(kSysPidfdSendSignal, child_pidfd, SIGKILL, nullptr, 0);
          break;
        }
      } else if (pf[1].revents & POLLIN) {
        drain();
        break;
      }
    }
  }

  if (failed || map_err != 0 || (p.two_stage && g_pidfd < 0)) {
    if (g_pidfd >= 0) {
      Reap(g_pidfd);
      close(g_pidfd);
    }
    Reap(child_pidfd);  // the Fds guard closes it
    if (map_err != 0) return Failure(env, map_step, -map_err, 0, map_syscall);
    if (!failed) return Failure(env, kStepClone3, ESRCH, 0);  // the relay died without a word
    return Failure(env, err.step, err.err, err.detail);
  }

  Napi::Object out = Napi::Object::New(env);
  if (p.two_stage) {
    Reap(child_pidfd);  // the relay has exited
    out.Set("pidfd", g_pidfd);
    out.Set("pid", g_pid);
  } else {
    own.fds[own.fds.size() - 1] = -1;  // keep the child's pidfd: it is the result
    out.Set("pidfd", child_pidfd);
    out.Set("pid", static_cast<double>(pid));
  }
  return out;
}

// spawn_ns_links(pidfd, pid, names): the process's "type:[inode]" link for
// each namespace type name (or -errno for that one), then a check through
// the pidfd that the pid still named that process; or -errno overall. Runs
// on every spawn with a Pidfd join: a readlink costs about 3 us here, an
// nsfs fd (PIDFD_GET_*_NAMESPACE + fstat + close) about 5.
Napi::Value SpawnNsLinks(const Napi::CallbackInfo& info) {
  NSFD_INT(0, pidfd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  NSFD_INT(1, pid);
  if (info.Length() < 3 || !info[2].IsArray()) return Fail(info, "nsfd native: expected an array of types");
  Napi::Env env = info.Env();
  Napi::Array types = info[2].As<Napi::Array>();
  // Names first (reading an element may run JS), then the syscalls.
  std::vector<std::string> names;
  uint32_t n = types.Length();
  for (uint32_t i = 0; i < n; i++) {
    Napi::Value v;
    if (!GetElem(types, i, &v)) return env.Undefined();
    if (!v.IsString()) return Fail(info, "nsfd native: expected an array of types");
    names.push_back(v.As<Napi::String>().Utf8Value());
  }
  Napi::Array out = Napi::Array::New(env, names.size());
  std::string dir = "/proc/" + std::to_string(pid) + "/ns/";
  for (uint32_t i = 0; i < names.size(); i++) {
    char buf[64];
    // A type name is one path component (no "../", no null byte cutting it short).
    const std::string& t = names[i];
    ssize_t r = t.empty() || t.find_first_of(std::string("/\0", 2)) != std::string::npos
                    ? (errno = EINVAL, -1)
                    : readlink((dir + t).c_str(), buf, sizeof buf);
    if (r < 0)
      out.Set(i, -errno);
    else
      out.Set(i, Napi::String::New(env, buf, static_cast<size_t>(r)));
  }
  if (syscall(kSysPidfdSendSignal, static_cast<int>(pidfd), 0, nullptr, 0) < 0) return Num(info, -errno);
  return out;
}

// socketpair(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC): stdio 'pipe', as libuv does.
Napi::Value Socketpair(const Napi::CallbackInfo& info) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return Num(info, -errno);
  Napi::Array a = Napi::Array::New(info.Env(), 2);
  a.Set(0u, sv[0]);
  a.Set(1u, sv[1]);
  return a;
}

}  // namespace

void InitSpawn(Napi::Env env, Napi::Object exports) {
  exports.Set("spawn_clone3", Napi::Function::New(env, SpawnClone3, "spawn_clone3"));
  exports.Set("spawn_ns_links", Napi::Function::New(env, SpawnNsLinks, "spawn_ns_links"));
  exports.Set("socketpair", Napi::Function::New(env, Socketpair, "socketpair"));
}

}  // namespace nsfd
