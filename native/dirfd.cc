// Reads relative to a directory fd (readlinkat, a whole directory's names):
// what lib/core/procfs.ts needs to read a procfs it holds by fd, where a
// path through /proc could land in another procfs.
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <string>

#include "util.h"

namespace nsfd {
namespace {

// readlinkat(dirfd, path): the target as a string, or -errno.
Napi::Value Readlinkat(const Napi::CallbackInfo& info) {
  NSFD_INT(0, dirfd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  NSFD_STR(1, path);
  if (HasNul(path)) return Num(info, -EINVAL);
  char buf[PATH_MAX];
  ssize_t n = readlinkat(static_cast<int>(dirfd), path.c_str(), buf, sizeof buf);
  if (n < 0) return Num(info, -errno);
  return Napi::String::New(info.Env(), buf, static_cast<size_t>(n));
}

// readdirat(dirfd, path): the names in the directory (without "." and
// ".."), or -errno. Opens path relative to dirfd (O_DIRECTORY, O_CLOEXEC).
Napi::Value Readdirat(const Napi::CallbackInfo& info) {
  NSFD_INT(0, dirfd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  NSFD_STR(1, path);
  if (HasNul(path)) return Num(info, -EINVAL);
  int fd = openat(static_cast<int>(dirfd), path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Num(info, -errno);
  DIR* d = fdopendir(fd);
  if (d == nullptr) {
    int e = errno;
    close(fd);
    return Num(info, -e);
  }
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  for (;;) {
    errno = 0;
    struct dirent* e = readdir(d);
    if (e == nullptr) break;
    if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || (e->d_name[1] == '.' && e->d_name[2] == '\0'))) continue;
    out.Set(n++, Napi::String::New(env, e->d_name));
  }
  int err = errno;
  closedir(d);
  if (err != 0) return Num(info, -err);
  return out;
}

// One fd for the whole process, shared by every Worker's copy of the
// library (each has its own JS module state): fd_slot(fd) keeps fd if the
// slot is empty and returns what the slot holds (the caller closes its own
// fd when another won); fd_slot(-1) only reads it (-1: empty).
std::atomic<int> g_slot{-1};
Napi::Value FdSlot(const Napi::CallbackInfo& info) {
  NSFD_INT(0, fd);
  if (fd < -1 || BadFd(info, 0)) return Num(info, -EBADF);
  if (fd == -1) return Num(info, g_slot.load());
  int expected = -1;
  g_slot.compare_exchange_strong(expected, static_cast<int>(fd));
  return Num(info, g_slot.load());
}

}  // namespace

void InitDirfd(Napi::Env env, Napi::Object exports) {
  exports.Set("readlinkat", Napi::Function::New(env, Readlinkat, "readlinkat"));
  exports.Set("readdirat", Napi::Function::New(env, Readdirat, "readdirat"));
  exports.Set("fd_slot", Napi::Function::New(env, FdSlot, "fd_slot"));
}

}  // namespace nsfd
