// Namespace discovery: readlink for the /proc walk (SIOCGSKNS is
// socket_netns in inns.cc), and proc_scan, which reads what the walk needs
// of one process in one call instead of one JS-to-native crossing per file.
#include <dirent.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <memory>
#include <cstring>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "openat2.h"
#include "uapi.h"
#include "util.h"

namespace nsfd {
namespace {

// readlink(path): the target as a string, or -errno. The /proc walk reads
// thousands of links, most of which may vanish under it: a number is much
// cheaper than a thrown Error for the common "gone" case.
Napi::Value Readlink(const Napi::CallbackInfo& info) {
  NSFD_STR(0, path);
  char buf[PATH_MAX];
  ssize_t n = readlink(path.c_str(), buf, sizeof buf);
  if (n < 0) return Num(info, -errno);
  return Napi::String::New(info.Env(), buf, static_cast<size_t>(n));
}

// A directory or file under dirfd, never crossing a mount (something
// mounted over a /proc/PID entry is not the process's): the fd or -errno.
int OpenBeneath(int dirfd, const char* path, int flags) {
  return static_cast<int>(Openat2(dirfd, path, static_cast<uint64_t>(flags), 0, kResolveNoXdev | kResolveNoMagiclinks));
}

// Calls fn(name) for each numeric entry of dirfd/path. Raw getdents64: no
// DIR allocation, no fcntl check as fdopendir makes. `skipFd` receives the
// directory's own fd (to leave it out of a listing of our own fds).
template <typename Fn>
void EachNumeric(int dirfd, const char* path, Fn fn) {
  int fd = OpenBeneath(dirfd, path, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  alignas(8) char buf[8192];
  for (;;) {
    long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
    if (n <= 0) break;
    for (long at = 0; at < n;) {
      // struct linux_dirent64: d_ino u64, d_off s64, d_reclen u16, d_type u8, d_name[].
      unsigned short reclen;
      std::memcpy(&reclen, buf + at + 16, sizeof reclen);
      const char* name = buf + at + 19;
      if (name[0] >= '0' && name[0] <= '9') fn(name, fd);
      at += reclen;
    }
  }
  close(fd);
}

// Bytes as latin1 (procfs text is not necessarily UTF-8: a comm can hold any byte).
Napi::Value Latin1(Napi::Env env, const char* s, size_t n) {
  napi_value v;
  if (napi_create_string_latin1(env, s, n, &v) != napi_ok) return env.Undefined();
  return Napi::Value(env, v);
}

// "PREFIX:[DIGITS]" (a /proc ns or socket link): the inode, with the
// prefix's length in *plen; -1 for any other link.
double LinkInode(const char* s, size_t n, size_t* plen) {
  const char* colon = static_cast<const char*>(std::memchr(s, ':', n));
  if (colon == nullptr) return -1;
  size_t p = static_cast<size_t>(colon - s);
  if (p == 0 || p + 3 >= n + 0 || s[p + 1] != '[' || s[n - 1] != ']') return -1;
  double v = 0;
  for (size_t i = p + 2; i < n - 1; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  if (p + 2 == n - 1 || v > 9007199254740991.0) return -1;
  *plen = p;
  return v;
}

// The inode a /proc/PID/ns link names, or -errno (-EINVAL: not "type:[N]").
double NsInodeAt(int dirfd, const char* name) {
  char buf[256];
  ssize_t n = readlinkat(dirfd, name, buf, sizeof buf);
  if (n < 0) return -errno;
  size_t plen;
  double ino = LinkInode(buf, static_cast<size_t>(n), &plen);
  return ino < 0 ? -EINVAL : ino;
}

// Reads a small procfs file under dirfd into buf: its length, or -errno.
// A procfs read returns a whole single-record file at once, so a short
// read is its end (saves the read that would return 0).
long ReadSmallInto(int dirfd, const char* name, std::string* out) {
  int fd = OpenBeneath(dirfd, name, O_RDONLY);
  if (fd < 0) return fd;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out->append(buf, static_cast<size_t>(n));
    if (static_cast<size_t>(n) < sizeof buf || out->size() > (1u << 20)) break;
  }
  close(fd);
  return static_cast<long>(out->size());
}

// The value of "Key:\tvalue\n" in /proc/PID/status text, as the kernel wrote it.
bool StatusField(const std::string& st, const char* key, const char** v, size_t* n) {
  size_t klen = std::strlen(key);
  for (size_t at = 0; at < st.size();) {
    size_t eol = st.find('\n', at);
    if (eol == std::string::npos) eol = st.size();
    if (eol - at > klen && st.compare(at, klen, key) == 0 && st[at + klen] == ':') {
      size_t b = at + klen + 1;
      if (b < eol && st[b] == '\t') b++;
      *v = st.data() + b;
      *n = eol - b;
      return true;
    }
    at = eol + 1;
  }
  return false;
}

// The index'th whitespace-separated decimal number of a status value, or -1.
double StatusNumber(const char* v, size_t n, int index) {
  size_t i = 0;
  for (int k = 0;; k++) {
    while (i < n && (v[i] == ' ' || v[i] == '\t')) i++;
    if (i >= n || v[i] < '0' || v[i] > '9') return -1;
    double x = 0;
    while (i < n && v[i] >= '0' && v[i] <= '9') x = x * 10 + (v[i++] - '0');
    if (k == index) return x;
  }
}

// What proc_scan reads of one process (no N-API here: the async batch
// fills these on a pool thread).
struct Scan {
  int err = 0;                  // -errno when /proc/PID cannot be opened
  std::vector<double> fdFacts;  // fd, kind, inode, ...
  double ns[32];
  std::string name, cmdline;
  double euid = -1, threads = -1;
  // The nsfs lines of its mountinfo that are not in MountCtx::skip, when
  // this scan read its mount namespace's table (mountsRead).
  bool mountsRead = false;
  std::vector<std::string> mounts;
};

// What a batch needs to read each foreign mount namespace's table once: the
// index of "mnt" in nsFiles, the namespaces not to read (ours, and those
// read by earlier batches; the batch adds those it reads), and the
// "root mountpoint" keys (as mountinfo escapes them) of our own nsfs
// mounts, whose copies in other tables are left out.
struct MountCtx {
  size_t mntIndex = SIZE_MAX;
  std::set<double> seen;
  std::unordered_set<std::string> skip;
};

// A seq_file (mountinfo, many records) under dirfd, read to EOF: a short
// read is not its end. false when unreadable or over 64 MiB.
bool ReadAllInto(int dirfd, const char* name, std::string* out) {
  int fd = OpenBeneath(dirfd, name, O_RDONLY);
  if (fd < 0) return false;
  bool ok = true;
  size_t at = 0;
  for (;;) {
    if (out->size() - at < 65536) out->resize(at + 65536);
    ssize_t n = read(fd, &(*out)[at], out->size() - at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) ok = false;
    if (n <= 0) break;
    at += static_cast<size_t>(n);
    if (at > (64u << 20)) {  // (a table that large is not read whole)
      ok = false;
      break;
    }
  }
  close(fd);
  out->resize(at);
  return ok;
}

// The nsfs lines of mountinfo text whose "root mountpoint" is not in skip.
void NsfsLines(const std::string& text, const std::unordered_set<std::string>& skip, std::vector<std::string>* out) {
  static const char kTag[] = " - nsfs ";
  for (size_t at = text.find(kTag); at != std::string::npos; at = text.find(kTag, at + 1)) {
    size_t start = text.rfind('\n', at);
    start = start == std::string::npos ? 0 : start + 1;
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    // Fields 4 and 5 (root, mount point): after the third and fourth space.
    size_t f = start;
    for (int k = 0; k < 3 && f < end; k++) {
      size_t sp = text.find(' ', f);
      f = sp == std::string::npos ? end : sp + 1;
    }
    if (f >= end) continue;
    size_t e1 = text.find(' ', f);
    size_t e2 = e1 == std::string::npos ? e1 : text.find(' ', e1 + 1);
    if (e2 == std::string::npos || e2 > end) continue;
    if (skip.count(text.substr(f, e2 - f)) != 0) continue;
    out->push_back(text.substr(start, end - start));
  }
}

// The nsFiles argument: at most 32 single path components.
bool NsFileNames(const Napi::CallbackInfo& info, size_t at, std::vector<std::string>* names) {
  if (info.Length() <= at || !info[at].IsArray()) {
    Fail(info, "nsFiles must be an array of strings");
    return false;
  }
  Napi::Array files = info[at].As<Napi::Array>();
  uint32_t nfiles = files.Length();
  if (nfiles > 32) {
    Fail(info, "too many nsFiles");
    return false;
  }
  for (uint32_t i = 0; i < nfiles; i++) {
    Napi::Value v;
    if (!GetElem(files, i, &v)) return false;
    if (!v.IsString()) {
      Fail(info, "nsFiles must be an array of strings");
      return false;
    }
    std::string n = v.As<Napi::String>().Utf8Value();
    if (n.find('/') != std::string::npos || HasNul(n)) {
      Fail(info, "an nsFiles name must be one path component");
      return false;
    }
    names->push_back(std::move(n));
  }
  return true;
}

void ScanProcess(int procfd, int64_t pid, const std::vector<std::string>& names, Scan* out, MountCtx* mc = nullptr) {
  static const pid_t self = getpid();
  char pidname[24];
  snprintf(pidname, sizeof pidname, "%lld", static_cast<long long>(pid));
  int piddir = OpenBeneath(procfd, pidname, O_RDONLY | O_DIRECTORY);
  if (piddir < 0) {
    out->err = piddir;
    return;
  }
  size_t nfiles = names.size();
  EachNumeric(piddir, "fd", [&](const char* name, int own) {
    int fdn = atoi(name);
    // Our own listing's fds are not holders of anything.
    if (pid == self && (fdn == own || fdn == piddir)) return;
    char buf[256];
    ssize_t n = readlinkat(own, name, buf, sizeof buf);
    // Longer links are paths, not "type:[inode]".
    if (n < 0 || static_cast<size_t>(n) >= sizeof buf) return;
    size_t plen;
    double ino = LinkInode(buf, static_cast<size_t>(n), &plen);
    if (ino < 0) return;
    int kind = -2;
    if (plen == 6 && std::memcmp(buf, "socket", 6) == 0) {
      kind = -1;
    } else {
      for (size_t i = 0; i < nfiles; i++) {
        if (names[i].size() == plen && std::memcmp(buf, names[i].data(), plen) == 0) {
          kind = static_cast<int>(i);
          break;
        }
      }
    }
    if (kind == -2) return;  // pipe:[N], other anon inodes
    out->fdFacts.push_back(fdn);
    out->fdFacts.push_back(kind);
    out->fdFacts.push_back(ino);
  });
  int nsdir = OpenBeneath(piddir, "ns", O_RDONLY | O_DIRECTORY);
  for (size_t i = 0; i < nfiles; i++) out->ns[i] = nsdir < 0 ? nsdir : NsInodeAt(nsdir, names[i].c_str());
  if (mc != nullptr && nsdir >= 0 && mc->mntIndex < nfiles) {
    double mnt = out->ns[mc->mntIndex];
    if (mnt >= 0 && mc->seen.insert(mnt).second) {
      std::string text;
      // The table is that namespace's only if the process is still in it
      // after the read (the caller's pidfd recheck says it still exists).
      if (ReadAllInto(piddir, "mountinfo", &text) && NsInodeAt(nsdir, names[mc->mntIndex].c_str()) == mnt) {
        out->mountsRead = true;
        NsfsLines(text, mc->skip, &out->mounts);
      } else {
        mc->seen.erase(mnt);
      }
    }
  }
  if (nsdir >= 0) close(nsdir);
  std::string status;
  ReadSmallInto(piddir, "status", &status);
  ReadSmallInto(piddir, "cmdline", &out->cmdline);
  close(piddir);
  const char* v = "";
  size_t vn = 0;
  if (StatusField(status, "Name", &v, &vn)) out->name.assign(v, vn);
  if (StatusField(status, "Uid", &v, &vn)) out->euid = StatusNumber(v, vn, 1);
  if (StatusField(status, "Threads", &v, &vn)) out->threads = StatusNumber(v, vn, 0);
}

// A Scan as proc_scan returns it: [fdFacts, nsInodes, name, euid, threads,
// command, mounts] (mounts: latin1 nsfs lines, or -1 when its table was
// not read here), or -errno.
Napi::Value ScanValue(Napi::Env env, const Scan& sc, size_t nfiles) {
  if (sc.err < 0) return Napi::Number::New(env, sc.err);
  Napi::Array fdFacts = Napi::Array::New(env, sc.fdFacts.size());
  for (size_t i = 0; i < sc.fdFacts.size(); i++) fdFacts.Set(static_cast<uint32_t>(i), Napi::Number::New(env, sc.fdFacts[i]));
  Napi::Array nsInodes = Napi::Array::New(env, nfiles);
  for (size_t i = 0; i < nfiles; i++) nsInodes.Set(static_cast<uint32_t>(i), Napi::Number::New(env, sc.ns[i]));
  Napi::Array out = Napi::Array::New(env, 7);
  out.Set(0u, fdFacts);
  out.Set(1u, nsInodes);
  out.Set(2u, Latin1(env, sc.name.data(), sc.name.size()));
  out.Set(3u, Napi::Number::New(env, sc.euid));
  out.Set(4u, Napi::Number::New(env, sc.threads));
  // The command line as one string, NULs between arguments as spaces and
  // trailing ones dropped (a string, not a Buffer: a Buffer per process is
  // an external allocation each, which makes the walk collect garbage
  // more often); null when it is empty (a kernel thread, or gone).
  if (sc.cmdline.empty()) {
    out.Set(5u, env.Null());
  } else {
    std::string cmd = sc.cmdline;
    while (!cmd.empty() && cmd.back() == '\0') cmd.pop_back();
    for (char& c : cmd) if (c == '\0') c = ' ';
    napi_value v;
    if (napi_create_string_utf8(env, cmd.data(), cmd.size(), &v) != napi_ok) return env.Undefined();
    out.Set(5u, Napi::Value(env, v));
  }
  if (sc.mountsRead) {
    Napi::Array mounts = Napi::Array::New(env, sc.mounts.size());
    for (size_t i = 0; i < sc.mounts.size(); i++) mounts.Set(static_cast<uint32_t>(i), Latin1(env, sc.mounts[i].data(), sc.mounts[i].size()));
    out.Set(6u, mounts);
  } else {
    out.Set(6u, Napi::Number::New(env, -1));
  }
  return out;
}

// proc_scan(procfd, pid, nsFiles, threads): what the /proc walk reads of
// one process, through the procfs held by procfd, parsed here so that only
// numbers (and the command) cross into JS:
//   [fdFacts, nsInodes, name, euid, threads, command, mounts]
// fdFacts: [fd, kind, inode, ...] for the fds of /proc/PID/fd that are
// namespaces (kind: the index in nsFiles of the link's type) or sockets
// (kind -1, inode the socket's), read before this call opens anything of
// its own; other fds are left out. nsInodes: per name of nsFiles, the
// inode its link names or -errno. name: status's Name as latin1 ("" when
// unreadable); euid and threads from status (-1 when unreadable); command:
// cmdline decoded as UTF-8, NULs as spaces but trailing ones dropped, or
// null when cmdline is empty or unreadable; mounts: -1 (see
// proc_scan_batch). With threads true, instead: [tid, inode..., tid, inode..., ...]
// (one per nsFiles name) for /proc/PID/task. -errno when /proc/PID cannot
// be opened. The caller holds a pidfd from before and rechecks it after:
// nothing here says the process is still the same one.
Napi::Value ProcScan(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  NSFD_INT(0, procfd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  NSFD_INT(1, pid);
  if (pid < 1) return Num(info, -EINVAL);
  std::vector<std::string> names;
  if (!NsFileNames(info, 2, &names)) return env.Undefined();
  size_t nfiles = names.size();
  bool threads = info.Length() > 3 && info[3].ToBoolean().Value();

  if (!threads) {
    Scan sc;
    ScanProcess(static_cast<int>(procfd), pid, names, &sc);
    return ScanValue(env, sc, nfiles);
  }
  char pidname[24];
  snprintf(pidname, sizeof pidname, "%lld", static_cast<long long>(pid));
  int piddir = OpenBeneath(static_cast<int>(procfd), pidname, O_RDONLY | O_DIRECTORY);
  if (piddir < 0) return Num(info, piddir);
  Napi::Array out = Napi::Array::New(env);
  uint32_t k = 0;
  int taskdir = OpenBeneath(piddir, "task", O_RDONLY | O_DIRECTORY);
  if (taskdir >= 0) {
    EachNumeric(taskdir, ".", [&](const char* tid, int) {
      std::string rel = std::string(tid) + "/ns";
      int nsdir = OpenBeneath(taskdir, rel.c_str(), O_RDONLY | O_DIRECTORY);
      if (nsdir < 0) return;
      out.Set(k++, Napi::Number::New(env, std::strtod(tid, nullptr)));
      for (size_t i = 0; i < nfiles; i++) out.Set(k++, Napi::Number::New(env, NsInodeAt(nsdir, names[i].c_str())));
      close(nsdir);
    });
    close(taskdir);
  }
  close(piddir);
  return out;
}

// The batch's pool-thread part: ScanProcess for each pid.
class ScanBatch : public Napi::AsyncWorker {
 public:
  ScanBatch(Napi::Env env, Napi::Promise::Deferred d, Napi::Object keep, int procfd, std::vector<int64_t> pids, std::vector<std::string> names, std::unique_ptr<MountCtx> mc)
      : Napi::AsyncWorker(env, "nsfd:proc_scan_batch"), d_(d), procfd_(procfd), pids_(std::move(pids)), names_(std::move(names)), mc_(std::move(mc)) {
    // The procfs handle must stay open while the pool thread reads through it.
    keep_ = Napi::Persistent(keep);
  }
  void Execute() override {
    scans_.resize(pids_.size());
    for (size_t i = 0; i < pids_.size(); i++) ScanProcess(procfd_, pids_[i], names_, &scans_[i], mc_.get());
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Array out = Napi::Array::New(env, scans_.size());
    for (size_t i = 0; i < scans_.size(); i++) out.Set(static_cast<uint32_t>(i), ScanValue(env, scans_[i], names_.size()));
    d_.Resolve(out);
  }
  void OnError(const Napi::Error& e) override { d_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred d_;
  Napi::ObjectReference keep_;
  int procfd_;
  std::vector<int64_t> pids_;
  std::vector<std::string> names_;
  std::vector<Scan> scans_;
  std::unique_ptr<MountCtx> mc_;
};

// proc_scan_batch(procfd, pids, nsFiles, keep[, mntIndex, seenMnt,
// skipKeys]): a promise of proc_scan's result for each pid, read on a libuv
// pool thread. `keep` (the object owning procfd) is held until then, so
// procfd stays open. The caller opened a pidfd for each pid before and
// rechecks each after. With mntIndex (the index of "mnt" in nsFiles), the
// first process of each mount namespace not in seenMnt (inodes) also has
// the nsfs lines of its mountinfo read (element 6), leaving out those whose
// "root mountpoint" is in skipKeys.
Napi::Value ProcScanBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  NSFD_INT(0, procfd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  if (info.Length() < 2 || !info[1].IsArray()) return Fail(info, "pids must be an array of numbers");
  Napi::Array arr = info[1].As<Napi::Array>();
  std::vector<int64_t> pids;
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value v;
    if (!GetElem(arr, i, &v)) return env.Undefined();
    int64_t pid;
    if (!IntIn(v, 1, INT32_MAX, &pid)) return Fail(info, "pids must be an array of positive integers");
    pids.push_back(pid);
  }
  std::vector<std::string> names;
  if (!NsFileNames(info, 2, &names)) return env.Undefined();
  if (info.Length() < 4 || !info[3].IsObject()) return Fail(info, "keep must be an object");
  std::unique_ptr<MountCtx> mc;
  if (info.Length() > 4 && !info[4].IsUndefined()) {
    mc.reset(new MountCtx);
    int64_t mi;
    if (!IntIn(info[4], 0, static_cast<int64_t>(names.size()) - 1, &mi)) return Fail(info, "mntIndex must index nsFiles");
    mc->mntIndex = static_cast<size_t>(mi);
    if (info.Length() < 7 || !info[5].IsArray() || !info[6].IsArray()) return Fail(info, "seenMnt and skipKeys must be arrays");
    Napi::Array seen = info[5].As<Napi::Array>();
    for (uint32_t i = 0; i < seen.Length(); i++) {
      Napi::Value v;
      if (!GetElem(seen, i, &v)) return env.Undefined();
      if (!v.IsNumber()) return Fail(info, "seenMnt must be an array of numbers");
      mc->seen.insert(v.As<Napi::Number>().DoubleValue());
    }
    Napi::Array skip = info[6].As<Napi::Array>();
    for (uint32_t i = 0; i < skip.Length(); i++) {
      Napi::Value v;
      if (!GetElem(skip, i, &v)) return env.Undefined();
      if (!v.IsString()) return Fail(info, "skipKeys must be an array of strings");
      // Latin1, as the keys were decoded from mountinfo's bytes.
      size_t len = 0;
      if (napi_get_value_string_latin1(env, v, nullptr, 0, &len) != napi_ok) return env.Undefined();
      std::string key(len, '\0');
      if (napi_get_value_string_latin1(env, v, &key[0], len + 1, &len) != napi_ok) return env.Undefined();
      mc->skip.insert(key);
    }
  }
  Napi::Promise::Deferred d = Napi::Promise::Deferred::New(env);
  ScanBatch* w = new ScanBatch(env, d, info[3].As<Napi::Object>(), static_cast<int>(procfd), std::move(pids), std::move(names), std::move(mc));
  w->Queue();
  return d.Promise();
}

// userns_maps(procfd): the uid_map and gid_map text of each user namespace
// that a process is in, but ours, once per namespace: [uid_map, gid_map,
// ...] (latin1), or -errno. What lib/userns/range.ts reads to learn which
// host ids are taken: one crossing instead of three per process. A process
// that vanishes under the walk is skipped (another in its namespace then
// stands in for it).
Napi::Value UsernsMaps(const Napi::CallbackInfo& info) {
  NSFD_INT(0, procfd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  int pfd = static_cast<int>(procfd);
  double own = NsInodeAt(pfd, "self/ns/user");
  if (own < 0) return Num(info, static_cast<int>(own));
  std::unordered_set<double> seen{own};  // inodes: every nsfs file is on the one nsfs device
  std::vector<std::string> texts;
  EachNumeric(pfd, ".", [&](const char* pid, int) {
    char path[64];
    std::snprintf(path, sizeof path, "%s/ns/user", pid);
    double ino = NsInodeAt(pfd, path);
    if (ino < 0 || seen.count(ino) != 0) return;
    std::string uid, gid;
    std::snprintf(path, sizeof path, "%s/uid_map", pid);
    if (ReadSmallInto(pfd, path, &uid) < 0) return;
    std::snprintf(path, sizeof path, "%s/gid_map", pid);
    if (ReadSmallInto(pfd, path, &gid) < 0) return;
    seen.insert(ino);
    texts.push_back(std::move(uid));
    texts.push_back(std::move(gid));
  });
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env, texts.size());
  for (uint32_t i = 0; i < texts.size(); i++) out.Set(i, Latin1(env, texts[i].data(), texts[i].size()));
  return out;
}

}  // namespace

void InitList(Napi::Env env, Napi::Object exports) {
  exports.Set("userns_maps", Napi::Function::New(env, UsernsMaps, "userns_maps"));
  exports.Set("readlink", Napi::Function::New(env, Readlink, "readlink"));
  exports.Set("proc_scan", Napi::Function::New(env, ProcScan, "proc_scan"));
  exports.Set("proc_scan_batch", Napi::Function::New(env, ProcScanBatch, "proc_scan_batch"));
}

}  // namespace nsfd
