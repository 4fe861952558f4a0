// Plain fd syscalls: close, dup, flags, fstat, fstatfs, open, flock.
#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <mutex>
#include <string>
#include <unordered_set>

#include "util.h"

namespace nsfd {
namespace {

Napi::Value Close(const Napi::CallbackInfo& info) {
  NSFD_INT(0, fd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  // Never retried: after EINTR the fd is gone and its number may be reused.
  return Num(info, Ret(close(static_cast<int>(fd))));
}

Napi::Value DupCloexec(const Napi::CallbackInfo& info) {
  NSFD_INT(0, fd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  return Num(info, Ret(fcntl(static_cast<int>(fd), F_DUPFD_CLOEXEC, 3)));
}

Napi::Value GetFdFlags(const Napi::CallbackInfo& info) {
  NSFD_INT(0, fd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  return Num(info, Ret(fcntl(static_cast<int>(fd), F_GETFD)));
}

Napi::Value GetFlFlags(const Napi::CallbackInfo& info) {
  NSFD_INT(0, fd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  return Num(info, Ret(fcntl(static_cast<int>(fd), F_GETFL)));
}

// fcntl(fd, F_SETFL, flags): 0 or -errno. (The kernel changes only
// O_APPEND, O_ASYNC, O_DIRECT, O_NOATIME and O_NONBLOCK.)
Napi::Value SetFlFlags(const Napi::CallbackInfo& info) {
  NSFD_INT(0, fd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  NSFD_INT(1, flags);
  return Num(info, Ret(fcntl(static_cast<int>(fd), F_SETFL, static_cast<int>(flags))));
}

// [dev, ino, mode] as bigints/number, or -errno.
Napi::Value Fstat(const Napi::CallbackInfo& info) {
  NSFD_INT(0, fd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  struct stat st;
  if (fstat(static_cast<int>(fd), &st) < 0) return Num(info, -errno);
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env, 3);
  out.Set(0u, Napi::BigInt::New(env, static_cast<uint64_t>(st.st_dev)));
  out.Set(1u, Napi::BigInt::New(env, static_cast<uint64_t>(st.st_ino)));
  out.Set(2u, Napi::Number::New(env, st.st_mode));
  return out;
}

// f_type of the filesystem behind fd, or -errno.
Napi::Value FstatfsType(const Napi::CallbackInfo& info) {
  NSFD_INT(0, fd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  struct statfs sf;
  if (fstatfs(static_cast<int>(fd), &sf) < 0) return Num(info, -errno);
  return Num(info, static_cast<long>(static_cast<unsigned long>(sf.f_type)));
}

// openat(dirfd, path, flags | O_CLOEXEC, mode)
Napi::Value Openat(const Napi::CallbackInfo& info) {
  NSFD_INT(0, dirfd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  NSFD_STR(1, path);
  if (HasNul(path)) return Num(info, -EINVAL);
  NSFD_INT(2, flags);
  NSFD_INT(3, mode);
  return Num(info, Ret(openat(static_cast<int>(dirfd), path.c_str(),
                              static_cast<int>(flags) | O_CLOEXEC, static_cast<mode_t>(mode))));
}

// poll(fd, POLLIN, 0): revents, or -errno. A pidfd is readable once the
// process (the whole thread group) has exited.
Napi::Value PollIn(const Napi::CallbackInfo& info) {
  NSFD_INT(0, fd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  struct pollfd p = {static_cast<int>(fd), POLLIN, 0};
  int r = poll(&p, 1, 0);
  if (r < 0) return Num(info, -errno);
  return Num(info, p.revents);
}

// flock(fd, op): 0 or -errno (EWOULDBLOCK with LOCK_NB when held elsewhere).
Napi::Value Flock(const Napi::CallbackInfo& info) {
  NSFD_INT(0, fd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  NSFD_INT(1, op);
  if (op < 0 || op > INT32_MAX) return Num(info, -EINVAL);
  return Num(info, Ret(flock(static_cast<int>(fd), static_cast<int>(op))));
}

// death_pipe(): the read end of this process's death pipe, made on first
// call (O_CLOEXEC both ends) and never closed, or -errno. The write end is
// held here, by no one else, until the process dies: every reader (each
// container's init, -d FD) then sees EOF, however the process ended. One
// pipe for the whole process, not per Worker (each has its own JS module
// state): a Worker's exit must not look like ours.
std::once_flag g_death_once;
int g_death_read = -ENOENT;
Napi::Value DeathPipe(const Napi::CallbackInfo& info) {
  std::call_once(g_death_once, [] {
    int fds[2];
    g_death_read = pipe2(fds, O_CLOEXEC) < 0 ? -errno : fds[0];
  });
  return Num(info, g_death_read);
}

// The fds this env's OwnedFds hold (lib/core/owned-fd.ts), closed when
// the env is torn down: at a Worker's end no finalizer runs, and its
// handles' fds would stay open in the process for good.
struct OwnedFds {
  std::unordered_set<int> fds;
};
OwnedFds* Owned(const Napi::CallbackInfo& info) { return static_cast<OwnedFds*>(info.Data()); }

// fd_own(fd): an OwnedFd now holds fd. 0, or -EBADF for a number no fd can have.
Napi::Value FdOwn(const Napi::CallbackInfo& info) {
  NSFD_INT(0, fd);
  if (BadFd(info, 0) || fd < 0) return Num(info, -EBADF);
  Owned(info)->fds.insert(static_cast<int>(fd));
  return Num(info, 0);
}

// fd_disown(fd): no OwnedFd holds fd any more (released to the caller). 0.
Napi::Value FdDisown(const Napi::CallbackInfo& info) {
  NSFD_INT(0, fd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  Owned(info)->fds.erase(static_cast<int>(fd));
  return Num(info, 0);
}

// fd_close_owned(fd): disowns and closes fd: 0 or -errno (never retried).
Napi::Value FdCloseOwned(const Napi::CallbackInfo& info) {
  NSFD_INT(0, fd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  Owned(info)->fds.erase(static_cast<int>(fd));
  return Num(info, Ret(close(static_cast<int>(fd))));
}

}  // namespace

void InitFd(Napi::Env env, Napi::Object exports) {
  auto* owned = new OwnedFds();
  env.AddCleanupHook([owned] {
    for (int fd : owned->fds) close(fd);
    delete owned;
  });
  exports.Set("fd_own", Napi::Function::New(env, FdOwn, "fd_own", owned));
  exports.Set("fd_disown", Napi::Function::New(env, FdDisown, "fd_disown", owned));
  exports.Set("fd_close_owned", Napi::Function::New(env, FdCloseOwned, "fd_close_owned", owned));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("death_pipe", Napi::Function::New(env, DeathPipe, "death_pipe"));
  exports.Set("dup_cloexec", Napi::Function::New(env, DupCloexec, "dup_cloexec"));
  exports.Set("fcntl_getfd", Napi::Function::New(env, GetFdFlags, "fcntl_getfd"));
  exports.Set("fcntl_getfl", Napi::Function::New(env, GetFlFlags, "fcntl_getfl"));
  exports.Set("fcntl_setfl", Napi::Function::New(env, SetFlFlags, "fcntl_setfl"));
  exports.Set("fstat", Napi::Function::New(env, Fstat, "fstat"));
  exports.Set("fstatfs_type", Napi::Function::New(env, FstatfsType, "fstatfs_type"));
  exports.Set("flock", Napi::Function::New(env, Flock, "flock"));
  exports.Set("poll_in", Napi::Function::New(env, PollIn, "poll_in"));
  exports.Set("openat", Napi::Function::New(env, Openat, "openat"));
}

}  // namespace nsfd
