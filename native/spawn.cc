// spawn_clone3: starts a program straight into new or existing namespaces.
//
// The child is made with clone3(CLONE_VM|CLONE_VFORK|CLONE_PIDFD) on a stack
// of its own: no page tables are copied, so the cost does not grow with the
// parent's memory. Between clone3 and execve the child shares our memory
// and runs only raw syscalls (inline asm, errno never touched): no malloc,
// no locks, no libc. Everything it needs is prepared in a Plan first.
//
// The child's code, and the rule it lives by, are in spawn_child.cc; the
// spec keys, steps and records that cross between JS, the parent and the
// child are in spawn_wire.h. This file is the parent side: read the spec,
// build the Plan, run clone3, serve the child, map the result.
//
// Failures in the child come back as {step, errno} records on an O_CLOEXEC
// pipe; the parent reaps whatever it started before returning the error.
//
// The shapes, chosen in lib/spawn/plan.ts:
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
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "spawn_child.h"
#include "spawn_wire.h"
#include "uapi.h"
#include "util.h"

namespace nsfd {
namespace spawn {
namespace {

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

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

// --- 1. read the spec ---------------------------------------------------------

// The spec, read into C++ values: after ReadSpec no JS runs until the result is built.
struct Spec {
  std::vector<std::string> paths, argv, envp;
  bool inherit_env;
  std::vector<int> join_fds, join_types, fd_pairs;
  std::vector<uint32_t> groups;
  bool set_groups = false;
  std::string root, cwd, uid_map, gid_map;
  bool has_root, has_cwd, setgroups_deny, share_vm, two_stage, mount_proc, new_session, kill_on_close;
  int clone_flags, cgroup_fd, join_pidfd, join_flags, unshare_after, uid, gid, parent_pid_fd, root_fd;
  int rootfs_fd, exec_fd;
  std::string hostname, domainname;
  bool has_hostname, has_domainname, loopback_up, block_signals, idmap_rootfs;
  std::vector<int32_t> fs_ops;
  std::vector<std::string> fs_strs;
  int proc_fd;  // our procfs (lib/core/procfs.ts): the maps and pid_for_children are opened under it
  std::vector<uint32_t> caps;  // empty: unchanged; else 10 words (spawn_child.h)
  bool no_new_privs;
  std::vector<int64_t> rlimits;  // triples
  std::vector<uint32_t> seccomp;  // pairs: code | jt << 16 | jf << 24, k
};

// The key names as JS strings, made once per env (a string made from
// UTF-8 for every read cost ~3 us a spawn), in an array: Node-API 8 can
// hold no reference to a string itself.
struct SpecKeyStrings {
  Napi::ObjectReference array;
};

// Spec readers: TS has validated the spec; these only backstop types.
// Reading a key may run JS (a getter, a Proxy trap). Each reader returns
// false when the spec cannot be used: the exception that JS threw is
// pending, or a TypeError was thrown for a wrong type. The caller returns
// at once. A key holding undefined takes the default; a key that is absent
// (or unknown) is refused by Keys(), which spawn_spec_check runs.
class SpecReader {
 public:
  SpecReader(const Napi::CallbackInfo& info, Napi::Object spec) : info_(info), spec_(spec) {
    Napi::Object a = static_cast<SpecKeyStrings*>(info.Data())->array.Value();
    for (uint32_t i = 0; i < kSpecKeyCount; i++) keys_[i] = a.Get(i);  // our own array: runs no JS
  }

  // A key's value, or false (exception pending).
  bool Get(SpecKey key, Napi::Value* out) { return GetProp(spec_, keys_[key], out); }

  bool Int(SpecKey key, int dflt, int* out, double lo = INT32_MIN, double hi = INT32_MAX) {
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

  bool Bool(SpecKey key, bool* out) {
    Napi::Value v;
    if (!Get(key, &v)) return false;
    *out = v.ToBoolean().Value();  // runs no JS
    return true;
  }

  // *present: whether the key holds a string (undefined: absent).
  bool Str(SpecKey key, std::string* out, bool* present = nullptr) {
    Napi::Value v;
    if (!Get(key, &v)) return false;
    if (present != nullptr) *present = false;
    if (v.IsUndefined()) return true;
    if (!v.IsString()) return Bad("nsfd native: spawn spec: expected a string");
    *out = v.As<Napi::String>().Utf8Value();
    // A C string would end at the null byte: another path, another argument.
    if (HasNul(*out)) return Bad("nsfd native: spawn spec: string with a null byte");
    if (present != nullptr) *present = true;
    return true;
  }

  bool Strs(SpecKey key, std::vector<std::string>* out) {
    Napi::Array a;
    if (!Array(key, &a)) return false;
    uint32_t n = a.IsEmpty() ? 0 : a.Length();  // read once: a getter may grow the array
    for (uint32_t i = 0; i < n; i++) {
      Napi::Value v;
      if (!GetElem(a, i, &v)) return false;
      if (!v.IsString()) return Bad("nsfd native: spawn spec: expected an array of strings");
      out->push_back(v.As<Napi::String>().Utf8Value());
      if (HasNul(out->back())) return Bad("nsfd native: spawn spec: string with a null byte");
    }
    return true;
  }

  // *present: whether the key holds an array (undefined: absent, empty).
  template <typename T>
  bool Ints(SpecKey key, std::vector<T>* out, double lo, double hi, bool* present = nullptr) {
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

  // The spec's own enumerable string keys are exactly kSpecKeyNames: an
  // unknown or missing key is a TypeError naming it. (Listing the keys may
  // run a Proxy's ownKeys trap: false with its exception pending.) Not
  // run by spawn_clone3: listing the keys cost ~8 us a spawn, for a spec
  // that plan.ts writes as one literal of the SpawnSpec type. JS runs it
  // once, on its first spec (spawn_spec_check, lib/spawn/wire.ts).
  bool Keys() {
    Napi::Env env = spec_.Env();
    napi_value names;
    napi_status st = napi_get_all_property_names(env, spec_, napi_key_own_only,
                                                 static_cast<napi_key_filter>(napi_key_enumerable | napi_key_skip_symbols),
                                                 napi_key_numbers_to_strings, &names);
    if (st != napi_ok || env.IsExceptionPending()) return Bad("nsfd native: spawn spec: cannot list its keys");
    Napi::Array a(env, names);
    bool seen[kSpecKeyCount] = {};
    uint32_t n = a.Length();
    for (uint32_t i = 0; i < n; i++) {
      Napi::Value v;
      if (!GetElem(a, i, &v)) return false;
      if (!v.IsString()) return Bad("nsfd native: spawn spec: a key that is not a string");
      std::string k = v.As<Napi::String>().Utf8Value();
      int found = -1;
      for (int j = 0; j < kSpecKeyCount && found < 0; j++)
        if (k == kSpecKeyNames[j]) found = j;
      if (found < 0) return Bad(("nsfd native: spawn spec: unknown key '" + k + "'").c_str());
      seen[found] = true;
    }
    for (int j = 0; j < kSpecKeyCount; j++) {
      if (!seen[j]) return Bad((std::string("nsfd native: spawn spec: missing key '") + kSpecKeyNames[j] + "'").c_str());
    }
    return true;
  }

 private:
  // An array, or an empty handle for undefined.
  bool Array(SpecKey key, Napi::Array* out) {
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
  Napi::Value keys_[kSpecKeyCount];
};

// The privilege keys: capability masks, no_new_privs, rlimits, the seccomp program.
bool ReadPrivileges(const Napi::CallbackInfo& info, SpecReader& rd, Spec* s) {
  if (!rd.Ints(kKeyCaps, &s->caps, 0, UINT32_MAX) || !rd.Bool(kKeyNoNewPrivs, &s->no_new_privs) ||
      !rd.Ints(kKeyRlimits, &s->rlimits, -1, 9007199254740991.0) || !rd.Ints(kKeySeccomp, &s->seccomp, 0, UINT32_MAX)) {
    return false;
  }
  // A BPF program holds at most BPF_MAXINSNS (4096) instructions.
  if ((!s->caps.empty() && s->caps.size() != 10) || s->rlimits.size() % 3 != 0 || s->seccomp.size() % 2 != 0 ||
      s->seccomp.size() > 2 * 4096) {
    return Fail(info, "nsfd native: bad spawn spec (privileges)"), false;
  }
  return true;
}

// idmapRootfs needs a rootfs and maps to write (the tree is made after
// them); so do kFsIdmap binds, at most kMaxTrees trees in all.
bool IdmapValid(const Napi::CallbackInfo& info, const Spec& s) {
  if (s.idmap_rootfs && (s.rootfs_fd < 0 || s.uid_map.empty())) return Fail(info, "nsfd native: spawn spec: idmapRootfs without rootfsFd and uidMap"), false;
  int trees = s.idmap_rootfs ? 1 : 0;
  for (size_t i = 0; i < s.fs_ops.size(); i += kFsOpInts) {
    const int32_t* op = &s.fs_ops[i];
    if (!(op[7] & kFsIdmap)) continue;
    if (op[0] != kFsOpBind || (op[7] & kFsSrcInRoot) || s.uid_map.empty() || ++trees > kMaxTrees) {
      return Fail(info, "nsfd native: spawn spec: an idmapped bind needs uidMap, a host source, and at most 64 trees"), false;
    }
  }
  return true;
}

// The child indexes fs_strs with the ops' numbers: check them all here.
bool FsOpsValid(const Napi::CallbackInfo& info, const Spec& s) {
  if (s.fs_ops.size() % kFsOpInts != 0) return Fail(info, "nsfd native: spawn spec: bad fsOps"), false;
  int64_t n = static_cast<int64_t>(s.fs_strs.size());
  for (size_t i = 0; i < s.fs_ops.size(); i += kFsOpInts) {
    const int32_t* op = &s.fs_ops[i];
    bool ok = op[1] >= -1 && op[1] < n && op[2] >= -1 && op[2] < n && op[3] >= -1 && op[3] < n && op[5] >= 0 &&
              (op[5] == 0 || (op[4] >= 0 && static_cast<int64_t>(op[4]) + op[5] <= n));
    // Every op but the root one names a destination; binds and masks a source; mounts a type.
    int32_t k = op[0];
    ok = ok && (k == kFsOpRootAttrs || op[1] >= 0) && ((k != kFsOpBind && k != kFsOpMask && k != kFsOpSymlink) || op[2] >= 0) &&
         (k != kFsOpMount || op[3] >= 0) &&
         (k == kFsOpMount || k == kFsOpBind || k == kFsOpMask || k == kFsOpSymlink || k == kFsOpRootAttrs);
    if (!ok) return Fail(info, "nsfd native: spawn spec: bad fsOps"), false;
  }
  if (!s.fs_ops.empty() && s.rootfs_fd < 0) return Fail(info, "nsfd native: spawn spec: fsOps without rootfsFd"), false;
  return true;
}

// Every key is read (and may run JS) here, before any fd is made: each key
// once, in a fixed order, whatever is wrong with the spec. An absent key
// reads as undefined, its default: the key set is spawn_spec_check's to
// check. False: an exception is pending.
bool ReadSpec(const Napi::CallbackInfo& info, Napi::Object obj, Spec* s) {
  SpecReader rd(info, obj);
  if (!rd.Strs(kKeyPaths, &s->paths) || !rd.Strs(kKeyArgv, &s->argv) || !rd.Strs(kKeyEnvp, &s->envp)) return false;
  if (s->paths.empty() || s->argv.empty()) return Fail(info, "nsfd native: spawn needs paths and argv"), false;
  if (!rd.Bool(kKeyInheritEnv, &s->inherit_env)) return false;

  // Fds are int32 (a larger number would be truncated into another fd);
  // slots stay below INT32_MAX (the child computes the highest slot + 1).
  if (!rd.Ints(kKeyJoinFds, &s->join_fds, INT32_MIN, INT32_MAX) || !rd.Ints(kKeyJoinTypes, &s->join_types, INT32_MIN, INT32_MAX) ||
      !rd.Ints(kKeyFds, &s->fd_pairs, INT32_MIN, INT32_MAX - 1) || !rd.Ints(kKeyGroups, &s->groups, 0, UINT32_MAX, &s->set_groups)) {
    return false;
  }
  if (s->join_fds.size() != s->join_types.size() || s->fd_pairs.size() % 2 != 0) return Fail(info, "nsfd native: bad spawn spec"), false;
  for (size_t i = 0; i < s->fd_pairs.size(); i += 2) {
    if (s->fd_pairs[i + 1] < 0) return Fail(info, "nsfd native: bad spawn spec"), false;
  }

  return rd.Str(kKeyRoot, &s->root, &s->has_root) && rd.Str(kKeyCwd, &s->cwd, &s->has_cwd) && rd.Str(kKeyUidMap, &s->uid_map) &&
         rd.Str(kKeyGidMap, &s->gid_map) && rd.Bool(kKeySetgroupsDeny, &s->setgroups_deny) &&
         rd.Int(kKeyCloneFlags, 0, &s->clone_flags) && rd.Int(kKeyCgroupFd, -1, &s->cgroup_fd) && rd.Bool(kKeyShareVm, &s->share_vm) &&
         rd.Int(kKeyJoinPidfd, -1, &s->join_pidfd) && rd.Int(kKeyJoinFlags, 0, &s->join_flags) &&
         rd.Int(kKeyUnshareAfter, 0, &s->unshare_after) && rd.Bool(kKeyTwoStage, &s->two_stage) &&
         rd.Bool(kKeyMountProc, &s->mount_proc) && rd.Bool(kKeyNewSession, &s->new_session) &&
         // -1: unchanged. The child holds ids as ints: a larger id would read as "unchanged".
         rd.Int(kKeyUid, -1, &s->uid, -1, INT32_MAX) && rd.Int(kKeyGid, -1, &s->gid, -1, INT32_MAX) &&
         rd.Bool(kKeyKillOnClose, &s->kill_on_close) && rd.Int(kKeyParentPidFd, -1, &s->parent_pid_fd) &&
         rd.Int(kKeyRootFd, -1, &s->root_fd, -1, INT32_MAX) && rd.Int(kKeyProcFd, -1, &s->proc_fd, -1, INT32_MAX) &&
         ReadPrivileges(info, rd, s) &&
         rd.Int(kKeyRootfsFd, -1, &s->rootfs_fd, -1, INT32_MAX) && rd.Int(kKeyExecFd, -1, &s->exec_fd, -1, INT32_MAX) &&
         rd.Ints(kKeyFsOps, &s->fs_ops, INT32_MIN, INT32_MAX) && rd.Strs(kKeyFsStrs, &s->fs_strs) && FsOpsValid(info, *s) &&
         rd.Str(kKeyHostname, &s->hostname, &s->has_hostname) && rd.Str(kKeyDomainname, &s->domainname, &s->has_domainname) &&
         rd.Bool(kKeyLoopbackUp, &s->loopback_up) && rd.Bool(kKeyBlockSignals, &s->block_signals) &&
         rd.Bool(kKeyIdmapRootfs, &s->idmap_rootfs) && IdmapValid(info, *s);
}

// --- 2. build argv, env and the Plan ---------------------------------------

// What the Plan points into: kept alive until the child has exec'd.
struct PlanBuffers {
  std::vector<char*> paths, argv, envp, fs_strs;
  std::vector<int> fd_src, fd_slot, fd_tmp;
  int tree_fds[kMaxTrees] = {};  // the idmapped trees, as the child received them (its own fd table)
  std::vector<SockFilter> filter;
  SockFprog prog;
};

std::vector<char*> CStrs(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

void BuildPlan(Spec& s, PlanBuffers* b, Plan* p) {
  b->paths = CStrs(s.paths);
  b->argv = CStrs(s.argv);
  b->envp = CStrs(s.envp);
  if (s.inherit_env) {
    // process.env is the C environment (Node's setter calls setenv), and
    // copying it here is much cheaper than enumerating process.env in JS.
    // glibc never frees environment strings, so the pointers stay valid.
    b->envp.clear();
    for (char** e = environ; *e != nullptr; e++) b->envp.push_back(*e);
    b->envp.push_back(nullptr);
  }
  int max_slot = 2;
  for (size_t i = 0; i < s.fd_pairs.size(); i += 2) {
    b->fd_src.push_back(s.fd_pairs[i]);
    b->fd_slot.push_back(s.fd_pairs[i + 1]);
    if (s.fd_pairs[i + 1] > max_slot) max_slot = s.fd_pairs[i + 1];
  }
  b->fd_tmp.resize(b->fd_src.size() + 1);

  std::memset(p, 0, sizeof *p);
  p->paths = b->paths.data();
  p->npaths = static_cast<int>(s.paths.size());
  p->argv = b->argv.data();
  p->envp = b->envp.data();
  p->join_pidfd = s.join_pidfd;
  p->join_flags = s.join_flags;
  p->join_fds = s.join_fds.data();
  p->join_types = s.join_types.data();
  p->njoin = static_cast<int>(s.join_fds.size());
  p->unshare_after = s.unshare_after;
  p->two_stage = s.two_stage;
  p->need_maps = !s.uid_map.empty() || !s.gid_map.empty();
  p->fd_src = b->fd_src.data();
  p->fd_slot = b->fd_slot.data();
  p->fd_tmp = b->fd_tmp.data();
  p->nfds = static_cast<int>(b->fd_src.size());
  p->max_slot = max_slot;
  p->root = s.has_root ? s.root.c_str() : nullptr;
  p->root_fd = s.root_fd;
  p->cwd = s.has_cwd ? s.cwd.c_str() : nullptr;
  p->mount_proc = s.mount_proc;
  p->new_session = s.new_session;
  p->uid = s.uid;
  p->gid = s.gid;
  p->groups = s.groups.data();
  p->ngroups = s.set_groups ? static_cast<int>(s.groups.size()) : -1;
  p->drop_groups = !s.set_groups && (p->uid >= 0 || p->gid >= 0);
  p->rlimits = s.rlimits.data();
  p->nrlimits = static_cast<int>(s.rlimits.size() / 3);
  p->caps = s.caps.empty() ? nullptr : s.caps.data();
  p->no_new_privs = s.no_new_privs;
  if (!s.seccomp.empty()) {
    for (size_t i = 0; i < s.seccomp.size(); i += 2) {
      uint32_t w = s.seccomp[i];
      b->filter.push_back({static_cast<uint16_t>(w & 0xffff), static_cast<uint8_t>((w >> 16) & 0xff), static_cast<uint8_t>(w >> 24), s.seccomp[i + 1]});
    }
    b->prog.len = static_cast<unsigned short>(b->filter.size());
    b->prog.filter = b->filter.data();
    p->seccomp = &b->prog;
  }
  p->kill_on_close = s.kill_on_close;
  b->fs_strs = CStrs(s.fs_strs);
  p->rootfs_fd = s.rootfs_fd;
  p->fs_ops = s.fs_ops.data();
  p->nfs_ops = static_cast<int>(s.fs_ops.size() / kFsOpInts);
  p->fs_strs = b->fs_strs.data();
  p->exec_fd = s.exec_fd;
  p->hostname = s.has_hostname ? s.hostname.c_str() : nullptr;
  p->domainname = s.has_domainname ? s.domainname.c_str() : nullptr;
  p->loopback_up = s.loopback_up;
  p->block_signals = s.block_signals;
  p->idmap_rootfs = s.idmap_rootfs;
  // The trees the go carries: the rootfs first, then each kFsIdmap bind,
  // whose op[3] (no fstype for a bind) becomes its index among them.
  p->ntrees = s.idmap_rootfs ? 1 : 0;
  for (size_t i = 0; i < s.fs_ops.size(); i += kFsOpInts) {
    if (s.fs_ops[i + 7] & kFsIdmap) s.fs_ops[i + 3] = p->ntrees++;
  }
  p->tree_fds = b->tree_fds;
  p->parent_pidfd = -1;
  p->go_fd = -1;
}

// --- 3. run clone3 -----------------------------------------------------------

Napi::Value Failure(Napi::Env env, int32_t step, int err, int32_t detail, const char* syscall_name = nullptr) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("errno", -err);
  o.Set("step", kStepNames[step].step);
  o.Set("syscall", syscall_name != nullptr ? syscall_name : kStepNames[step].syscall);
  o.Set("detail", detail);
  return o;
}

// Fds we made, closed when the call returns unless released.
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
  // No longer ours to close (closed already, or handed to JS).
  void Release(int fd) {
    for (int& f : fds)
      if (f == fd) f = -1;
  }
};

// The fds and the child of one spawn_clone3 call.
struct Launch {
  Fds own;
  int rep_r = -1, rep_w = -1;  // the report pipe
  int go_w = -1;               // write end of the "maps written" pipe
  int child_pidfd = -1;
  long pid = -1;
  char* stacks = nullptr;  // this thread's two stacks (Stacks)
};

// The pipes (and our pidfd) the child needs, and its stacks. On failure
// returns false with the JS failure record in *failure.
bool OpenChannels(Napi::Env env, Plan* p, Launch* l, Napi::Value* failure) {
  int rep[2], go[2] = {-1, -1};
  if (pipe2(rep, O_CLOEXEC | O_NONBLOCK) < 0) return *failure = Failure(env, kStepClone3, errno, 0, "pipe2"), false;
  l->rep_r = l->own.Add(rep[0]);
  l->rep_w = l->own.Add(rep[1]);
  p->report_fd = rep[1];
  if (p->need_maps) {
    // A socket when idmapped trees are to be sent along with the go.
    if (p->ntrees > 0 ? socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, go) < 0 : pipe2(go, O_CLOEXEC) < 0) {
      return *failure = Failure(env, kStepClone3, errno, 0, p->ntrees > 0 ? "socketpair" : "pipe2"), false;
    }
    l->own.Add(go[0]);
    l->go_w = l->own.Add(go[1]);
    p->go_fd = go[0];
  }
  if (p->kill_on_close || p->need_maps) {
    long r = syscall(kSysPidfdOpen, getpid(), 0);
    if (r < 0) return *failure = Failure(env, kStepClone3, errno, 0, "pidfd_open"), false;
    p->parent_pidfd = l->own.Add(static_cast<int>(r));
  }

  l->stacks = tls_stacks.Get();
  if (l->stacks == nullptr) return *failure = Failure(env, kStepClone3, errno, 0, "mmap"), false;
  if (p->two_stage) {
    p->g_stack = l->stacks + kSlab + kGuard;
    p->g_stack_size = kStackSize;
    p->g_clone_flags = kCloneVm | kCloneVfork | kCloneParent | kClonePidfd | kCloneClearSighand;
  }
  return true;
}

// The child's clone3 arguments: its pidfd lands in l->child_pidfd.
CloneArgs ChildCloneArgs(const Spec& s, const Plan& p, Launch* l) {
  CloneArgs ca;
  std::memset(&ca, 0, sizeof ca);
  ca.flags = kClonePidfd | kCloneClearSighand | static_cast<uint64_t>(static_cast<uint32_t>(s.clone_flags));
  if (s.share_vm) ca.flags |= kCloneVm;
  if (!p.need_maps) ca.flags |= kCloneVfork;
  if (p.two_stage) ca.flags |= kCloneFiles;  // the grandchild's pidfd lands in our table
  if (s.cgroup_fd >= 0) {
    ca.flags |= kCloneIntoCgroup;
    ca.cgroup = static_cast<uint64_t>(s.cgroup_fd);
  }
  ca.pidfd = reinterpret_cast<uint64_t>(&l->child_pidfd);
  ca.exit_signal = SIGCHLD;
  ca.stack = reinterpret_cast<uint64_t>(l->stacks + kGuard);
  ca.stack_size = kStackSize;
  return ca;
}

// clone3, with our thread in the target's pid namespace around it when
// asked. On failure returns false with the JS failure record in *failure.
bool RunClone(Napi::Env env, const Spec& s, Plan* p, Launch* l, Napi::Value* failure) {
  CloneArgs ca = ChildCloneArgs(s, *p, l);

  // Pid namespace join by a privileged caller: this thread's
  // pid_for_children points at the target's pid namespace for the clone3
  // only, so the child is born there: no relay. A relay would be a task
  // sharing our mm that exits, and its exit walks all our mappings
  // (acct_collect), a cost that grows with the heap. While pid_for_children
  // differs from our own pid ns this thread cannot create threads, and it
  // creates none before the restore below (this is one synchronous call).
  int restore_fd = -1;
  if (s.parent_pid_fd >= 0) {
    restore_fd = openat(s.proc_fd, "thread-self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
    if (restore_fd < 0) return *failure = Failure(env, kStepSetns, errno, static_cast<int32_t>(kCloneNewpid), "open"), false;
    l->own.Add(restore_fd);
  }

  // No signal handler may run in the child before CLONE_CLEAR_SIGHAND and
  // the reset: block everything (glibc's internal signals too) around clone3.
  uint64_t all = ~0ULL, saved = 0;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &saved, 8);
  long pid;
  bool pid_join_failed = s.parent_pid_fd >= 0 && syscall(kSysSetns, s.parent_pid_fd, kCloneNewpid) < 0;
  if (pid_join_failed) {
    pid = -errno;  // setns is all or nothing: nothing to restore
  } else {
    pid = nsfd_clone3(&ca, s.cgroup_fd >= 0 ? kCloneArgsSizeVer2 : kCloneArgsSizeVer0,
                      p->two_stage ? RelayStage : OneStage, p);
    if (s.parent_pid_fd >= 0) {
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
  if (pid_join_failed) {
    return *failure = Failure(env, kStepSetns, static_cast<int>(-pid), static_cast<int32_t>(kCloneNewpid)), false;
  }

  if (pid < 0) {
    // CLONE_INTO_CGROUP's own errors (KERNEL-FACTS 53) name the cgroup step.
    int e = static_cast<int>(-pid);
    bool cg = s.cgroup_fd >= 0 && (e == EBADF || e == EOPNOTSUPP || e == ENOENT || e == EBUSY || e == EACCES);
    return *failure = Failure(env, cg ? kStepCgroup : kStepClone3, e, 0), false;
  }
  l->pid = pid;
  l->own.Add(l->child_pidfd);

  // Without CLONE_FILES the child has its own copy of the write end: drop
  // ours so that its exec (or death) reads as EOF.
  if (!p->two_stage) {
    close(l->rep_w);
    l->own.Release(l->rep_w);
  }
  return true;
}

// --- 4. serve the child until it has exec'd or exited ------------------------

// What the child (and the relay) reported, and how writing the maps went.
struct Outcome {
  Record err{};
  bool failed = false;
  int g_pid = -1, g_pidfd = -1;
  const char* map_syscall = nullptr;
  int map_err = 0;
  int32_t map_step = 0;
  int32_t map_detail = 0;  // kStepIdmap: the failing bind's op index, or -1 for the rootfs

  void Take(const Record& r) {
    if (r.kind == kError && !failed) {
      failed = true;
      err = r;
    } else if (r.kind == kGrandchild) {
      g_pid = r.detail;
      g_pidfd = r.fd;
    }
  }
};

// Writes one PID/<file> under our procfs; 0 or -errno, with the failing syscall in *what.
int WriteProcFile(int proc_fd, int pid, const char* file, const std::string& text, const char** what) {
  std::string path = std::to_string(pid) + "/" + file;
  int fd = openat(proc_fd, path.c_str(), O_WRONLY | O_CLOEXEC);
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

// The child asked for its id maps: setgroups, gid_map, uid_map, in that order.
void WriteMaps(const Spec& s, int pid, Outcome* o) {
  if (s.setgroups_deny) {
    o->map_err = WriteProcFile(s.proc_fd, pid, "setgroups", "deny", &o->map_syscall);
    o->map_step = kStepGidMap;
  }
  if (o->map_err == 0 && !s.gid_map.empty()) {
    o->map_err = WriteProcFile(s.proc_fd, pid, "gid_map", s.gid_map, &o->map_syscall);
    o->map_step = kStepGidMap;
  }
  if (o->map_err == 0 && !s.uid_map.empty()) {
    o->map_err = WriteProcFile(s.proc_fd, pid, "uid_map", s.uid_map, &o->map_syscall);
    o->map_step = kStepUidMap;
  }
}

// The child's user namespace, opened under our procfs: the pid is our
// child's, not reaped, so it names no other process. An fd or -errno.
int OpenUserns(const Spec& s, int pid) {
  char path[48];
  std::snprintf(path, sizeof path, "%d/ns/user", pid);
  int fd = openat(s.proc_fd, path, O_RDONLY | O_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

// open_tree(OPEN_TREE_CLONE | AT_RECURSIVE) of the rootfs: a detached copy
// of it and the mounts below. An fd or -errno.
int CloneRootfs(int rootfs_fd) {
  long r = syscall(kSysOpenTree, rootfs_fd, "", kOpenTreeClone | kOpenTreeCloexec | kAtRecursive | kAtEmptyPath);
  return r < 0 ? -errno : static_cast<int>(r);
}

// mount_setattr(attrs | MOUNT_ATTR_IDMAP) on a detached tree, on every
// mount of it with `recursive`: 0 or -errno.
int IdmapTree(int tree, int userns_fd, uint64_t attrs, bool recursive) {
  MountAttr a = {kMountAttrIdmap | attrs, 0, 0, static_cast<uint64_t>(userns_fd)};
  return syscall(kSysMountSetattr, tree, "", kAtEmptyPath | (recursive ? kAtRecursive : 0), &a, sizeof a) < 0 ? -errno : 0;
}

// open_tree(OPEN_TREE_CLONE) of a host path, the mounts below with
// `recursive`: a detached tree's fd, or -errno.
int CloneHostPath(const char* src, bool recursive) {
  long r = syscall(kSysOpenTree, AT_FDCWD, src, kOpenTreeClone | kOpenTreeCloexec | (recursive ? kAtRecursive : 0));
  return r < 0 ? -errno : static_cast<int>(r);
}

// A detached tree (`tree`: its fd, or -errno from open_tree) presented
// with the child's id maps (host ids shifted into its user namespace: uid
// 0 on disk is its root), with `attrs` set too. Done here, by us: the
// mount must be made with CAP_SYS_ADMIN over the filesystem's user
// namespace, which the child lacks; it attaches the tree in its own mount
// namespace. The tree's fd, or -1 with the failure in *o (`detail`: the
// bind's op index, -1 for the rootfs).
int IdmapOne(int tree, uint64_t attrs, bool recursive, int userns_fd, Outcome* o, int32_t detail) {
  o->map_step = kStepIdmap;
  o->map_detail = detail;
  if (tree < 0) return o->map_err = tree, o->map_syscall = "open_tree", -1;
  int r = IdmapTree(tree, userns_fd, attrs, recursive);
  if (r < 0) {
    close(tree);
    return o->map_err = r, o->map_syscall = "mount_setattr", -1;
  }
  return tree;
}

// Every tree the go carries (Plan.ntrees of them, in the child's order),
// into `trees`; false with the failure in *o (the trees made are closed).
bool IdmapTrees(const Spec& s, const Plan& p, int pid, int* trees, Outcome* o) {
  o->map_step = kStepIdmap;
  o->map_detail = -1;
  int ns = OpenUserns(s, pid);
  if (ns < 0) return o->map_err = ns, o->map_syscall = "open", false;
  int n = 0;
  bool ok = true;
  if (s.idmap_rootfs) {
    int t = IdmapOne(CloneRootfs(s.rootfs_fd), 0, true, ns, o, -1);
    ok = t >= 0;
    if (ok) trees[n++] = t;
  }
  for (int i = 0; ok && i < p.nfs_ops; i++) {
    const int32_t* op = &s.fs_ops[static_cast<size_t>(i) * kFsOpInts];
    if (!(op[7] & kFsIdmap)) continue;
    bool rec = op[7] & kFsRecursive;
    int t = IdmapOne(CloneHostPath(s.fs_strs[op[2]].c_str(), rec), static_cast<uint32_t>(op[6]), rec, ns, o, i);
    ok = t >= 0;
    if (ok) trees[n++] = t;
  }
  close(ns);
  if (!ok) {
    for (int k = 0; k < n; k++) close(trees[k]);
  }
  return ok;
}

// The go byte, with n fds attached (SCM_RIGHTS): true once sent.
bool SendFds(int sock, const int* fds, int n) {
  char byte = 1;
  struct iovec iov = {&byte, 1};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxTrees)];
  std::memset(control, 0, sizeof control);
  struct msghdr m = {};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = control;
  m.msg_controllen = CMSG_SPACE(sizeof(int) * n);
  struct cmsghdr* c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * n);
  std::memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
  ssize_t r;
  do r = sendmsg(sock, &m, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  return r == 1;
}

// The go byte alone.
bool Go(int fd) {
  char byte = 1;
  return write(fd, &byte, 1) == 1;
}

Outcome AwaitChild(const Spec& s, const Plan& p, const Launch& l) {
  Outcome o;
  auto drain = [&] {
    Record r;
    while (read(l.rep_r, &r, sizeof r) == static_cast<ssize_t>(sizeof r)) o.Take(r);
  };
  if (!p.need_maps) {
    // CLONE_VFORK: the child (or the relay) has exec'd or exited already.
    drain();
    return o;
  }
  // The child runs beside us: serve its request for maps, then wait
  // for its exec (EOF) or its exit (pidfd readable).
  for (;;) {
    struct pollfd pf[2] = {{l.rep_r, POLLIN, 0}, {l.child_pidfd, POLLIN, 0}};
    if (poll(pf, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (pf[0].revents & (POLLIN | POLLHUP)) {
      Record r;
      ssize_t n = read(l.rep_r, &r, sizeof r);
      if (n == 0) break;  // exec'd
      if (n != static_cast<ssize_t>(sizeof r)) continue;
      if (r.kind != kNeedMaps) {
        o.Take(r);
        continue;
      }
      WriteMaps(s, static_cast<int>(l.pid), &o);
      if (o.map_err != 0) {
        syscall(kSysPidfdSendSignal, l.child_pidfd, SIGKILL, nullptr, 0);
        break;
      }
      int trees[kMaxTrees];
      if (p.ntrees > 0 && !IdmapTrees(s, p, static_cast<int>(l.pid), trees, &o)) {
        syscall(kSysPidfdSendSignal, l.child_pidfd, SIGKILL, nullptr, 0);
        break;
      }
      bool sent = p.ntrees > 0 ? SendFds(l.go_w, trees, p.ntrees) : Go(l.go_w);
      for (int k = 0; k < p.ntrees; k++) close(trees[k]);
      if (!sent) {
        syscall(kSysPidfdSendSignal, l.child_pidfd, SIGKILL, nullptr, 0);
        break;
      }
    } else if (pf[1].revents & POLLIN) {
      drain();
      break;
    }
  }
  return o;
}

// --- 5. map the result to JS ------------------------------------------------

void Reap(int pidfd) {
  siginfo_t si;
  while (syscall(kSysWaitid, P_PIDFD, pidfd, &si, WEXITED, nullptr) < 0 && errno == EINTR) {
  }
}

// {pidfd, pid} of the process that exec'd, or the failure record after
// reaping whatever was started.
Napi::Value MapResult(Napi::Env env, const Plan& p, Launch* l, const Outcome& o) {
  if (o.failed || o.map_err != 0 || (p.two_stage && o.g_pidfd < 0)) {
    if (o.g_pidfd >= 0) {
      Reap(o.g_pidfd);
      close(o.g_pidfd);
    }
    Reap(l->child_pidfd);  // the Fds guard closes it
    if (o.map_err != 0) return Failure(env, o.map_step, -o.map_err, o.map_detail, o.map_syscall);
    if (!o.failed) return Failure(env, kStepClone3, ESRCH, 0);  // the relay died without a word
    return Failure(env, o.err.step, o.err.err, o.err.detail);
  }
  Napi::Object out = Napi::Object::New(env);
  if (p.two_stage) {
    Reap(l->child_pidfd);  // the relay has exited
    out.Set("pidfd", o.g_pidfd);
    out.Set("pid", o.g_pid);
  } else {
    l->own.Release(l->child_pidfd);  // keep the child's pidfd: it is the result
    out.Set("pidfd", l->child_pidfd);
    out.Set("pid", static_cast<double>(l->pid));
  }
  return out;
}

// spawn_spec_check(spec) -> true, or a TypeError naming the first key
// that is unknown or missing.
Napi::Value SpawnSpecCheck(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsObject()) return Fail(info, "nsfd native: expected a spawn spec");
  SpecReader rd(info, info[0].As<Napi::Object>());
  if (!rd.Keys()) return info.Env().Undefined();
  return Napi::Boolean::New(info.Env(), true);
}

// spawn_clone3(spec) -> {pidfd, pid} | {errno, step, syscall, detail}
Napi::Value SpawnClone3(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) return Fail(info, "nsfd native: expected a spawn spec");
  Spec s;
  if (!ReadSpec(info, info[0].As<Napi::Object>(), &s)) return env.Undefined();
  // From here on no JS runs until the result is built.
  PlanBuffers buffers;
  Plan p;
  BuildPlan(s, &buffers, &p);
  Launch l;
  Napi::Value failure;
  if (!OpenChannels(env, &p, &l, &failure) || !RunClone(env, s, &p, &l, &failure)) return failure;
  Outcome o = AwaitChild(s, p, l);
  return MapResult(env, p, &l, o);
}

// spawn_ns_links(pidfd, pid, names, procfd): the process's "type:[inode]"
// link for each namespace type name (or -errno for that one), read as
// PID/ns/TYPE under the procfs directory procfd, then a check through the
// pidfd that the pid still named that process; or -errno overall. Runs
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
  NSFD_INT(3, procfd);
  if (BadFd(info, 3)) return Num(info, -EBADF);
  Napi::Array out = Napi::Array::New(env, names.size());
  std::string dir = std::to_string(pid) + "/ns/";
  for (uint32_t i = 0; i < names.size(); i++) {
    char buf[64];
    // A type name is one path component (no "../", no null byte cutting it short).
    const std::string& t = names[i];
    ssize_t r = t.empty() || t.find_first_of(std::string("/\0", 2)) != std::string::npos
                    ? (errno = EINVAL, -1)
                    : readlinkat(static_cast<int>(procfd), (dir + t).c_str(), buf, sizeof buf);
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

Napi::Array SpecKeys(Napi::Env env) {
  Napi::Array a = Napi::Array::New(env, kSpecKeyCount);
  for (uint32_t i = 0; i < kSpecKeyCount; i++) a.Set(i, kSpecKeyNames[i]);
  return a;
}

}  // namespace
}  // namespace spawn

void InitSpawn(Napi::Env env, Napi::Object exports) {
  auto* keys = new spawn::SpecKeyStrings();
  keys->array = Napi::Persistent(static_cast<Napi::Object>(spawn::SpecKeys(env)));
  env.AddCleanupHook([keys] { delete keys; });
  exports.Set("spawn_clone3", Napi::Function::New(env, spawn::SpawnClone3, "spawn_clone3", keys));
  exports.Set("spawn_spec_keys", spawn::SpecKeys(env));
  exports.Set("spawn_spec_check", Napi::Function::New(env, spawn::SpawnSpecCheck, "spawn_spec_check", keys));
  exports.Set("spawn_ns_links", Napi::Function::New(env, spawn::SpawnNsLinks, "spawn_ns_links"));
  exports.Set("socketpair", Napi::Function::New(env, spawn::Socketpair, "socketpair"));
}

}  // namespace nsfd
