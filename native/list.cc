// Namespace discovery helpers: the network namespace a socket belongs to
// (SIOCGSKNS), and readlink for the /proc walk.
#include <sys/ioctl.h>
#include <unistd.h>

#include <climits>
#include <string>

#include "uapi.h"
#include "util.h"

namespace nsfd {
namespace {

// ioctl(sockfd, SIOCGSKNS): a new O_CLOEXEC nsfs fd for the socket's
// network namespace, or -errno (ENOTTY/EINVAL: not a socket; EPERM: no
// CAP_NET_ADMIN over that namespace).
Napi::Value SockNetns(const Napi::CallbackInfo& info) {
  NSFD_INT(0, fd);
  return Num(info, Ret(ioctl(static_cast<int>(fd), kSiocgskns)));
}

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

}  // namespace

void InitList(Napi::Env env, Napi::Object exports) {
  exports.Set("sock_netns", Napi::Function::New(env, SockNetns, "sock_netns"));
  exports.Set("readlink", Napi::Function::New(env, Readlink, "readlink"));
}

}  // namespace nsfd
