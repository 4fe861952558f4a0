// setns/unshare on the calling thread, and the mounts that persist a
// namespace (bind mount of an nsfs fd; umount).
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <string>

#include "uapi.h"
#include "util.h"

namespace nsfd {
namespace {

Napi::Value Setns(const Napi::CallbackInfo& info) {
  NSFD_INT(0, fd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  NSFD_INT(1, nstype);
  return Num(info, Ret(syscall(kSysSetns, static_cast<int>(fd), static_cast<int>(nstype))));
}

Napi::Value Gettid(const Napi::CallbackInfo& info) {
  return Num(info, static_cast<long>(syscall(SYS_gettid)));
}

Napi::Value Umount2(const Napi::CallbackInfo& info) {
  NSFD_STR(0, target);
  if (HasNul(target)) return Num(info, -EINVAL);
  NSFD_INT(1, flags);
  return Num(info, Ret(umount2(target.c_str(), static_cast<int>(flags))));
}

}  // namespace

void InitSetns(Napi::Env env, Napi::Object exports) {
  exports.Set("setns", Napi::Function::New(env, Setns, "setns"));
  exports.Set("gettid", Napi::Function::New(env, Gettid, "gettid"));
  exports.Set("umount2", Napi::Function::New(env, Umount2, "umount2"));
}

}  // namespace nsfd
