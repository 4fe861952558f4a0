// Namespace discovery: readlink for the /proc walk (SIOCGSKNS is
// socket_netns in inns.cc), and proc_scan, which reads what the walk needs
// of one process in one call instead of one JS-to-native crossing per file.
#include <dirent.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <string>

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

// proc_scan(procfd, pid, nsFiles, threads): what the /proc walk reads of
// one process, through the procfs held by procfd, parsed here so that only
// numbers (and the command) cross into JS:
//   [fdFacts, nsInodes, name, euid, threads, cmdline]
// fdFacts: [fd, kind, inode, ...] for the fds of /proc/PID/fd that are
// namespaces (kind: the index in nsFiles of the link's type) or sockets
// (kind -1, inode the socket's), read before this call opens anything of
// its own; other fds are left out. nsInodes: per name of nsFiles, the
// inode its link names or -errno. name: status's Name as latin1 ("" when
// unreadable); euid and threads from status (-1 when unreadable); cmdline:
// a Buffer. With threads true, instead: [tid, inode..., tid, inode..., ...]
// (one per nsFiles name) for /proc/PID/task. -errno when /proc/PID cannot
// be opened. The caller holds a pidfd from before and rechecks it after:
// nothing here says the process is still the same one.
Napi::Value ProcScan(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  NSFD_INT(0, procfd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  NSFD_INT(1, pid);
  if (pid < 1) return Num(info, -EINVAL);
  if (info.Length() < 3 || !info[2].IsArray()) return Fail(info, "nsFiles must be an array of strings");
  Napi::Array files = info[2].As<Napi::Array>();
  std::string names[32];
  uint32_t nfiles = files.Length();
  if (nfiles > 32) return Fail(info, "too many nsFiles");
  for (uint32_t i = 0; i < nfiles; i++) {
    Napi::Value v;
    if (!GetElem(files, i, &v)) return env.Undefined();
    if (!v.IsString()) return Fail(info, "nsFiles must be an array of strings");
    names[i] = v.As<Napi::String>().Utf8Value();
    if (names[i].find('/') != std::string::npos || HasNul(names[i])) return Fail(info, "an nsFiles name must be one path component");
  }
  bool threads = info.Length() > 3 && info[3].ToBoolean().Value();

  char pidname[24];
  snprintf(pidname, sizeof pidname, "%lld", static_cast<long long>(pid));
  int piddir = OpenBeneath(static_cast<int>(procfd), pidname, O_RDONLY | O_DIRECTORY);
  if (piddir < 0) return Num(info, piddir);

  if (threads) {
    Napi::Array out = Napi::Array::New(env);
    uint32_t k = 0;
    int taskdir = OpenBeneath(piddir, "task", O_RDONLY | O_DIRECTORY);
    if (taskdir >= 0) {
      EachNumeric(taskdir, ".", [&](const char* tid, int) {
        std::string rel = std::string(tid) + "/ns";
        int nsdir = OpenBeneath(taskdir, rel.c_str(), O_RDONLY | O_DIRECTORY);
        if (nsdir < 0) return;
        out.Set(k++, Napi::Number::New(env, std::strtod(tid, nullptr)));
        for (uint32_t i = 0; i < nfiles; i++) out.Set(k++, Napi::Number::New(env, NsInodeAt(nsdir, names[i].c_str())));
        close(nsdir);
      });
      close(taskdir);
    }
    close(piddir);
    return out;
  }

  static const pid_t self = getpid();
  Napi::Array fdFacts = Napi::Array::New(env);
  uint32_t k = 0;
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
      for (uint32_t i = 0; i < nfiles; i++) {
        if (names[i].size() == plen && std::memcmp(buf, names[i].data(), plen) == 0) {
          kind = static_cast<int>(i);
          break;
        }
      }
    }
    if (kind == -2) return;  // pipe:[N], other anon inodes
    fdFacts.Set(k++, Napi::Number::New(env, fdn));
    fdFacts.Set(k++, Napi::Number::New(env, kind));
    fdFacts.Set(k++, Napi::Number::New(env, ino));
  });
  Napi::Array nsInodes = Napi::Array::New(env, nfiles);
  int nsdir = OpenBeneath(piddir, "ns", O_RDONLY | O_DIRECTORY);
  for (uint32_t i = 0; i < nfiles; i++) {
    nsInodes.Set(i, Napi::Number::New(env, nsdir < 0 ? nsdir : NsInodeAt(nsdir, names[i].c_str())));
  }
  if (nsdir >= 0) close(nsdir);
  std::string status, cmdline;
  ReadSmallInto(piddir, "status", &status);
  ReadSmallInto(piddir, "cmdline", &cmdline);
  close(piddir);
  const char* v = "";
  size_t vn = 0;
  std::string name;
  if (StatusField(status, "Name", &v, &vn)) name.assign(v, vn);
  double euid = StatusField(status, "Uid", &v, &vn) ? StatusNumber(v, vn, 1) : -1;
  double nthreads = StatusField(status, "Threads", &v, &vn) ? StatusNumber(v, vn, 0) : -1;
  Napi::Array out = Napi::Array::New(env, 6);
  out.Set(0u, fdFacts);
  out.Set(1u, nsInodes);
  out.Set(2u, Latin1(env, name.data(), name.size()));
  out.Set(3u, Napi::Number::New(env, euid));
  out.Set(4u, Napi::Number::New(env, nthreads));
  out.Set(5u, Napi::Buffer<char>::Copy(env, cmdline.data(), cmdline.size()));
  return out;
}

}  // namespace

void InitList(Napi::Env env, Napi::Object exports) {
  exports.Set("readlink", Napi::Function::New(env, Readlink, "readlink"));
  exports.Set("proc_scan", Napi::Function::New(env, ProcScan, "proc_scan"));
}

}  // namespace nsfd
