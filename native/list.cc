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

// The whole file (a procfs file reports size 0: read to EOF), or "" if it
// cannot be opened or read. Capped: a status or cmdline is small.
std::string ReadSmall(int dirfd, const char* name) {
  std::string out;
  int fd = OpenBeneath(dirfd, name, O_RDONLY);
  if (fd < 0) return out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (1u << 20)) break;
  }
  close(fd);
  return out;
}

// Calls fn(name) for each numeric entry of dirfd/path.
template <typename Fn>
void EachNumeric(int dirfd, const char* path, Fn fn) {
  int fd = OpenBeneath(dirfd, path, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  DIR* d = fdopendir(fd);
  if (d == nullptr) {
    close(fd);
    return;
  }
  while (struct dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    fn(e->d_name);
  }
  closedir(d);
}

// Bytes as latin1 (procfs text is not necessarily UTF-8: a comm can hold any byte).
Napi::Value Latin1(Napi::Env env, const std::string& s) {
  napi_value v;
  if (napi_create_string_latin1(env, s.data(), s.size(), &v) != napi_ok) return env.Undefined();
  return Napi::Value(env, v);
}

Napi::Value LinkOrErrno(Napi::Env env, int dirfd, const char* name) {
  char buf[PATH_MAX];
  ssize_t n = readlinkat(dirfd, name, buf, sizeof buf);
  if (n < 0) return Napi::Number::New(env, -errno);
  return Napi::String::New(env, buf, static_cast<size_t>(n));
}

// proc_scan(procfd, pid, nsFiles, threads): what the /proc walk reads of
// one process, through the procfs held by procfd:
//   [fdLinks, nsLinks, status, cmdline]
// fdLinks: [fd, link, fd, link, ...] for /proc/PID/fd (read first, before
// this call opens anything of its own); nsLinks: one per name of nsFiles
// (a link string or -errno); status and cmdline: the files' bytes as
// latin1 ("" when unreadable). With threads true, instead:
//   [tid, link..., tid, link..., ...] (one link per nsFiles name) for
// /proc/PID/task. -errno when /proc/PID cannot be opened. The caller
// holds a pidfd from before and rechecks it after: nothing here says the
// process is still the same one.
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
    Napi::Value v = files.Get(i);
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
      EachNumeric(taskdir, ".", [&](const char* tid) {
        std::string rel = std::string(tid) + "/ns";
        int nsdir = OpenBeneath(taskdir, rel.c_str(), O_RDONLY | O_DIRECTORY);
        if (nsdir < 0) return;
        out.Set(k++, Napi::Number::New(env, std::strtod(tid, nullptr)));
        for (uint32_t i = 0; i < nfiles; i++) out.Set(k++, LinkOrErrno(env, nsdir, names[i].c_str()));
        close(nsdir);
      });
      close(taskdir);
    }
    close(piddir);
    return out;
  }

  Napi::Array fdLinks = Napi::Array::New(env);
  uint32_t k = 0;
  int fddir = OpenBeneath(piddir, "fd", O_RDONLY | O_DIRECTORY);
  if (fddir >= 0) {
    DIR* d = fdopendir(fddir);
    if (d != nullptr) {
      int own = dirfd(d);
      bool self = pid == getpid();
      while (struct dirent* e = readdir(d)) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        int fdn = atoi(e->d_name);
        // Our own listing's fds are not holders of anything.
        if (self && (fdn == own || fdn == piddir)) continue;
        char buf[PATH_MAX];
        ssize_t n = readlinkat(own, e->d_name, buf, sizeof buf);
        if (n < 0) continue;
        fdLinks.Set(k++, Napi::Number::New(env, fdn));
        fdLinks.Set(k++, Napi::String::New(env, buf, static_cast<size_t>(n)));
      }
      closedir(d);
    } else {
      close(fddir);
    }
  }
  Napi::Array nsLinks = Napi::Array::New(env, nfiles);
  int nsdir = OpenBeneath(piddir, "ns", O_RDONLY | O_DIRECTORY);
  for (uint32_t i = 0; i < nfiles; i++) {
    nsLinks.Set(i, nsdir < 0 ? Napi::Number::New(env, nsdir) : LinkOrErrno(env, nsdir, names[i].c_str()));
  }
  if (nsdir >= 0) close(nsdir);
  std::string status = ReadSmall(piddir, "status");
  std::string cmdline = ReadSmall(piddir, "cmdline");
  close(piddir);
  Napi::Array out = Napi::Array::New(env, 4);
  out.Set(0u, fdLinks);
  out.Set(1u, nsLinks);
  out.Set(2u, Latin1(env, status));
  out.Set(3u, Napi::Buffer<char>::Copy(env, cmdline.data(), cmdline.size()));
  return out;
}

}  // namespace

void InitList(Napi::Env env, Napi::Object exports) {
  exports.Set("readlink", Napi::Function::New(env, Readlink, "readlink"));
  exports.Set("proc_scan", Napi::Function::New(env, ProcScan, "proc_scan"));
}

}  // namespace nsfd
