// Work inside another process's namespaces without moving the caller.
//
// Two vehicles, both short-lived, both sharing our fd table so whatever
// they open lands directly in it:
//
//  - inns_thread: a fresh pthread joins ONE namespace that a thread of a
//    multithreaded process may join (net, uts, ipc, cgroup), does one
//    operation, and exits. Nothing of ours ever runs in the foreign
//    namespace afterwards: the thread is gone.
//
//  - inns_helper: a vfork-style child, clone(CLONE_VM|CLONE_VFORK|
//    CLONE_FILES, exit signal 0) on its own stack. It is a separate,
//    single-threaded process with its own fs_struct, so it may join user
//    and mount namespaces (and pid, for its own child), which no thread of
//    Node may. It shares our memory (results are written straight into the
//    Job) and our fd table. We are suspended until it exits, then reap it
//    with waitpid(pid, __WALL): exit signal 0 means no SIGCHLD, so libuv's
//    handler never sees it. All signals are blocked across the clone so no
//    handler of ours ever runs on the child's stack.
//
// Code reachable from the child (Child, RunOp and everything they call) is
// async-signal-safe: raw syscalls and plain memory, no malloc, no locks,
// no glibc wrappers that take locks (setresuid goes through syscall(2), as
// glibc's setresuid would signal every thread of ours).
#include <arpa/inet.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "uapi.h"
#include "util.h"

namespace nsfd {
namespace {

constexpr unsigned kMoveMountTEmptyPath = 0x00000040;
constexpr unsigned kAtRecursive = 0x8000;
constexpr unsigned kAtEmptyPath = 0x1000;

struct MountAttr {
  uint64_t attr_set;
  uint64_t attr_clr;
  uint64_t propagation;
  uint64_t userns_fd;
};
static_assert(sizeof(MountAttr) == 32);

// Operations (mirrored in lib/inns.ts).
enum Op : int {
  kOpSocket = 1,       // i: domain, type, protocol, sockopt bits; buf: sockaddr to bind (optional)
  kOpOpen = 2,         // i: rootfd (-1: "/"), flags, mode, resolve; s: path
  kOpMkdir = 3,        // i: rootfd, mode, resolve, recursive; s: path (normalized, absolute)
  kOpSethostname = 4,  // s: name
  kOpFsmount = 5,      // i: rootfd, attr flags, resolve; s: fstype, target, "key=value"|"flag"...
  kOpMoveMount = 6,    // i: treefd, rootfd, resolve; s: target
  kOpMakePrivate = 7,  // mount(NULL, "/", NULL, MS_REC|MS_PRIVATE)
  kOpSetdomainname = 8,
};

// Steps, reported with a failure so JS can say which syscall failed.
enum Step : int {
  kStepNone = 0,
  kStepSetns = 1,
  kStepSetresuid = 2,
  kStepClone = 3,
  kStepOpenRoot = 4,
  kStepOpenat2 = 5,
  kStepSocket = 6,
  kStepSetsockopt = 7,
  kStepBind = 8,
  kStepMkdirat = 9,
  kStepSethostname = 10,
  kStepFsopen = 11,
  kStepFsconfig = 12,
  kStepFsmount = 13,
  kStepMoveMount = 14,
  kStepMount = 15,
  kStepWait = 16,
  kStepBadOp = 17,
  kStepSetdomainname = 18,
};

// Helper flags.
constexpr int kHelperBecomeRoot = 1;  // after a user-ns join: setresgid/setresuid(0) when 0 is mapped
constexpr int kHelperIntoPidns = 2;   // run the op in a grandchild (member of the joined pid ns)

constexpr int kMaxJoins = 10;
constexpr int kMaxInts = 8;
constexpr int kMaxStrs = 34;
constexpr size_t kStackSize = 128 * 1024;
constexpr int kMaxAgain = 64;

struct Job {
  int njoins = 0;
  int join_fd[kMaxJoins];
  int join_type[kMaxJoins];
  int flags = 0;
  int op = 0;
  int64_t i[kMaxInts];
  char* s[kMaxStrs];
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

inline long Sys(long r) { return r < 0 ? -errno : r; }

inline void SetFail(Job* j, int step, long err, int index = 0) {
  j->result = err;
  j->step = step;
  j->index = index;
}

// openat2 with the kernel's EAGAIN (a rename or mount raced a ".."
// lookup under RESOLVE_IN_ROOT/BENEATH) retried a bounded number of times.
long Openat2(int dirfd, const char* path, uint64_t flags, uint64_t mode, uint64_t resolve) {
  OpenHow how;
  std::memset(&how, 0, sizeof how);
  how.flags = flags | O_CLOEXEC;
  how.mode = mode;
  how.resolve = resolve;
  long r = -EAGAIN;
  for (int tries = 0; tries < kMaxAgain && r == -EAGAIN; tries++) {
    r = Sys(syscall(kSysOpenat2, dirfd, path, &how, sizeof how));
  }
  return r;
}

// The root the op resolves under: the given fd, or an O_PATH fd of "/"
// (after a mount-ns join, "/" is that namespace's root). *owned says
// whether the caller must close it.
long RootFd(Job* j, int64_t given, bool* owned) {
  *owned = false;
  if (given >= 0) return given;
  long r = Sys(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (r < 0) {
    SetFail(j, kStepOpenRoot, r);
    return r;
  }
  *owned = true;
  return r;
}

void OpSocket(Job* j) {
  int domain = static_cast<int>(j->i[0]);
  int type = static_cast<int>(j->i[1]);
  int proto = static_cast<int>(j->i[2]);
  int bits = static_cast<int>(j->i[3]);
  long fd = Sys(socket(domain, type | SOCK_CLOEXEC, proto));
  if (fd < 0) return SetFail(j, kStepSocket, fd);
  int one = 1, zero = 0;
  long r = 0;
  if ((bits & 1) && r >= 0) r = Sys(setsockopt(static_cast<int>(fd), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
  if ((bits & 2) && r >= 0) r = Sys(setsockopt(static_cast<int>(fd), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one));
  if ((bits & 4) && r >= 0) r = Sys(setsockopt(static_cast<int>(fd), IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero));
  if ((bits & 8) && r >= 0) r = Sys(setsockopt(static_cast<int>(fd), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one));
  if (r < 0) {
    close(static_cast<int>(fd));
    return SetFail(j, kStepSetsockopt, r);
  }
  if (j->buflen > 0) {
    r = Sys(bind(static_cast<int>(fd), static_cast<const sockaddr*>(j->buf), static_cast<socklen_t>(j->buflen)));
    if (r < 0) {
      close(static_cast<int>(fd));
      return SetFail(j, kStepBind, r);
    }
  }
  j->result = fd;
}

void OpOpen(Job* j) {
  bool owned;
  long root = RootFd(j, j->i[0], &owned);
  if (root < 0) return;
  long r = Openat2(static_cast<int>(root), j->s[0], static_cast<uint64_t>(j->i[1]), static_cast<uint64_t>(j->i[2]),
                   static_cast<uint64_t>(j->i[3]));
  if (owned) close(static_cast<int>(root));
  if (r < 0) return SetFail(j, kStepOpenat2, r);
  j->result = r;
}

// mkdir of j->s[0] (absolute, normalized: "/a/b/c", no "." or ".." parts)
// under the root. Each parent is resolved from the root with the resolve
// flags, and the last component is created with mkdirat(parentfd, name),
// which never follows a symlink there. Recursive: every missing component.
void OpMkdir(Job* j) {
  bool owned;
  long root = RootFd(j, j->i[0], &owned);
  if (root < 0) return;
  mode_t mode = static_cast<mode_t>(j->i[1]);
  uint64_t resolve = static_cast<uint64_t>(j->i[2]);
  bool recursive = j->i[3] != 0;
  char* path = j->s[0];
  size_t len = std::strlen(path);
  long result = -EEXIST;
  int step = kStepMkdirat;
  // Walk component ends: for each '/' after a component (and the end).
  for (size_t end = 1; end <= len; end++) {
    if (end < len && path[end] != '/') continue;
    if (!recursive && end < len) continue;
    // split: parent = path[0..start), name = path[start..end)
    size_t start = end;
    while (start > 0 && path[start - 1] != '/') start--;
    char saved_sep = path[start - 1];
    char saved_end = path[end];
    path[end] = '\0';
    long parent;
    if (start <= 1) {
      parent = Sys(fcntl(static_cast<int>(root), F_DUPFD_CLOEXEC, 3));
    } else {
      path[start - 1] = '\0';
      parent = Openat2(static_cast<int>(root), path, O_PATH | O_DIRECTORY, 0, resolve);
      path[start - 1] = saved_sep;
    }
    if (parent < 0) {
      path[end] = saved_end;
      result = parent;
      step = kStepOpenat2;
      break;
    }
    long r = Sys(mkdirat(static_cast<int>(parent), path + start, mode));
    step = kStepMkdirat;
    if (r == -EEXIST && recursive) {
      // Fine if it is a directory (or a symlink resolving to one inside the root).
      long d = Openat2(static_cast<int>(root), path, O_PATH | O_DIRECTORY, 0, resolve);
      if (d >= 0) {
        close(static_cast<int>(d));
        r = 0;
      } else if (d != -ENOTDIR) {
        r = d;
        step = kStepOpenat2;
      } else if (end < len) {
        r = -ENOTDIR;  // a non-directory in the middle of the path, as mkdir -p says
        step = kStepOpenat2;
      }
    }
    close(static_cast<int>(parent));
    path[end] = saved_end;
    if (r < 0) {
      result = r;
      break;
    }
    result = 0;
  }
  if (owned) close(static_cast<int>(root));
  if (result < 0) return SetFail(j, step, result);
  j->result = 0;
}

// Reads the fs_context log of an fsopen fd (messages like "e tmpfs: Bad
// value for 'mode'") into j->msg.
void ReadFsLog(Job* j, int fsfd) {
  size_t used = 0;
  for (int k = 0; k < 4; k++) {
    char line[256];
    ssize_t n = read(fsfd, line, sizeof line - 1);
    if (n <= 0) break;
    for (ssize_t q = 0; q < n && used + 2 < sizeof j->msg; q++) j->msg[used++] = line[q];
    if (used + 2 < sizeof j->msg) j->msg[used++] = '\n';
  }
  j->msg[used] = '\0';
}

long ResolveTarget(Job* j, int64_t rootgiven, const char* target, uint64_t resolve) {
  bool owned;
  long root = RootFd(j, rootgiven, &owned);
  if (root < 0) return root;
  long t = Openat2(static_cast<int>(root), target, O_PATH, 0, resolve);
  if (owned) close(static_cast<int>(root));
  if (t < 0) SetFail(j, kStepOpenat2, t);
  return t;
}

void OpFsmount(Job* j) {
  if (j->nstr < 2) return SetFail(j, kStepBadOp, -EINVAL);
  long tfd = ResolveTarget(j, j->i[0], j->s[1], static_cast<uint64_t>(j->i[2]));
  if (tfd < 0) return;
  long fsfd = Sys(syscall(kSysFsopen, j->s[0], kFsopenCloexec));
  if (fsfd < 0) {
    close(static_cast<int>(tfd));
    return SetFail(j, kStepFsopen, fsfd);
  }
  long r = 0;
  for (int k = 2; k < j->nstr && r >= 0; k++) {
    char* kv = j->s[k];
    char* eq = std::strchr(kv, '=');
    if (eq == nullptr) {
      r = Sys(syscall(kSysFsconfig, fsfd, kFsconfigSetFlag, kv, nullptr, 0));
    } else {
      *eq = '\0';
      r = Sys(syscall(kSysFsconfig, fsfd, kFsconfigSetString, kv, eq + 1, 0));
      *eq = '=';
    }
    if (r < 0) {
      ReadFsLog(j, static_cast<int>(fsfd));
      SetFail(j, kStepFsconfig, r, k - 2);
    }
  }
  if (r >= 0) {
    r = Sys(syscall(kSysFsconfig, fsfd, kFsconfigCmdCreate, nullptr, nullptr, 0));
    if (r < 0) {
      ReadFsLog(j, static_cast<int>(fsfd));
      SetFail(j, kStepFsconfig, r, -1);
    }
  }
  long mfd = -1;
  if (r >= 0) {
    mfd = Sys(syscall(kSysFsmount, fsfd, kFsmountCloexec, static_cast<unsigned>(j->i[1])));
    if (mfd < 0) {
      ReadFsLog(j, static_cast<int>(fsfd));
      SetFail(j, kStepFsmount, mfd);
      r = mfd;
    }
  }
  close(static_cast<int>(fsfd));
  if (r >= 0) {
    r = Sys(syscall(kSysMoveMount, mfd, "", tfd, "", kMoveMountFEmptyPath | kMoveMountTEmptyPath));
    if (r < 0) SetFail(j, kStepMoveMount, r);
  }
  if (mfd >= 0) close(static_cast<int>(mfd));
  close(static_cast<int>(tfd));
  if (r >= 0) j->result = 0;
}

void OpMoveMount(Job* j) {
  long tfd = ResolveTarget(j, j->i[1], j->s[0], static_cast<uint64_t>(j->i[2]));
  if (tfd < 0) return;
  long r = Sys(syscall(kSysMoveMount, static_cast<int>(j->i[0]), "", tfd, "", kMoveMountFEmptyPath | kMoveMountTEmptyPath));
  close(static_cast<int>(tfd));
  if (r < 0) return SetFail(j, kStepMoveMount, r);
  j->result = 0;
}

void RunOp(Job* j) {
  switch (j->op) {
    case kOpSocket:
      return OpSocket(j);
    case kOpOpen:
      return OpOpen(j);
    case kOpMkdir:
      return OpMkdir(j);
    case kOpSethostname: {
      long r = Sys(sethostname(j->s[0], std::strlen(j->s[0])));
      if (r < 0) return SetFail(j, kStepSethostname, r);
      j->result = 0;
      return;
    }
    case kOpSetdomainname: {
      long r = Sys(setdomainname(j->s[0], std::strlen(j->s[0])));
      if (r < 0) return SetFail(j, kStepSetdomainname, r);
      j->result = 0;
      return;
    }
    case kOpFsmount:
      return OpFsmount(j);
    case kOpMoveMount:
      return OpMoveMount(j);
    case kOpMakePrivate: {
      long r = Sys(mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr));
      if (r < 0) return SetFail(j, kStepMount, r);
      j->result = 0;
      return;
    }
    default:
      return SetFail(j, kStepBadOp, -EINVAL);
  }
}

// ---- the thread vehicle ---------------------------------------------------

struct ThreadJob {
  int fd;
  int nstype;
  Job* job;
};

void* ThreadMain(void* arg) {
  ThreadJob* t = static_cast<ThreadJob*>(arg);
  long r = t->fd < 0 ? 0 : Sys(syscall(kSysSetns, t->fd, t->nstype));
  if (r < 0) {
    SetFail(t->job, kStepSetns, r);
    return nullptr;
  }
  RunOp(t->job);
  return nullptr;
}

// ---- the helper-child vehicle ---------------------------------------------

int Grandchild(void* arg) {
  RunOp(static_cast<Job*>(arg));
  return 0;
}

int Child(void* arg) {
  Job* j = static_cast<Job*>(arg);
  bool joined_user = false;
  for (int k = 0; k < j->njoins; k++) {
    long r = Sys(syscall(kSysSetns, j->join_fd[k], j->join_type[k]));
    if (r < 0) {
      SetFail(j, kStepSetns, r, k);
      return 0;
    }
    if (j->join_type[k] & static_cast<int>(kCloneNewuser)) joined_user = true;
  }
  if ((j->flags & kHelperBecomeRoot) && joined_user) {
    // Act as the namespace's root where our uid maps to it or 0 is mapped;
    // EINVAL (0 not mapped) leaves the ids as they are, like systemd's
    // reset_uid_gid(). Raw syscalls: these change only this process.
    syscall(SYS_setresgid, 0, 0, 0);
    syscall(SYS_setresuid, 0, 0, 0);
  }
  if (j->flags & kHelperIntoPidns) {
    long pid = Sys(clone(Grandchild, j->stack2, CLONE_VM | CLONE_VFORK | CLONE_FILES, j));
    if (pid < 0) {
      SetFail(j, kStepClone, pid);
      return 0;
    }
    int st = 0;
    long w;
    do {
      w = Sys(waitpid(static_cast<pid_t>(pid), &st, __WALL));
    } while (w == -EINTR);
    return 0;
  }
  RunOp(j);
  return 0;
}

// ---- marshalling ----------------------------------------------------------

struct Marshalled {
  Job job;
  std::vector<std::string> strs;
  std::vector<uint8_t> buf;
};

// The readers below return false with an exception pending: a TypeError
// for a wrong type, or whatever JS threw while an element was read (a
// getter): the caller returns at once.

// Every int is an integer in int32 range: they are fds, flags, modes, and
// a cast would turn 2^32 + 1 into fd 1 and 2^32 - 100 into AT_FDCWD.
bool ReadInts(const Napi::CallbackInfo& info, size_t idx, Job* j) {
  for (int k = 0; k < kMaxInts; k++) j->i[k] = -1;
  if (info.Length() <= idx || !info[idx].IsArray()) {
    nsfd::Fail(info, "nsfd native: expected an array of integers");
    return false;
  }
  Napi::Array a = info[idx].As<Napi::Array>();
  uint32_t n = a.Length();  // read once: a getter may change it
  if (n > kMaxInts) {
    nsfd::Fail(info, "nsfd native: too many integer arguments");
    return false;
  }
  for (uint32_t k = 0; k < n; k++) {
    Napi::Value v;
    if (!GetElem(a, k, &v)) return false;
    if (!IntIn(v, INT32_MIN, INT32_MAX, &j->i[k])) {
      nsfd::Fail(info, "nsfd native: expected an array of 32-bit integers");
      return false;
    }
  }
  return true;
}

bool ReadStrs(const Napi::CallbackInfo& info, size_t idx, Marshalled* m) {
  if (info.Length() <= idx || !info[idx].IsArray()) {
    nsfd::Fail(info, "nsfd native: expected an array of strings");
    return false;
  }
  Napi::Array a = info[idx].As<Napi::Array>();
  uint32_t n = a.Length();
  if (n > kMaxStrs) {
    nsfd::Fail(info, "nsfd native: too many string arguments");
    return false;
  }
  m->strs.clear();
  m->strs.reserve(n);
  for (uint32_t k = 0; k < n; k++) {
    Napi::Value v;
    if (!GetElem(a, k, &v)) return false;
    if (!v.IsString()) {
      nsfd::Fail(info, "nsfd native: expected an array of strings");
      return false;
    }
    m->strs.push_back(v.As<Napi::String>().Utf8Value());
    // The ops use C strings: a null byte would cut a path short, naming another.
    if (m->strs.back().find('\0') != std::string::npos) {
      nsfd::Fail(info, "nsfd native: string with a null byte");
      return false;
    }
  }
  m->job.nstr = static_cast<int>(m->strs.size());
  for (size_t k = 0; k < m->strs.size(); k++) m->job.s[k] = m->strs[k].data();
  return true;
}

bool ReadBuf(const Napi::CallbackInfo& info, size_t idx, Marshalled* m) {
  if (info.Length() <= idx || info[idx].IsUndefined() || info[idx].IsNull()) return true;
  if (!info[idx].IsBuffer()) {
    nsfd::Fail(info, "nsfd native: expected a Buffer");
    return false;
  }
  Napi::Buffer<uint8_t> b = info[idx].As<Napi::Buffer<uint8_t>>();
  m->buf.assign(b.Data(), b.Data() + b.Length());
  m->job.buf = m->buf.data();
  m->job.buflen = m->buf.size();
  return true;
}

Napi::Value Result(const Napi::CallbackInfo& info, const Job& j) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env, 4);
  out.Set(0u, Napi::Number::New(env, static_cast<double>(j.result)));
  out.Set(1u, Napi::Number::New(env, j.step));
  out.Set(2u, Napi::Number::New(env, j.index));
  out.Set(3u, Napi::String::New(env, j.msg));
  return out;
}

// inns_thread(fd, nstype, op, ints[], strs[], buf?) -> [result, step, index, msg]
Napi::Value InnsThread(const Napi::CallbackInfo& info) {
  NSFD_INT(0, fd);
  NSFD_INT(1, nstype);
  NSFD_INT(2, op);
  Marshalled m;
  m.job.msg[0] = '\0';
  m.job.op = static_cast<int>(op);
  if (!ReadInts(info, 3, &m.job) || !ReadStrs(info, 4, &m) || !ReadBuf(info, 5, &m)) return info.Env().Undefined();
  if (BadFd(info, 0)) {  // (-1: no join at all)
    SetFail(&m.job, kStepSetns, -EBADF);
    return Result(info, m.job);
  }
  ThreadJob t{static_cast<int>(fd), static_cast<int>(nstype), &m.job};

  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, kStackSize);
  // The thread starts with every signal blocked: process-directed signals
  // keep going to Node's own threads.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_t th;
  int e = pthread_create(&th, &attr, ThreadMain, &t);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  pthread_attr_destroy(&attr);
  if (e != 0) {
    SetFail(&m.job, kStepClone, -e);
    return Result(info, m.job);
  }
  pthread_join(th, nullptr);
  return Result(info, m.job);
}

// inns_helper(joins[fd, nstype, ...], flags, op, ints[], strs[], buf?) -> [result, step, index, msg]
Napi::Value InnsHelper(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsArray()) return nsfd::Fail(info, "nsfd native: expected an array of joins");
  NSFD_INT(1, flags);
  NSFD_INT(2, op);
  Marshalled m;
  m.job.msg[0] = '\0';
  Napi::Array joins = info[0].As<Napi::Array>();
  if (joins.Length() % 2 != 0 || joins.Length() / 2 > kMaxJoins) {
    return nsfd::Fail(info, "nsfd native: joins must be [fd, nstype] pairs");
  }
  m.job.njoins = static_cast<int>(joins.Length() / 2);
  for (int k = 0; k < m.job.njoins; k++) {
    Napi::Value a, b;
    if (!GetElem(joins, static_cast<uint32_t>(2 * k), &a) || !GetElem(joins, static_cast<uint32_t>(2 * k + 1), &b)) {
      return info.Env().Undefined();
    }
    int64_t fd, nstype;
    if (!IntIn(a, INT32_MIN, INT32_MAX, &fd) || !IntIn(b, INT32_MIN, INT32_MAX, &nstype)) {
      return nsfd::Fail(info, "nsfd native: joins must be 32-bit integers");
    }
    m.job.join_fd[k] = static_cast<int>(fd);
    m.job.join_type[k] = static_cast<int>(nstype);
  }
  m.job.flags = static_cast<int>(flags);
  m.job.op = static_cast<int>(op);
  if (!ReadInts(info, 3, &m.job) || !ReadStrs(info, 4, &m) || !ReadBuf(info, 5, &m)) return info.Env().Undefined();

  // One mapping for both stacks (the grandchild's is the lower half);
  // allocated here, before the clone, never in the child.
  size_t size = 2 * kStackSize;
  void* mem = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (mem == MAP_FAILED) {
    SetFail(&m.job, kStepClone, -errno);
    return Result(info, m.job);
  }
  char* base = static_cast<char*>(mem);
  m.job.stack2 = base + kStackSize;  // top of the lower half
  char* top = base + size;

  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  // Exit signal 0: no SIGCHLD, so nothing but us ever reaps it.
  long pid = Sys(clone(Child, top, CLONE_VM | CLONE_VFORK | CLONE_FILES, &m.job));
  int saved = 0;
  if (pid > 0) {
    int st = 0;
    long w;
    do {
      w = Sys(waitpid(static_cast<pid_t>(pid), &st, __WALL));
    } while (w == -EINTR);
    if (w < 0) saved = static_cast<int>(w);
    else if (!WIFEXITED(st)) saved = -EINTR;  // killed from outside before finishing
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  munmap(mem, size);
  if (pid < 0) {
    SetFail(&m.job, kStepClone, pid);
  } else if (saved < 0 && m.job.step == 0 && m.job.result == 0) {
    SetFail(&m.job, kStepWait, saved);
  }
  return Result(info, m.job);
}

// inns_direct(op, ints[], strs[], buf?) -> [result, step, index, msg]: the
// same operations on the calling thread, for when no namespace needs to be
// joined (e.g. resolving under a root fd from /proc/PID/root).
Napi::Value InnsDirect(const Napi::CallbackInfo& info) {
  NSFD_INT(0, op);
  Marshalled m;
  m.job.op = static_cast<int>(op);
  if (!ReadInts(info, 1, &m.job) || !ReadStrs(info, 2, &m) || !ReadBuf(info, 3, &m)) return info.Env().Undefined();
  RunOp(&m.job);
  return Result(info, m.job);
}

// ioctl(sockfd, SIOCGSKNS): an O_CLOEXEC fd of the socket's network namespace.
Napi::Value SocketNetns(const Napi::CallbackInfo& info) {
  NSFD_INT(0, fd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  return Num(info, Ret(ioctl(static_cast<int>(fd), kSiocgskns, 0)));
}

// open_tree(dirfd, path, flags | OPEN_TREE_CLOEXEC): a detached copy of a
// mount tree (OPEN_TREE_CLONE), to be attached elsewhere with move_mount.
Napi::Value OpenTree(const Napi::CallbackInfo& info) {
  NSFD_INT(0, dirfd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  NSFD_STR(1, path);
  if (path.find('\0') != std::string::npos) return Num(info, -EINVAL);  // would name another path
  NSFD_INT(2, flags);
  return Num(info, Ret(syscall(kSysOpenTree, static_cast<int>(dirfd), path.c_str(),
                               static_cast<unsigned>(flags) | kOpenTreeCloexec)));
}

// mount_setattr(fd, "", AT_EMPTY_PATH [| AT_RECURSIVE], {set, clr, propagation})
Napi::Value MountSetattr(const Napi::CallbackInfo& info) {
  NSFD_INT(0, fd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  NSFD_INT(1, recursive);
  NSFD_INT(2, set);
  NSFD_INT(3, clr);
  NSFD_INT(4, propagation);
  MountAttr a;
  std::memset(&a, 0, sizeof a);
  a.attr_set = static_cast<uint64_t>(set);
  a.attr_clr = static_cast<uint64_t>(clr);
  a.propagation = static_cast<uint64_t>(propagation);
  unsigned fl = kAtEmptyPath | (recursive ? kAtRecursive : 0);
  return Num(info, Ret(syscall(kSysMountSetattr, static_cast<int>(fd), "", fl, &a, sizeof a)));
}

// mkdirat(dirfd, name, mode)
Napi::Value Mkdirat(const Napi::CallbackInfo& info) {
  NSFD_INT(0, dirfd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  NSFD_STR(1, path);
  if (path.find('\0') != std::string::npos) return Num(info, -EINVAL);  // would name another path
  NSFD_INT(2, mode);
  return Num(info, Ret(mkdirat(static_cast<int>(dirfd), path.c_str(), static_cast<mode_t>(mode))));
}

}  // namespace

void InitInns(Napi::Env env, Napi::Object exports) {
  exports.Set("inns_thread", Napi::Function::New(env, InnsThread, "inns_thread"));
  exports.Set("inns_helper", Napi::Function::New(env, InnsHelper, "inns_helper"));
  exports.Set("inns_direct", Napi::Function::New(env, InnsDirect, "inns_direct"));
  exports.Set("socket_netns", Napi::Function::New(env, SocketNetns, "socket_netns"));
  exports.Set("open_tree", Napi::Function::New(env, OpenTree, "open_tree"));
  exports.Set("mount_setattr", Napi::Function::New(env, MountSetattr, "mount_setattr"));
  exports.Set("mkdirat", Napi::Function::New(env, Mkdirat, "mkdirat"));
}

}  // namespace nsfd
