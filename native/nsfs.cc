// nsfs ioctls and nsfs file handles.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "uapi.h"
#include "util.h"

namespace nsfd {
namespace {

// ioctls that return a new fd or a value in the return: NS_GET_USERNS,
// NS_GET_PARENT, NS_GET_NSTYPE.
Napi::Value NsIoctl(const Napi::CallbackInfo& info) {
  NSFD_INT(0, fd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  NSFD_INT(1, nr);
  unsigned long req;
  switch (nr) {
    case 1: req = kNsGetUserns; break;
    case 2: req = kNsGetParent; break;
    case 3: req = kNsGetNstype; break;
    default: return Num(info, -EINVAL);
  }
  return Num(info, Ret(ioctl(static_cast<int>(fd), req)));
}

Napi::Value NsGetOwnerUid(const Napi::CallbackInfo& info) {
  NSFD_INT(0, fd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  uid_t uid = 0;
  if (ioctl(static_cast<int>(fd), kNsGetOwnerUid, &uid) < 0) return Num(info, -errno);
  return Num(info, static_cast<long>(uid));
}

// NS_GET_ID (any type, 6.18) or NS_GET_MNTNS_ID (mnt, 6.11): a bigint, or -errno.
Napi::Value NsGetId(const Napi::CallbackInfo& info) {
  NSFD_INT(0, fd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  NSFD_INT(1, mntOnly);
  uint64_t id = 0;
  if (ioctl(static_cast<int>(fd), mntOnly ? kNsGetMntnsId : kNsGetId, &id) < 0) return Num(info, -errno);
  return Napi::BigInt::New(info.Env(), id);
}

// NS_GET_{PID,TGID}_{FROM,IN}_PIDNS: the pid is the argument's value and
// comes back as the return value (not through a pointer).
Napi::Value NsTranslate(const Napi::CallbackInfo& info) {
  NSFD_INT(0, fd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  NSFD_INT(1, nr);
  NSFD_INT(2, pid);
  unsigned long req;
  switch (nr) {
    case 6: req = kNsGetPidFromPidns; break;
    case 7: req = kNsGetTgidFromPidns; break;
    case 8: req = kNsGetPidInPidns; break;
    case 9: req = kNsGetTgidInPidns; break;
    default: return Num(info, -EINVAL);
  }
  return Num(info, Ret(ioctl(static_cast<int>(fd), req, static_cast<unsigned long>(pid))));
}

// A namespace fd from an nsfs ioctl on fd (NS_GET_USERNS, NS_GET_PARENT),
// O_CLOEXEC, and its inode in *ino; -errno (nothing left open) on failure.
int RelatedNs(int fd, unsigned long request, double* ino) {
  int r = ioctl(fd, request);
  if (r < 0) return -errno;
  struct stat st;
  if (fstat(r, &st) < 0) {
    int e = errno;
    close(r);
    return -e;
  }
  *ino = static_cast<double>(st.st_ino);
  return r;
}

// ns_describe(fd, nsfsDev): what the namespace walk records of one nsfs
// fd, in one crossing instead of one per ioctl:
//   [nstype, inode, id, ownerFd, ownerInode, ownerUid, parentFd, parentInode]
// nstype: NS_GET_NSTYPE's CLONE_NEW* flag. id: NS_GET_ID (NS_GET_MNTNS_ID
// for a mount namespace on kernels before 6.18) as a bigint, or -errno.
// ownerFd: NS_GET_USERNS's fd (O_CLOEXEC; the caller closes it) or -errno,
// with its inode. ownerUid: NS_GET_OWNER_UID of the namespace itself if a
// user namespace, else of its owner; -errno when unknown. parentFd and
// parentInode: NS_GET_PARENT for pid and user namespaces (-errno
// otherwise). -EINVAL when fd is not on nsfsDev (not an nsfs file: no
// nsfs ioctl is sent to it, as another driver could read the number as
// its own request), -errno when fstat or NS_GET_NSTYPE fails.
Napi::Value NsDescribe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  NSFD_INT(0, fd64);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  NSFD_INT(1, nsfsDev);
  int fd = static_cast<int>(fd64);
  struct stat st;
  if (fstat(fd, &st) < 0) return Num(info, -errno);
  if (static_cast<int64_t>(st.st_dev) != nsfsDev || nsfsDev <= 0) return Num(info, -EINVAL);
  int type = ioctl(fd, kNsGetNstype);
  if (type < 0) return Num(info, -errno);
  uint64_t id = 0;
  long idErr = 0;
  if (ioctl(fd, kNsGetId, &id) < 0) {
    idErr = -errno;
    if (type == static_cast<int>(kCloneNewns) && ioctl(fd, kNsGetMntnsId, &id) == 0) idErr = 0;
  }
  long ownerUid = -ENOENT;
  uid_t uid = 0;
  if (type == static_cast<int>(kCloneNewuser)) ownerUid = ioctl(fd, kNsGetOwnerUid, &uid) < 0 ? -errno : static_cast<long>(uid);
  double ownerIno = -1;
  int owner = RelatedNs(fd, kNsGetUserns, &ownerIno);
  if (owner >= 0 && type != static_cast<int>(kCloneNewuser)) ownerUid = ioctl(owner, kNsGetOwnerUid, &uid) < 0 ? -errno : static_cast<long>(uid);
  int parent = -EINVAL;
  double parentIno = -1;
  if (type == static_cast<int>(kCloneNewpid) || type == static_cast<int>(kCloneNewuser)) parent = RelatedNs(fd, kNsGetParent, &parentIno);
  Napi::Array out = Napi::Array::New(env, 8);
  out.Set(0u, Napi::Number::New(env, type));
  out.Set(1u, Napi::Number::New(env, static_cast<double>(st.st_ino)));
  out.Set(2u, idErr < 0 ? Napi::Value(Napi::Number::New(env, static_cast<double>(idErr))) : Napi::Value(Napi::BigInt::New(env, id)));
  out.Set(3u, Napi::Number::New(env, owner));
  out.Set(4u, Napi::Number::New(env, ownerIno));
  out.Set(5u, Napi::Number::New(env, static_cast<double>(ownerUid)));
  out.Set(6u, Napi::Number::New(env, parent));
  out.Set(7u, Napi::Number::New(env, parentIno));
  return out;
}

struct HandleBuf {
  unsigned int handle_bytes;
  int handle_type;
  unsigned char f_handle[64];
};

// name_to_handle_at(fd, "", AT_EMPTY_PATH): Buffer [type:i32][bytes...], or -errno.
Napi::Value NameToHandle(const Napi::CallbackInfo& info) {
  NSFD_INT(0, fd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  HandleBuf h;
  std::memset(&h, 0, sizeof h);
  h.handle_bytes = sizeof h.f_handle;
  int mount_id = 0;
  if (syscall(kSysNameToHandleAt, static_cast<int>(fd), "", &h, &mount_id, AT_EMPTY_PATH) < 0)
    return Num(info, -errno);
  Napi::Buffer<unsigned char> out = Napi::Buffer<unsigned char>::New(info.Env(), 4 + h.handle_bytes);
  std::memcpy(out.Data(), &h.handle_type, 4);
  std::memcpy(out.Data() + 4, h.f_handle, h.handle_bytes);
  return out;
}

// open_by_handle_at(FD_NSFS_ROOT, handle, O_RDONLY|O_CLOEXEC) from a Buffer
// made by NameToHandle.
Napi::Value OpenByHandle(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsBuffer()) return Fail(info, "nsfd native: expected a Buffer");
  Napi::Buffer<unsigned char> in = info[0].As<Napi::Buffer<unsigned char>>();
  if (in.Length() < 4 || in.Length() - 4 > 64) return Num(info, -EINVAL);
  HandleBuf h;
  std::memset(&h, 0, sizeof h);
  std::memcpy(&h.handle_type, in.Data(), 4);
  h.handle_bytes = static_cast<unsigned>(in.Length() - 4);
  std::memcpy(h.f_handle, in.Data() + 4, h.handle_bytes);
  return Num(info, Ret(syscall(kSysOpenByHandleAt, kFdNsfsRoot, &h, O_RDONLY | O_CLOEXEC)));
}

// listns(req, ids, n, 0) probe: returns count or -errno (ENOSYS before 6.19).
Napi::Value Listns(const Napi::CallbackInfo& info) {
  NSFD_U64(0, startId);
  NSFD_INT(1, type);
  NSFD_INT(2, max);
  if (max < 1 || max > 4096) return Num(info, -EINVAL);
  NsIdReq req;
  std::memset(&req, 0, sizeof req);
  req.size = sizeof req;
  req.ns_id = startId;
  req.ns_type = static_cast<uint32_t>(type);
  uint64_t ids[4096];
  long r = syscall(kSysListns, &req, ids, static_cast<size_t>(max), 0U);
  if (r < 0) return Num(info, -errno);
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env, static_cast<size_t>(r));
  for (long i = 0; i < r; i++) out.Set(static_cast<uint32_t>(i), Napi::BigInt::New(env, ids[i]));
  return out;
}

}  // namespace

void InitNsfs(Napi::Env env, Napi::Object exports) {
  exports.Set("ns_ioctl", Napi::Function::New(env, NsIoctl, "ns_ioctl"));
  exports.Set("ns_describe", Napi::Function::New(env, NsDescribe, "ns_describe"));
  exports.Set("ns_get_owner_uid", Napi::Function::New(env, NsGetOwnerUid, "ns_get_owner_uid"));
  exports.Set("ns_get_id", Napi::Function::New(env, NsGetId, "ns_get_id"));
  exports.Set("ns_translate", Napi::Function::New(env, NsTranslate, "ns_translate"));
  exports.Set("name_to_handle_at", Napi::Function::New(env, NameToHandle, "name_to_handle_at"));
  exports.Set("open_by_handle_at", Napi::Function::New(env, OpenByHandle, "open_by_handle_at"));
  exports.Set("listns", Napi::Function::New(env, Listns, "listns"));
}

}  // namespace nsfd
