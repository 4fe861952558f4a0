// Probes and path syscalls: clone3 presence, openat2.
#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "uapi.h"
#include <string>

#include "util.h"

namespace nsfd {
namespace {

// clone3(NULL, 0): EINVAL where clone3 exists (size < 64), ENOSYS where not.
Napi::Value Clone3Probe(const Napi::CallbackInfo& info) {
  return Num(info, Ret(syscall(kSysClone3, nullptr, 0)));
}

// openat2(dirfd, path, {flags|O_CLOEXEC, mode, resolve})
Napi::Value Openat2(const Napi::CallbackInfo& info) {
  NSFD_INT(0, dirfd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  NSFD_STR(1, path);
  if (HasNul(path)) return Num(info, -EINVAL);
  NSFD_INT(2, flags);
  NSFD_INT(3, mode);
  NSFD_INT(4, resolve);
  OpenHow how;
  std::memset(&how, 0, sizeof how);
  how.flags = static_cast<uint64_t>(flags) | O_CLOEXEC;
  how.mode = static_cast<uint64_t>(mode);
  how.resolve = static_cast<uint64_t>(resolve);
  return Num(info, Ret(syscall(kSysOpenat2, static_cast<int>(dirfd), path.c_str(), &how, sizeof how)));
}

}  // namespace

void InitProbe(Napi::Env env, Napi::Object exports) {
  exports.Set("clone3_probe", Napi::Function::New(env, Clone3Probe, "clone3_probe"));
  exports.Set("openat2", Napi::Function::New(env, Openat2, "openat2"));
}

}  // namespace nsfd
