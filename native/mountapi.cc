// The new mount API (fsopen, fsconfig, fsmount, move_mount): plain
// wrappers, one per syscall. lib/core/procfs.ts builds a private procfs from them when /proc
// is not provably this pid namespace's.
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "uapi.h"
#include "util.h"

namespace nsfd {
namespace {

// fsopen(fstype, flags): a filesystem context fd, or -errno. FSOPEN_CLOEXEC
// is always added.
Napi::Value Fsopen(const Napi::CallbackInfo& info) {
  NSFD_STR(0, fstype);
  if (HasNul(fstype)) return Num(info, -EINVAL);
  NSFD_INT(1, flags);
  if (flags < 0 || flags > UINT32_MAX) return Num(info, -EINVAL);
  return Num(info, Ret(syscall(kSysFsopen, fstype.c_str(), static_cast<unsigned>(flags) | kFsopenCloexec)));
}

// fsconfig(fd, cmd, key, value, aux): 0 or -errno. key and value may be
// null (FSCONFIG_CMD_CREATE takes neither).
Napi::Value Fsconfig(const Napi::CallbackInfo& info) {
  NSFD_INT(0, fd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  NSFD_INT(1, cmd);
  if (cmd < 0 || cmd > UINT32_MAX) return Num(info, -EINVAL);
  std::string key, value;
  bool has_key = !info[2].IsNull() && !info[2].IsUndefined();
  bool has_value = !info[3].IsNull() && !info[3].IsUndefined();
  if (has_key && !ArgString(info, 2, &key)) return info.Env().Undefined();
  if (has_value && !ArgString(info, 3, &value)) return info.Env().Undefined();
  if (HasNul(key) || HasNul(value)) return Num(info, -EINVAL);
  NSFD_INT(4, aux);
  if (aux < INT32_MIN || aux > INT32_MAX) return Num(info, -EINVAL);
  return Num(info, Ret(syscall(kSysFsconfig, static_cast<int>(fd), static_cast<unsigned>(cmd), has_key ? key.c_str() : nullptr,
                               has_value ? value.c_str() : nullptr, static_cast<int>(aux))));
}

// fsmount(fd, flags, attrs): a detached mount's fd, or -errno.
// FSMOUNT_CLOEXEC is always added.
Napi::Value Fsmount(const Napi::CallbackInfo& info) {
  NSFD_INT(0, fd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  NSFD_INT(1, flags);
  NSFD_INT(2, attrs);
  if (flags < 0 || flags > UINT32_MAX || attrs < 0 || attrs > UINT32_MAX) return Num(info, -EINVAL);
  return Num(info, Ret(syscall(kSysFsmount, static_cast<int>(fd), static_cast<unsigned>(flags) | kFsmountCloexec,
                               static_cast<unsigned>(attrs))));
}

// move_mount(from_dirfd, from_path, to_dirfd, to_path, flags): 0 or -errno.
Napi::Value MoveMount(const Napi::CallbackInfo& info) {
  NSFD_INT(0, from_dirfd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  NSFD_STR(1, from_path);
  NSFD_INT(2, to_dirfd);
  if (BadFd(info, 2)) return Num(info, -EBADF);
  NSFD_STR(3, to_path);
  if (HasNul(from_path) || HasNul(to_path)) return Num(info, -EINVAL);
  NSFD_INT(4, flags);
  if (flags < 0 || flags > UINT32_MAX) return Num(info, -EINVAL);
  return Num(info, Ret(syscall(kSysMoveMount, static_cast<int>(from_dirfd), from_path.c_str(), static_cast<int>(to_dirfd),
                               to_path.c_str(), static_cast<unsigned>(flags))));
}

}  // namespace

void InitMountApi(Napi::Env env, Napi::Object exports) {
  exports.Set("fsopen", Napi::Function::New(env, Fsopen, "fsopen"));
  exports.Set("fsconfig", Napi::Function::New(env, Fsconfig, "fsconfig"));
  exports.Set("fsmount", Napi::Function::New(env, Fsmount, "fsmount"));
  exports.Set("move_mount", Napi::Function::New(env, MoveMount, "move_mount"));
}

}  // namespace nsfd
