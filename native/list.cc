// Namespace discovery helper: readlink for the /proc walk (SIOCGSKNS is
// socket_netns in inns.cc).
#include <sys/ioctl.h>
#include <unistd.h>

#include <climits>
#include <string>

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

}  // namespace

void InitList(Napi::Env env, Napi::Object exports) {
  exports.Set("readlink", Napi::Function::New(env, Readlink, "readlink"));
}

}  // namespace nsfd
