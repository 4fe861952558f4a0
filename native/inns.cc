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
// This file is the N-API side: arguments in, the vehicles' parent side,
// results out, the wire tables exported. What runs after a join (the ops,
// ThreadMain, Child) is in native/inns_ops.cc and async-signal-safe; the
// wire (op ids, slots, steps, bits, the Job) is native/inns.h.
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "inns.h"
#include "uapi.h"
#include "util.h"

namespace nsfd::inns {
namespace {

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
  j->nint = static_cast<int>(n);
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
    if (HasNul(m->strs.back())) {
      nsfd::Fail(info, "nsfd native: string with a null byte");
      return false;
    }
  }
  m->job.nstr = static_cast<int>(m->strs.size());
  for (size_t k = 0; k < m->strs.size(); k++) m->job.s[k] = m->strs[k].data();
  return true;
}

// The op is one we know, given exactly its named ints and its named strs
// (fsmount: at least those). Checked after marshalling, before anything
// runs: the ops index their slots without counting.
bool CheckArity(const Napi::CallbackInfo& info, const Job& j) {
  int ints = 0, strs = 0;
  if (!ArityOf(j.op, &ints, &strs)) {
    nsfd::Fail(info, "nsfd native: unknown inns op");
    return false;
  }
  if (j.nint != ints) {
    nsfd::Fail(info, "nsfd native: wrong number of integer arguments for the inns op");
    return false;
  }
  if (TakesMoreStrs(j.op) ? j.nstr < strs : j.nstr != strs) {
    nsfd::Fail(info, "nsfd native: wrong number of string arguments for the inns op");
    return false;
  }
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
  if (!ReadInts(info, 3, &m.job) || !ReadStrs(info, 4, &m) || !ReadBuf(info, 5, &m) || !CheckArity(info, m.job)) {
    return info.Env().Undefined();
  }
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
  if (!ReadInts(info, 3, &m.job) || !ReadStrs(info, 4, &m) || !ReadBuf(info, 5, &m) || !CheckArity(info, m.job)) {
    return info.Env().Undefined();
  }

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
  long pid = Ret(clone(Child, top, CLONE_VM | CLONE_VFORK | CLONE_FILES, &m.job));
  int saved = 0;
  if (pid > 0) {
    int st = 0;
    long w;
    do {
      w = Ret(waitpid(static_cast<pid_t>(pid), &st, __WALL));
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
  if (!ReadInts(info, 1, &m.job) || !ReadStrs(info, 2, &m) || !ReadBuf(info, 3, &m) || !CheckArity(info, m.job)) {
    return info.Env().Undefined();
  }
  RunOp(&m.job);
  return Result(info, m.job);
}

// ioctl(sockfd, SIOCGSKNS): an O_CLOEXEC fd of the socket's network namespace.
Napi::Value SocketNetns(const Napi::CallbackInfo& info) {
  NSFD_INT(0, fd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  return Num(info, Ret(ioctl(static_cast<int>(fd), kSiocgskns, 0)));
}

// connect(sockfd, addr, len) with a sockaddr built in TS (sockaddr.ts). A
// netlink socket connected to the kernel (nl_pid 0) refuses unicasts from
// any other socket: used so a target's root cannot forge rtnetlink replies.
Napi::Value Connect(const Napi::CallbackInfo& info) {
  NSFD_INT(0, fd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  if (info.Length() < 2 || !info[1].IsBuffer()) return Fail(info, "nsfd native: expected a Buffer");
  Napi::Buffer<unsigned char> addr = info[1].As<Napi::Buffer<unsigned char>>();
  if (addr.Length() < sizeof(sa_family_t) || addr.Length() > sizeof(sockaddr_storage)) return Num(info, -EINVAL);
  sockaddr_storage ss;
  std::memset(&ss, 0, sizeof ss);
  std::memcpy(&ss, addr.Data(), addr.Length());
  return Num(info, Ret(connect(static_cast<int>(fd), reinterpret_cast<const sockaddr*>(&ss), static_cast<socklen_t>(addr.Length()))));
}

// open_tree(dirfd, path, flags | OPEN_TREE_CLOEXEC): a detached copy of a
// mount tree (OPEN_TREE_CLONE), to be attached elsewhere with move_mount.
Napi::Value OpenTree(const Napi::CallbackInfo& info) {
  NSFD_INT(0, dirfd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  NSFD_STR(1, path);
  if (HasNul(path)) return Num(info, -EINVAL);
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
  if (HasNul(path)) return Num(info, -EINVAL);
  NSFD_INT(2, mode);
  return Num(info, Ret(mkdirat(static_cast<int>(dirfd), path.c_str(), static_cast<mode_t>(mode))));
}

// ---- the wire, exported -----------------------------------------------------

Napi::Array Names(Napi::Env env, const char* const* names) {
  Napi::Array a = Napi::Array::New(env);
  for (uint32_t k = 0; names[k] != nullptr; k++) a.Set(k, Napi::String::New(env, names[k]));
  a.Freeze();
  return a;
}

// inns_wire: { ops: {socket: 1, ...}, slots: {socket: {ints: [...], strs:
// [...]}, ...}, steps: [syscall name by step number], helper: {becomeRoot:
// 1, ...}, sockopt: {reuseAddr: 1, ...} }, frozen: the numbers lib/inside
// uses, from the one definition in inns.h.
Napi::Object Wire(Napi::Env env) {
  Napi::Object ops = Napi::Object::New(env);
  Napi::Object slots = Napi::Object::New(env);
#define NSFD_INNS_SLOT_NAME(name) #name,
#define NSFD_INNS_EXPORT_OP(e, n, js, SLOTS)                                           \
  {                                                                                   \
    ops.Set(#js, n);                                                                  \
    static const char* const ints[] = {NSFD_INNS_##SLOTS##_INTS(NSFD_INNS_SLOT_NAME) nullptr}; \
    static const char* const strs[] = {NSFD_INNS_##SLOTS##_STRS(NSFD_INNS_SLOT_NAME) nullptr}; \
    Napi::Object s = Napi::Object::New(env);                                          \
    s.Set("ints", Names(env, ints));                                                  \
    s.Set("strs", Names(env, strs));                                                  \
    s.Freeze();                                                                       \
    slots.Set(#js, s);                                                                \
  }
  NSFD_INNS_OPS(NSFD_INNS_EXPORT_OP)
#undef NSFD_INNS_EXPORT_OP
#undef NSFD_INNS_SLOT_NAME

  Napi::Array steps = Napi::Array::New(env);
#define NSFD_INNS_EXPORT_STEP(e, n, name) steps.Set(static_cast<uint32_t>(n), name);
  NSFD_INNS_STEPS(NSFD_INNS_EXPORT_STEP)
#undef NSFD_INNS_EXPORT_STEP

  Napi::Object helper = Napi::Object::New(env);
  Napi::Object sockopt = Napi::Object::New(env);
#define NSFD_INNS_HELPER_BIT(e, n, js) helper.Set(#js, n);
#define NSFD_INNS_SOCKOPT_BIT(e, n, js) sockopt.Set(#js, n);
  NSFD_INNS_HELPER_FLAGS(NSFD_INNS_HELPER_BIT)
  NSFD_INNS_SOCKOPTS(NSFD_INNS_SOCKOPT_BIT)
#undef NSFD_INNS_SOCKOPT_BIT
#undef NSFD_INNS_HELPER_BIT

  Napi::Object wire = Napi::Object::New(env);
  for (Napi::Object o : {ops, slots, helper, sockopt}) o.Freeze();
  steps.Freeze();
  wire.Set("ops", ops);
  wire.Set("slots", slots);
  wire.Set("steps", steps);
  wire.Set("helper", helper);
  wire.Set("sockopt", sockopt);
  wire.Freeze();
  return wire;
}

}  // namespace
}  // namespace nsfd::inns

namespace nsfd {

void InitInns(Napi::Env env, Napi::Object exports) {
  using namespace inns;
  exports.Set("inns_wire", Wire(env));
  exports.Set("inns_thread", Napi::Function::New(env, InnsThread, "inns_thread"));
  exports.Set("inns_helper", Napi::Function::New(env, InnsHelper, "inns_helper"));
  exports.Set("inns_direct", Napi::Function::New(env, InnsDirect, "inns_direct"));
  exports.Set("socket_netns", Napi::Function::New(env, SocketNetns, "socket_netns"));
  exports.Set("connect", Napi::Function::New(env, Connect, "connect"));
  exports.Set("open_tree", Napi::Function::New(env, OpenTree, "open_tree"));
  exports.Set("mount_setattr", Napi::Function::New(env, MountSetattr, "mount_setattr"));
  exports.Set("mkdirat", Napi::Function::New(env, Mkdirat, "mkdirat"));
}

}  // namespace nsfd
