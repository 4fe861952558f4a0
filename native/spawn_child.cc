// spawn_clone3's child side: what runs between clone3 and execve. The
// parent side (reading the spec, building the Plan, the report loop) and
// the overview of the spawn shapes are in spawn.cc.
//
// The child is made with clone3(CLONE_VM|CLONE_VFORK|CLONE_PIDFD) on a stack
// of its own and shares our memory until execve: it runs only raw syscalls
// (inline asm, errno never touched), no malloc, no locks, no libc.
// Everything it needs is in the Plan. Failures come back as Records on the
// report pipe (spawn_wire.h).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "raw_syscall.h"
#include "spawn_child.h"
#include "uapi.h"

namespace nsfd {
namespace {

// --- raw syscalls: return -errno, never touch errno (the child shares our TLS)

inline long Sys(long n, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0, long f = 0) {
  return nsfd_raw_syscall(n, a, b, c, d, e, f);
}

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
namespace spawn {

// --- child side (async-signal-safe: raw syscalls only) ---------------------

// Code that runs in the child, on its own stack: never instrumented (a
// sanitizer's runtime may allocate or take locks, which the child must not).
#define NSFD_CHILD __attribute__((no_sanitize("address", "undefined")))

namespace {

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
NSFD_CHILD bool ParentGone(int parent_pidfd) {
  if (parent_pidfd < 0) return false;
  struct pollfd pfd;
  pfd.fd = parent_pidfd;
  pfd.events = POLLIN;
  pfd.revents = 0;
  struct timespec zero = {0, 0};
  long r = Sys(SYS_ppoll, reinterpret_cast<long>(&pfd), 1, reinterpret_cast<long>(&zero), 0, 8);
  return r > 0 && (pfd.revents & POLLIN);
}

// The go byte: 1, 0 at EOF, or -errno.
NSFD_CHILD long AwaitGo(int fd) {
  char c;
  long r;
  do r = Sys(SYS_read, fd, reinterpret_cast<long>(&c), 1);
  while (r == -EINTR);
  return r;
}

// The go byte with n fds attached (SCM_RIGHTS, made O_CLOEXEC), stored in
// out[0..n): 1, 0 at EOF (or not exactly n fds came), or -errno. The
// buffers are on our stack, sized for kMaxTrees.
NSFD_CHILD long RecvFds(int sock, int* out, int n) {
  char c;
  struct iovec iov = {&c, 1};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxTrees)];
  struct msghdr m;
  volatile char* z = reinterpret_cast<volatile char*>(&m);  // no memset: no libc
  for (size_t k = 0; k < sizeof m; k++) z[k] = 0;
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = control;
  m.msg_controllen = CMSG_SPACE(sizeof(int) * n);
  long r;
  do r = Sys(SYS_recvmsg, sock, reinterpret_cast<long>(&m), MSG_CMSG_CLOEXEC);
  while (r == -EINTR);
  if (r != 1) return r;
  // (CMSG_FIRSTHDR and CMSG_DATA are pointer arithmetic, no libc call.)
  struct cmsghdr* h = CMSG_FIRSTHDR(&m);
  if (h == nullptr || h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS || h->cmsg_len != CMSG_LEN(sizeof(int) * n)) return 0;
  const unsigned char* d = CMSG_DATA(h);
  for (int i = 0; i < n; i++) {
    int fd = 0;
    for (size_t k = 0; k < sizeof fd; k++) reinterpret_cast<unsigned char*>(&fd)[k] = d[i * sizeof fd + k];
    out[i] = fd;
  }
  return 1;
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
    if (ParentGone(p->parent_pidfd)) Sys(SYS_exit_group, 127);
    Report(rep, kNeedMaps, kStepSync, 0);
    long r = p->ntrees > 0 ? RecvFds(p->go_fd, p->tree_fds, p->ntrees) : AwaitGo(p->go_fd);
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
const uint64_t kAllSignals = ~0ULL;

// 1. Fds. Copy every source above the highest slot first, so a source
// sitting in another's slot is not overwritten; then place the copies.
// Returns the report fd, moved above the slots (it may sit in one), and
// moves *parent_pidfd there too: a slot may be its number, and a poll of
// whatever landed there would say the parent is gone.
NSFD_CHILD int PlaceFds(const Plan* p, int rep, int* parent_pidfd, int* exec_fd) {
  int hi = p->max_slot + 1;
  if (hi < 3) hi = 3;
  long r = Sys(SYS_fcntl, rep, F_DUPFD_CLOEXEC, hi);
  if (r < 0) Die(rep, kStepDup, r, -1);
  rep = static_cast<int>(r);  // the report fd may sit in a slot
  if (*parent_pidfd >= 0) {
    r = Sys(SYS_fcntl, *parent_pidfd, F_DUPFD_CLOEXEC, hi);
    if (r < 0) Die(rep, kStepDup, r, -1);
    *parent_pidfd = static_cast<int>(r);
  }
  if (*exec_fd >= 0) {  // the init to execveat: kept (close on exec) above the slots
    r = Sys(SYS_fcntl, *exec_fd, F_DUPFD_CLOEXEC, hi);
    if (r < 0) Die(rep, kStepDup, r, -1);
    *exec_fd = static_cast<int>(r);
  }
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
  return rep;
}

// 2. Filesystem. A new /proc must not propagate back to the host: make
// the new mount namespace private first (as unshare --mount-proc does).
NSFD_CHILD void EnterFilesystem(const Plan* p, int rep, bool chroot_to) {
  long r;
  if (p->mount_proc) {
    r = Sys(SYS_mount, reinterpret_cast<long>("none"), reinterpret_cast<long>("/"), 0, MS_REC | MS_PRIVATE, 0);
    if (r < 0) Die(rep, kStepMount, r);
  }
  if (chroot_to) {
    r = Sys(SYS_chroot, reinterpret_cast<long>(p->root_fd >= 0 ? "." : p->root));
    if (r < 0) Die(rep, kStepChroot, r);
    // Into the new root at once: the cwd is still outside it (Node's, or
    // the root fd's parent), and a relative cwd must resolve from "/".
    r = Sys(SYS_chdir, reinterpret_cast<long>("/"));
    if (r < 0) Die(rep, kStepChdir, r);
  }
  if (p->mount_proc) {
    r = Sys(SYS_mount, reinterpret_cast<long>("proc"), reinterpret_cast<long>("/proc"),
            reinterpret_cast<long>("proc"), MS_NOSUID | MS_NODEV | MS_NOEXEC, 0);
    if (r < 0) Die(rep, kStepMountProc, r);
  }
  if (p->cwd != nullptr) {
    r = Sys(SYS_chdir, reinterpret_cast<long>(p->cwd));
    if (r < 0) Die(rep, kStepChdir, r);
  }
}


// 2a. Root filesystem by pivot_root (rootfs_fd >= 0). Done here, between
// clone and exec, rather than in an init binary: it then works for any
// program, `init: false` included, and costs no extra exec. The steps are
// runc's and bubblewrap's:
//  - unshare the mount namespace only now, with the cwd on the rootfs: the
//    kernel moves the cwd into the new namespace's copy of it (an fd opened
//    before would still name the host's mount, which mount calls refuse);
//  - everything rslave: nothing we mount propagates back to the host;
//  - the rootfs bind-mounted onto itself (open_tree + move_mount), so it is
//    a mount of its own that pivot_root accepts;
//  - the fs ops (spawn_wire.h), every destination resolved under the new
//    root one component at a time, with no symlink and no "..", and made
//    when missing: a bare directory is a valid rootfs. Mounts are made with
//    the new mount API and attached by fd, never by a path the rootfs
//    could redirect between the check and the mount;
//  - pivot_root(".", "."), the old root detached (pivot_root(2)'s recipe).
NSFD_CHILD const char* FsStr(const Plan* p, int32_t i) { return i >= 0 ? p->fs_strs[i] : nullptr; }

// Resolves `path` (relative, normalised) under `root`: an O_PATH fd or
// -errno. create: 0 nothing, 1 missing directories, 2 those and the last
// component as an empty file.
NSFD_CHILD long Resolve(int root, const char* path, int create) {
  OpenHow how;
  how.mode = 0;
  how.resolve = kResolveNoSymlinks | kResolveBeneath | kResolveNoMagiclinks;
  char name[256];
  long cur = root;
  bool own = false;
  const char* s = path;
  while (*s != 0) {
    int n = 0;
    while (s[n] != 0 && s[n] != '/') {
      if (n == 255) {
        if (own) Sys(SYS_close, cur);
        return -ENAMETOOLONG;
      }
      name[n] = s[n];
      n++;
    }
    name[n] = 0;
    const char* next = s + n;
    while (*next == '/') next++;
    bool last = *next == 0;
    bool as_file = last && create == 2;
    // A directory is required on the way and when one is to be made; a
    // last component only looked up may be anything (a file to mask).
    how.flags = O_PATH | O_CLOEXEC | (!last || create == 1 ? O_DIRECTORY : 0);
    long fd = Sys(kSysOpenat2, cur, reinterpret_cast<long>(name), reinterpret_cast<long>(&how), sizeof how);
    if (fd == -ENOENT && create != 0) {
      long r;
      if (as_file) {
        r = Sys(SYS_openat, cur, reinterpret_cast<long>(name), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (r >= 0) Sys(SYS_close, r);
      } else {
        r = Sys(SYS_mkdirat, cur, reinterpret_cast<long>(name), 0755);
      }
      if (r < 0 && r != -EEXIST) fd = r;
      else fd = Sys(kSysOpenat2, cur, reinterpret_cast<long>(name), reinterpret_cast<long>(&how), sizeof how);
    }
    if (own) Sys(SYS_close, cur);
    if (fd < 0) return fd;
    cur = fd;
    own = true;
    s = next;
  }
  if (!own) return Sys(SYS_fcntl, root, F_DUPFD_CLOEXEC, 0);
  return cur;
}

// Attaches the detached mount m on dest under root (made unless optional):
// 0, or -errno with *step set. Closes m.
NSFD_CHILD long Attach(long m, int root, const char* dest, int32_t flags, int32_t* step) {
  long t = Resolve(root, dest, (flags & kFsOptional) ? 0 : (flags & kFsFile) ? 2 : 1);
  if (t < 0) {
    Sys(SYS_close, m);
    if (t == -ENOENT && (flags & kFsOptional)) return 0;
    *step = kStepFsResolve;
    return t;
  }
  long r = Sys(kSysMoveMount, m, reinterpret_cast<long>(""), t, reinterpret_cast<long>(""), kMoveMountFEmptyPath | kMoveMountTEmptyPath);
  Sys(SYS_close, t);
  Sys(SYS_close, m);
  if (r < 0) *step = kStepFsMove;
  return r;
}

// fsopen + fsconfig + fsmount: a detached mount fd, or -errno with *step set.
NSFD_CHILD long NewFs(const Plan* p, const char* fstype, int32_t opt_start, int32_t nopts, int32_t attrs, int32_t* step) {
  long fs = Sys(kSysFsopen, reinterpret_cast<long>(fstype), kFsopenCloexec);
  if (fs < 0) return *step = kStepFsFsopen, fs;
  long r = 0;
  for (int i = 0; i < nopts && r >= 0; i++) {
    const char* o = FsStr(p, opt_start + i);
    char key[256];
    int n = 0;
    while (o[n] != 0 && o[n] != '=' && n < 255) key[n] = o[n], n++;
    key[n] = 0;
    if (o[n] == '=') r = Sys(kSysFsconfig, fs, kFsconfigSetString, reinterpret_cast<long>(key), reinterpret_cast<long>(o + n + 1), 0);
    else if (o[n] == 0) r = Sys(kSysFsconfig, fs, kFsconfigSetFlag, reinterpret_cast<long>(key), 0, 0);
    else r = -ENAMETOOLONG;
  }
  if (r >= 0) r = Sys(kSysFsconfig, fs, kFsconfigCmdCreate, 0, 0, 0);
  if (r < 0) {
    Sys(SYS_close, fs);
    return *step = kStepFsFsconfig, r;
  }
  long m = Sys(kSysFsmount, fs, kFsmountCloexec, attrs);
  Sys(SYS_close, fs);
  if (m < 0) *step = kStepFsFsmount;
  return m;
}

// A clone of src (a host path, or a path under root): a detached mount fd.
NSFD_CHILD long CloneTree(int root, const char* src, int32_t flags, int32_t attrs, int32_t* step) {
  long rec = (flags & kFsRecursive) ? kAtRecursive : 0;
  long m;
  if (flags & kFsSrcInRoot) {
    long s = Resolve(root, src, 0);
    if (s < 0) return *step = kStepFsResolve, s;
    m = Sys(kSysOpenTree, s, reinterpret_cast<long>(""), kOpenTreeClone | kOpenTreeCloexec | AT_EMPTY_PATH | rec);
    Sys(SYS_close, s);
  } else {
    m = Sys(kSysOpenTree, AT_FDCWD, reinterpret_cast<long>(src), kOpenTreeClone | kOpenTreeCloexec | rec);
  }
  if (m < 0) return *step = kStepFsOpenTree, m;
  if (attrs != 0) {
    MountAttr a = {static_cast<uint64_t>(static_cast<uint32_t>(attrs)), 0, 0, 0};
    long r = Sys(kSysMountSetattr, m, reinterpret_cast<long>(""), AT_EMPTY_PATH | rec, reinterpret_cast<long>(&a), sizeof a);
    if (r < 0) {
      Sys(SYS_close, m);
      return *step = kStepFsSetattr, r;
    }
  }
  return m;
}

// Splits "a/b/name" into its parent (resolved, made) and its last component.
NSFD_CHILD long ParentOf(int root, const char* dest, char* name, int32_t* step) {
  char dir[512];
  int n = 0, slash = -1;
  for (; dest[n] != 0; n++) {
    if (n >= 511) return *step = kStepFsResolve, -ENAMETOOLONG;
    dir[n] = dest[n];
    if (dest[n] == '/') slash = n;
  }
  dir[slash < 0 ? 0 : slash] = 0;
  int k = 0;
  for (const char* c = dest + slash + 1; *c != 0 && k < 255; c++) name[k++] = *c;
  name[k] = 0;
  long d = Resolve(root, dir, 1);
  if (d < 0) *step = kStepFsResolve;
  return d;
}

// One fs op: 0 or -errno with *step set.
NSFD_CHILD long FsOp(const Plan* p, const int32_t* op, int root, int32_t* step) {
  int32_t kind = op[0], flags = op[7], attrs = op[6];
  const char* dest = FsStr(p, op[1]);
  const char* src = FsStr(p, op[2]);
  switch (kind) {
    case kFsOpMount: {
      long m = NewFs(p, FsStr(p, op[3]), op[4], op[5], attrs, step);
      return m < 0 ? m : Attach(m, root, dest, flags, step);
    }
    case kFsOpBind: {
      // (kFsIdmap: the parent's tree, received with the go; op[3] its index.)
      long m = (flags & kFsIdmap) ? p->tree_fds[op[3]] : CloneTree(root, src, flags, attrs, step);
      if (m == -ENOENT && (flags & kFsOptional)) return 0;
      return m < 0 ? m : Attach(m, root, dest, flags, step);
    }
    case kFsOpMask: {
      long t = Resolve(root, dest, 0);
      if (t == -ENOENT) return 0;
      if (t < 0) return *step = kStepFsResolve, t;
      struct statx stx;
      long r = Sys(SYS_statx, t, reinterpret_cast<long>(""), AT_EMPTY_PATH, STATX_TYPE, reinterpret_cast<long>(&stx));
      Sys(SYS_close, t);
      if (r < 0) return *step = kStepFsResolve, r;
      bool dir = (stx.stx_mode & S_IFMT) == S_IFDIR;
      long m = dir ? NewFs(p, "tmpfs", 0, 0, static_cast<int32_t>(kMountAttrRdonly), step) : CloneTree(root, src, 0, 0, step);
      return m < 0 ? m : Attach(m, root, dest, kFsOptional, step);
    }
    case kFsOpSymlink: {
      char name[256];
      long d = ParentOf(root, dest, name, step);
      if (d < 0) return d;
      long r = Sys(SYS_symlinkat, reinterpret_cast<long>(src), d, reinterpret_cast<long>(name));
      Sys(SYS_close, d);
      if (r < 0) *step = kStepFsSymlink;
      return r;
    }
    case kFsOpRootAttrs: {
      MountAttr a = {static_cast<uint64_t>(static_cast<uint32_t>(attrs)), 0, 0, 0};
      long rec = (flags & kFsRecursive) ? kAtRecursive : 0;
      long r = Sys(kSysMountSetattr, root, reinterpret_cast<long>(""), AT_EMPTY_PATH | rec, reinterpret_cast<long>(&a), sizeof a);
      if (r < 0) *step = kStepFsSetattr;
      return r;
    }
    default:
      *step = kStepRootfs;
      return -EINVAL;
  }
}

NSFD_CHILD void EnterRootfs(const Plan* p, int rep) {
  long r = Sys(SYS_fchdir, p->rootfs_fd);
  if (r < 0) Die(rep, kStepRoot, r);
  r = Sys(kSysUnshare, kCloneNewns);
  if (r < 0) Die(rep, kStepRootfs, r, -1);
  r = Sys(SYS_mount, 0, reinterpret_cast<long>("/"), 0, MS_REC | MS_SLAVE, 0);
  if (r < 0) Die(rep, kStepMount, r);
  if (p->need_maps) {
    // In a user namespace of our own, mount points and /dev nodes are made
    // as its root: our host ids may be unmapped there, and then could
    // create nothing (EOVERFLOW) in its tmpfs or through an idmapped tree.
    // Only the fs ids (a no-op when 0 is not mapped): SetCredentials sets
    // the rest later.
    Sys(SYS_setfsgid, 0);
    Sys(SYS_setfsuid, 0);
  }
  // The bind of the rootfs onto itself: ours, or the idmapped copy the
  // parent sent (made after our maps, with our user namespace).
  long t = p->idmap_rootfs ? p->tree_fds[0] : Sys(kSysOpenTree, AT_FDCWD, reinterpret_cast<long>("."), kOpenTreeClone | kOpenTreeCloexec | kAtRecursive);
  if (t < 0) Die(rep, kStepFsOpenTree, t, -1);
  r = Sys(kSysMoveMount, t, reinterpret_cast<long>(""), AT_FDCWD, reinterpret_cast<long>("."), kMoveMountFEmptyPath);
  if (r < 0) Die(rep, kStepFsMove, r, -1);
  int root = static_cast<int>(t);  // the attached bind: the new root
  for (int i = 0; i < p->nfs_ops; i++) {
    int32_t step = kStepRootfs;
    r = FsOp(p, p->fs_ops + i * kFsOpInts, root, &step);
    if (r < 0) Die(rep, step, r, i);
  }
  r = Sys(SYS_fchdir, root);
  if (r < 0) Die(rep, kStepPivotRoot, r, -1);
  r = Sys(SYS_pivot_root, reinterpret_cast<long>("."), reinterpret_cast<long>("."));
  if (r < 0) Die(rep, kStepPivotRoot, r, -1);
  // The old root is stacked on "." now: detach it (rslave already, so the
  // host does not see the unmount).
  r = Sys(SYS_umount2, reinterpret_cast<long>("."), MNT_DETACH);
  if (r < 0) Die(rep, kStepUmountOld, r, -1);
  r = Sys(SYS_chdir, reinterpret_cast<long>("/"));
  if (r < 0) Die(rep, kStepChdir, r);
  Sys(SYS_close, root);
}

// 2b. Host name and lo, before the workload can see them (and before the
// credentials change: both need CAP_SYS_ADMIN / CAP_NET_ADMIN there).
NSFD_CHILD long Strlen(const char* s) {
  long n = 0;
  while (s[n] != 0) n++;
  return n;
}
NSFD_CHILD void SetUts(const Plan* p, int rep) {
  long r;
  if (p->hostname != nullptr) {
    r = Sys(SYS_sethostname, reinterpret_cast<long>(p->hostname), Strlen(p->hostname));
    if (r < 0) Die(rep, kStepHostname, r);
  }
  if (p->domainname != nullptr) {
    r = Sys(SYS_setdomainname, reinterpret_cast<long>(p->domainname), Strlen(p->domainname));
    if (r < 0) Die(rep, kStepDomainname, r);
  }
  if (p->loopback_up) {
    long s = Sys(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) Die(rep, kStepLoopback, s);
    struct ifreq ifr;
    volatile char* z = reinterpret_cast<volatile char*>(&ifr);  // no memset: no libc
    for (size_t k = 0; k < sizeof ifr; k++) z[k] = 0;
    ifr.ifr_name[0] = 'l';
    ifr.ifr_name[1] = 'o';
    r = Sys(SYS_ioctl, s, kSiocgifflags, reinterpret_cast<long>(&ifr));
    if (r >= 0) {
      ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | kIffUp);
      r = Sys(SYS_ioctl, s, kSiocsifflags, reinterpret_cast<long>(&ifr));
    }
    Sys(SYS_close, s);
    if (r < 0) Die(rep, kStepLoopback, r);
  }
}

// 3. Credentials: groups, then gid, then uid (after setuid we may no longer change the others).
NSFD_CHILD void SetCredentials(const Plan* p, int rep) {
  long r;
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
}

// --- privileges (the order is runc's: rlimits, bounding drop, keepcaps,
// setuid, capset, ambient; no_new_privs and seccomp last) ---------------

// rlimits come before the credentials: raising a hard limit needs
// CAP_SYS_RESOURCE, which the capability drop may take away.
NSFD_CHILD void SetRlimits(const Plan* p, int rep) {
  for (int i = 0; i < p->nrlimits; i++) {
    const int64_t* t = p->rlimits + 3 * i;
    uint64_t lim[2] = {t[1] < 0 ? ~0ULL : static_cast<uint64_t>(t[1]), t[2] < 0 ? ~0ULL : static_cast<uint64_t>(t[2])};
    long r = Sys(SYS_prlimit64, 0, t[0], reinterpret_cast<long>(lim), 0);
    if (r < 0) Die(rep, kStepRlimit, r, static_cast<int32_t>(t[0]));
  }
}

NSFD_CHILD bool CapBit(const uint32_t* mask2, int cap) { return (mask2[cap / 32] >> (cap % 32)) & 1; }

// The bounding set, while we still hold CAP_SETPCAP: drop what is not
// asked for and still there. A cap above the kernel's last reads EINVAL:
// the end. (PR_CAPBSET_DROP needs CAP_SETPCAP even for a cap already gone,
// hence the read first: an unprivileged spawn that asks for no cap it
// lacks drops nothing.)
NSFD_CHILD void DropBounding(const Plan* p, int rep) {
  for (int cap = 0; cap < 64; cap++) {
    if (CapBit(p->caps, cap)) continue;
    long r = Sys(SYS_prctl, kPrCapbsetRead, cap);
    if (r == -EINVAL) break;
    if (r <= 0) continue;
    r = Sys(SYS_prctl, kPrCapbsetDrop, cap);
    if (r < 0) Die(rep, kStepCapBounding, r, cap);
  }
}

// After setresuid: effective, permitted, inheritable in one capset (v3),
// then the ambient set, each cap of which must be permitted and inheritable.
NSFD_CHILD void SetCapabilities(const Plan* p, int rep) {
  CapHeader h;
  h.version = kCapabilityVersion3;
  h.pid = 0;
  CapData d[2];
  for (int i = 0; i < 2; i++) {
    d[i].effective = p->caps[2 + i];
    d[i].permitted = p->caps[4 + i];
    d[i].inheritable = p->caps[6 + i];
  }
  long r = Sys(kSysCapset, reinterpret_cast<long>(&h), reinterpret_cast<long>(d));
  if (r < 0) Die(rep, kStepCapset, r);
  r = Sys(SYS_prctl, kPrCapAmbient, kPrCapAmbientClearAll);
  if (r < 0 && r != -EINVAL) Die(rep, kStepCapAmbient, r, -1);  // EINVAL: before 4.3, no ambient set
  for (int cap = 0; cap < 64; cap++) {
    if (!CapBit(p->caps + 8, cap)) continue;
    r = Sys(SYS_prctl, kPrCapAmbient, kPrCapAmbientRaise, cap);
    if (r < 0) Die(rep, kStepCapAmbient, r, cap);
  }
}

NSFD_CHILD void InstallSeccomp(const Plan* p, int rep) {
  long r = Sys(kSysSeccomp, kSeccompSetModeFilter, 0, reinterpret_cast<long>(p->seccomp));
  if (r < 0) Die(rep, kStepSeccomp, r);
}

// 5. Signals: CLONE_CLEAR_SIGHAND reset handlers but kept "ignored"
// (Node ignores SIGPIPE); reset those as libuv does, then unblock all.
NSFD_CHILD void ResetSignals(const Plan* p, int rep) {
  for (int sig = 1; sig < 32; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    long r = Sys(SYS_rt_sigaction, sig, reinterpret_cast<long>(&kDefaultAction), 0, 8);
    if (r < 0) Die(rep, kStepSignals, r, sig);
  }
  // Or all blocked, for an init: a signal sent before it takes them is
  // then queued, not lost (pid 1 drops a signal it has no handler for).
  Sys(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(p->block_signals ? &kAllSignals : &kNoSignals), 0, 8);
}

// 6. execve, each candidate in turn like execvp: keep looking past
// ENOENT/ENOTDIR/EACCES, stop at anything else.
[[noreturn]] NSFD_CHILD void Exec(const Plan* p, int rep, int exec_fd) {
  if (exec_fd >= 0) {  // a program of ours (the init), by fd: nothing in the rootfs needed
    long r = Sys(SYS_execveat, exec_fd, reinterpret_cast<long>(""), reinterpret_cast<long>(p->argv),
                 reinterpret_cast<long>(p->envp), AT_EMPTY_PATH);
    Die(rep, kStepExecve, r, 0);
  }
  long first_eacces = 0;
  long r = -ENOENT;
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
  // (So is a rootfs: its ops use fds of their own, closed before step 1.)
  if (p->rootfs_fd >= 0) EnterRootfs(p, rep);
  int parent_pidfd = p->parent_pidfd;
  int exec_fd = p->exec_fd;
  rep = PlaceFds(p, rep, &parent_pidfd, &exec_fd);
  if (p->new_session) {
    long r = Sys(SYS_setsid);
    if (r < 0) Die(rep, kStepSetsid, r);
  }
  EnterFilesystem(p, rep, chroot_to);
  // Needs CAP_SYS_ADMIN over the new uts/net namespaces: before the drop.
  SetUts(p, rep);
  SetRlimits(p, rep);
  // Without no_new_privs a filter needs CAP_SYS_ADMIN: install it before
  // the drop (as runc does); it must then allow what follows.
  bool early_seccomp = p->seccomp != nullptr && !p->no_new_privs;
  if (early_seccomp) InstallSeccomp(p, rep);
  bool keep = p->caps != nullptr && p->uid >= 0;
  if (p->caps != nullptr) DropBounding(p, rep);
  if (keep) {
    // setresuid away from 0 would clear the permitted set.
    long r = Sys(SYS_prctl, kPrSetKeepcaps, 1);
    if (r < 0) Die(rep, kStepKeepCaps, r);
  }
  SetCredentials(p, rep);
  if (keep) Sys(SYS_prctl, kPrSetKeepcaps, 0);
  if (p->caps != nullptr) SetCapabilities(p, rep);

  // 4. Death signal last: a credential change clears it. Then check that
  // the parent did not die before it took hold.
  if (p->kill_on_close) {
    long r = Sys(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);
    if (r < 0) Die(rep, kStepPrctl, r);
    if (ParentGone(parent_pidfd)) Sys(SYS_exit_group, 127);
  }
  if (p->no_new_privs) {
    long r = Sys(SYS_prctl, kPrSetNoNewPrivs, 1);
    if (r < 0) Die(rep, kStepNoNewPrivs, r);
  }
  ResetSignals(p, rep);
  // As late as can be: the fewer calls the filter must allow, the better.
  if (p->seccomp != nullptr && !early_seccomp) InstallSeccomp(p, rep);
  Exec(p, rep, exec_fd);
}

}  // namespace

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

}  // namespace spawn
}  // namespace nsfd
