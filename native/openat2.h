// openat2(2) as the package uses it, for code that resolves paths a
// target or /proc controls: O_CLOEXEC always, and O_NOCTTY (a path the
// target points at a tty must never become the controlling terminal of a
// session-leading caller; openat2 refuses O_NOCTTY beside O_PATH, which
// never acquires a terminal anyway). The kernel's EAGAIN (a rename or mount
// raced a ".." lookup under RESOLVE_IN_ROOT/BENEATH) is retried a bounded
// number of times. Async-signal-safe: the helper child uses it.
#pragma once

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "uapi.h"

namespace nsfd {

// The fd, or -errno.
inline long Openat2(int dirfd, const char* path, uint64_t flags, uint64_t mode, uint64_t resolve) {
  constexpr int kMaxAgain = 64;
  OpenHow how;
  std::memset(&how, 0, sizeof how);
  how.flags = flags | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY);
  how.mode = mode;
  how.resolve = resolve;
  long r = -EAGAIN;
  for (int tries = 0; tries < kMaxAgain && r == -EAGAIN; tries++) {
    r = syscall(kSysOpenat2, dirfd, path, &how, sizeof how);
    if (r < 0) r = -errno;
  }
  return r;
}

}  // namespace nsfd
