// pidfd syscalls and ioctls: pidfd_open, pidfd_send_signal, pidfd_getfd,
// PIDFD_GET_*_NAMESPACE, PIDFD_GET_INFO, waitid(P_PIDFD).
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "uapi.h"
#include "util.h"

namespace nsfd {
namespace {

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

Napi::Value PidfdOpen(const Napi::CallbackInfo& info) {
  NSFD_INT(0, pid);
  NSFD_INT(1, flags);
  return Num(info, Ret(syscall(kSysPidfdOpen, static_cast<pid_t>(pid), static_cast<unsigned>(flags))));
}

Napi::Value PidfdSendSignal(const Napi::CallbackInfo& info) {
  NSFD_INT(0, fd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  NSFD_INT(1, sig);
  NSFD_INT(2, flags);
  return Num(info, Ret(syscall(kSysPidfdSendSignal, static_cast<int>(fd), static_cast<int>(sig),
                               nullptr, static_cast<unsigned>(flags))));
}

Napi::Value PidfdGetfd(const Napi::CallbackInfo& info) {
  NSFD_INT(0, fd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  NSFD_INT(1, target);
  if (BadFd(info, 1)) return Num(info, -EBADF);
  NSFD_INT(2, flags);
  return Num(info, Ret(syscall(kSysPidfdGetfd, static_cast<int>(fd), static_cast<int>(target),
                               static_cast<unsigned>(flags))));
}

// ioctl(pidfd, PIDFD_GET_<nr>_NAMESPACE, 0): the explicit 0 matters
// (systemd#39279: garbage in the third argument gives EINVAL at random).
Napi::Value PidfdGetNamespace(const Napi::CallbackInfo& info) {
  NSFD_INT(0, fd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  NSFD_INT(1, nr);
  if (nr < 1 || nr > 10) return Num(info, -EINVAL);
  unsigned long req = _IO(kPidfsIoctlMagic, static_cast<unsigned>(nr));
  return Num(info, Ret(ioctl(static_cast<int>(fd), req, 0UL)));
}

// PIDFD_GET_INFO with the VER0 (64-byte) struct; an object, or -errno.
Napi::Value PidfdGetInfo(const Napi::CallbackInfo& info) {
  NSFD_INT(0, fd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  NSFD_U64(1, mask);
  PidfdInfo pi;
  std::memset(&pi, 0, sizeof pi);
  pi.mask = mask;
  if (ioctl(static_cast<int>(fd), kPidfdGetInfo, &pi) < 0) return Num(info, -errno);
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("mask", Napi::BigInt::New(env, pi.mask));
  o.Set("cgroupid", Napi::BigInt::New(env, pi.cgroupid));
  o.Set("pid", pi.pid);
  o.Set("tgid", pi.tgid);
  o.Set("ppid", pi.ppid);
  o.Set("ruid", pi.ruid);
  o.Set("rgid", pi.rgid);
  o.Set("euid", pi.euid);
  o.Set("egid", pi.egid);
  o.Set("suid", pi.suid);
  o.Set("sgid", pi.sgid);
  o.Set("fsuid", pi.fsuid);
  o.Set("fsgid", pi.fsgid);
  o.Set("exitCode", pi.exit_code);
  return o;
}

// waitid(P_PIDFD, fd, WEXITED|WNOHANG|extra): {pid, code, status}, where
// pid 0 means "not yet"; or -errno (ECHILD: not our child).
Napi::Value WaitidPidfd(const Napi::CallbackInfo& info) {
  NSFD_INT(0, fd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  NSFD_INT(1, options);
  siginfo_t si;
  std::memset(&si, 0, sizeof si);
  long r = syscall(kSysWaitid, P_PIDFD, static_cast<int>(fd), &si, static_cast<int>(options), nullptr);
  if (r < 0) return Num(info, -errno);
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("pid", si.si_pid);
  o.Set("code", si.si_code);
  o.Set("status", si.si_status);
  return o;
}

}  // namespace

void InitPidfd(Napi::Env env, Napi::Object exports) {
  exports.Set("pidfd_open", Napi::Function::New(env, PidfdOpen, "pidfd_open"));
  exports.Set("pidfd_send_signal", Napi::Function::New(env, PidfdSendSignal, "pidfd_send_signal"));
  exports.Set("pidfd_getfd", Napi::Function::New(env, PidfdGetfd, "pidfd_getfd"));
  exports.Set("pidfd_get_namespace", Napi::Function::New(env, PidfdGetNamespace, "pidfd_get_namespace"));
  exports.Set("pidfd_get_info", Napi::Function::New(env, PidfdGetInfo, "pidfd_get_info"));
  exports.Set("waitid_pidfd", Napi::Function::New(env, WaitidPidfd, "waitid_pidfd"));
}

}  // namespace nsfd
