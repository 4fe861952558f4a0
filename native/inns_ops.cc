// The in-namespace operations and the far side of both vehicles: the
// thread's body after its setns, and the helper child (see native/inns.cc
// for the vehicles, native/inns.h for the wire).
//
// Everything here may run in the helper child, which shares our memory
// between clone and exit: async-signal-safe only. Raw syscalls and plain
// memory, no malloc, no locks, no glibc wrappers that take locks
// (setresuid goes through syscall(2), as glibc's setresuid would signal
// every thread of ours).
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "inns.h"
#include "openat2.h"
#include "uapi.h"

namespace nsfd::inns {
namespace {

inline long Sys(long r) { return r < 0 ? -errno : r; }

// The root the op resolves under: the given fd, or an O_PATH fd of "/"
// (after a mount-ns join, "/" is that namespace's root). *owned says
// whether the caller must close it.
long RootFd(Job* j, int64_t given, bool* owned) {
  *owned = false;
  if (given >= 0) return given;
  long r = Sys(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (r < 0) {
    SetFail(j, kStepOpenRoot, r);
    return r;
  }
  *owned = true;
  return r;
}

void OpSocket(Job* j) {
  namespace a = slot::socket;
  int domain = static_cast<int>(j->i[a::domain]);
  int type = static_cast<int>(j->i[a::type]);
  int proto = static_cast<int>(j->i[a::protocol]);
  int bits = static_cast<int>(j->i[a::sockopt]);
  long fd = Sys(socket(domain, type | SOCK_CLOEXEC, proto));
  if (fd < 0) return SetFail(j, kStepSocket, fd);
  int one = 1, zero = 0;
  long r = 0;
  if ((bits & kSockReuseAddr) && r >= 0) r = Sys(setsockopt(static_cast<int>(fd), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
  if ((bits & kSockV6Only) && r >= 0) r = Sys(setsockopt(static_cast<int>(fd), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one));
  if ((bits & kSockV6Dual) && r >= 0) r = Sys(setsockopt(static_cast<int>(fd), IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero));
  if ((bits & kSockReusePort) && r >= 0) r = Sys(setsockopt(static_cast<int>(fd), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one));
  if (r < 0) {
    close(static_cast<int>(fd));
    return SetFail(j, kStepSetsockopt, r);
  }
  if (j->buflen > 0) {
    r = Sys(bind(static_cast<int>(fd), static_cast<const sockaddr*>(j->buf), static_cast<socklen_t>(j->buflen)));
    if (r < 0) {
      close(static_cast<int>(fd));
      return SetFail(j, kStepBind, r);
    }
  }
  j->result = fd;
}

void OpOpen(Job* j) {
  bool owned;
  namespace a = slot::open;
  long root = RootFd(j, j->i[a::root], &owned);
  if (root < 0) return;
  long r = Openat2(static_cast<int>(root), j->s[a::path], static_cast<uint64_t>(j->i[a::flags]),
                   static_cast<uint64_t>(j->i[a::mode]), static_cast<uint64_t>(j->i[a::resolve]));
  if (owned) close(static_cast<int>(root));
  if (r < 0) return SetFail(j, kStepOpenat2, r);
  j->result = r;
}

// mkdir of the path (absolute, normalized: "/a/b/c", no "." or ".." parts)
// under the root. Each parent is resolved from the root with the resolve
// flags, and the last component is created with mkdirat(parentfd, name),
// which never follows a symlink there. Recursive: every missing component.
void OpMkdir(Job* j) {
  bool owned;
  namespace a = slot::mkdir;
  long root = RootFd(j, j->i[a::root], &owned);
  if (root < 0) return;
  mode_t mode = static_cast<mode_t>(j->i[a::mode]);
  uint64_t resolve = static_cast<uint64_t>(j->i[a::resolve]);
  bool recursive = j->i[a::recursive] != 0;
  char* path = j->s[a::path];
  size_t len = std::strlen(path);
  long result = -EEXIST;
  int step = kStepMkdirat;
  // Walk component ends: for each '/' after a component (and the end).
  for (size_t end = 1; end <= len; end++) {
    if (end < len && path[end] != '/') continue;
    if (!recursive && end < len) continue;
    // split: parent = path[0..start), name = path[start..end)
    size_t start = end;
    while (start > 0 && path[start - 1] != '/') start--;
    char saved_sep = path[start - 1];
    char saved_end = path[end];
    path[end] = '\0';
    long parent;
    if (start <= 1) {
      parent = Sys(fcntl(static_cast<int>(root), F_DUPFD_CLOEXEC, 3));
    } else {
      path[start - 1] = '\0';
      parent = Openat2(static_cast<int>(root), path, O_PATH | O_DIRECTORY, 0, resolve);
      path[start - 1] = saved_sep;
    }
    if (parent < 0) {
      path[end] = saved_end;
      result = parent;
      step = kStepOpenat2;
      break;
    }
    long r = Sys(mkdirat(static_cast<int>(parent), path + start, mode));
    step = kStepMkdirat;
    if (r == -EEXIST && recursive) {
      // Fine if it is a directory (or a symlink resolving to one inside the root).
      long d = Openat2(static_cast<int>(root), path, O_PATH | O_DIRECTORY, 0, resolve);
      if (d >= 0) {
        close(static_cast<int>(d));
        r = 0;
      } else if (d != -ENOTDIR) {
        r = d;
        step = kStepOpenat2;
      } else if (end < len) {
        r = -ENOTDIR;  // a non-directory in the middle of the path, as mkdir -p says
        step = kStepOpenat2;
      }
    }
    close(static_cast<int>(parent));
    path[end] = saved_end;
    if (r < 0) {
      result = r;
      break;
    }
    result = 0;
  }
  if (owned) close(static_cast<int>(root));
  if (result < 0) return SetFail(j, step, result);
  j->result = 0;
}

// Reads the fs_context log of an fsopen fd (messages like "e tmpfs: Bad
// value for 'mode'") into j->msg.
void ReadFsLog(Job* j, int fsfd) {
  size_t used = 0;
  for (int k = 0; k < 4; k++) {
    char line[256];
    ssize_t n = read(fsfd, line, sizeof line - 1);
    if (n <= 0) break;
    for (ssize_t q = 0; q < n && used + 2 < sizeof j->msg; q++) j->msg[used++] = line[q];
    if (used + 2 < sizeof j->msg) j->msg[used++] = '\n';
  }
  j->msg[used] = '\0';
}

long ResolveTarget(Job* j, int64_t rootgiven, const char* target, uint64_t resolve) {
  bool owned;
  long root = RootFd(j, rootgiven, &owned);
  if (root < 0) return root;
  long t = Openat2(static_cast<int>(root), target, O_PATH, 0, resolve);
  if (owned) close(static_cast<int>(root));
  if (t < 0) SetFail(j, kStepOpenat2, t);
  return t;
}

void OpFsmount(Job* j) {
  namespace a = slot::fsmount;
  if (j->nstr < a::kStrs) return SetFail(j, kStepBadOp, -EINVAL);
  long tfd = ResolveTarget(j, j->i[a::root], j->s[a::target], static_cast<uint64_t>(j->i[a::resolve]));
  if (tfd < 0) return;
  long fsfd = Sys(syscall(kSysFsopen, j->s[a::fstype], kFsopenCloexec));
  if (fsfd < 0) {
    close(static_cast<int>(tfd));
    return SetFail(j, kStepFsopen, fsfd);
  }
  long r = 0;
  // The options: every string after the named ones.
  for (int k = a::kStrs; k < j->nstr && r >= 0; k++) {
    char* kv = j->s[k];
    char* eq = std::strchr(kv, '=');
    if (eq == nullptr) {
      r = Sys(syscall(kSysFsconfig, fsfd, kFsconfigSetFlag, kv, nullptr, 0));
    } else {
      *eq = '\0';
      r = Sys(syscall(kSysFsconfig, fsfd, kFsconfigSetString, kv, eq + 1, 0));
      *eq = '=';
    }
    if (r < 0) {
      ReadFsLog(j, static_cast<int>(fsfd));
      SetFail(j, kStepFsconfig, r, k - a::kStrs);
    }
  }
  if (r >= 0) {
    r = Sys(syscall(kSysFsconfig, fsfd, kFsconfigCmdCreate, nullptr, nullptr, 0));
    if (r < 0) {
      ReadFsLog(j, static_cast<int>(fsfd));
      SetFail(j, kStepFsconfig, r, -1);
    }
  }
  long mfd = -1;
  if (r >= 0) {
    mfd = Sys(syscall(kSysFsmount, fsfd, kFsmountCloexec, static_cast<unsigned>(j->i[a::attrs])));
    if (mfd < 0) {
      ReadFsLog(j, static_cast<int>(fsfd));
      SetFail(j, kStepFsmount, mfd);
      r = mfd;
    }
  }
  close(static_cast<int>(fsfd));
  if (r >= 0) {
    r = Sys(syscall(kSysMoveMount, mfd, "", tfd, "", kMoveMountFEmptyPath | kMoveMountTEmptyPath));
    if (r < 0) SetFail(j, kStepMoveMount, r);
  }
  if (mfd >= 0) close(static_cast<int>(mfd));
  close(static_cast<int>(tfd));
  if (r >= 0) j->result = 0;
}

void OpMoveMount(Job* j) {
  namespace a = slot::moveMount;
  long tfd = ResolveTarget(j, j->i[a::root], j->s[a::target], static_cast<uint64_t>(j->i[a::resolve]));
  if (tfd < 0) return;
  long r = Sys(syscall(kSysMoveMount, static_cast<int>(j->i[a::tree]), "", tfd, "", kMoveMountFEmptyPath | kMoveMountTEmptyPath));
  close(static_cast<int>(tfd));
  if (r < 0) return SetFail(j, kStepMoveMount, r);
  j->result = 0;
}

}  // namespace

void RunOp(Job* j) {
  switch (j->op) {
    case kOpSocket:
      return OpSocket(j);
    case kOpOpen:
      return OpOpen(j);
    case kOpMkdir:
      return OpMkdir(j);
    case kOpSethostname: {
      const char* name = j->s[slot::sethostname::name];
      long r = Sys(sethostname(name, std::strlen(name)));
      if (r < 0) return SetFail(j, kStepSethostname, r);
      j->result = 0;
      return;
    }
    case kOpSetdomainname: {
      const char* name = j->s[slot::setdomainname::name];
      long r = Sys(setdomainname(name, std::strlen(name)));
      if (r < 0) return SetFail(j, kStepSetdomainname, r);
      j->result = 0;
      return;
    }
    case kOpFsmount:
      return OpFsmount(j);
    case kOpMoveMount:
      return OpMoveMount(j);
    case kOpMakePrivate: {
      long r = Sys(mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr));
      if (r < 0) return SetFail(j, kStepMount, r);
      j->result = 0;
      return;
    }
    default:
      return SetFail(j, kStepBadOp, -EINVAL);
  }
}

// ---- the thread vehicle ---------------------------------------------------

void* ThreadMain(void* arg) {
  ThreadJob* t = static_cast<ThreadJob*>(arg);
  long r = t->fd < 0 ? 0 : Sys(syscall(kSysSetns, t->fd, t->nstype));
  if (r < 0) {
    SetFail(t->job, kStepSetns, r);
    return nullptr;
  }
  RunOp(t->job);
  return nullptr;
}

// ---- the helper-child vehicle ---------------------------------------------

static int Grandchild(void* arg) {
  RunOp(static_cast<Job*>(arg));
  return 0;
}

int Child(void* arg) {
  Job* j = static_cast<Job*>(arg);
  bool joins_user = false;
  for (int k = 0; k < j->njoins; k++) {
    if (j->join_type[k] & static_cast<int>(kCloneNewuser)) joins_user = true;
  }
  bool become = (j->flags & kHelperBecomeRoot) && joins_user;
  bool require = become && (j->flags & kHelperRequireRoot);
  // Supplementary groups are not mapped into the joined namespace: drop
  // them (host root's group 0 would otherwise still open root-group
  // files). Before the joins, where we may (a privileged caller), else
  // once inside, where the namespace allows setgroups. Raw syscalls
  // throughout: these change only this process (glibc's wrappers would
  // signal every thread of ours).
  long groups = become ? Sys(syscall(SYS_setgroups, 0, nullptr)) : 0;
  for (int k = 0; k < j->njoins; k++) {
    long r = Sys(syscall(kSysSetns, j->join_fd[k], j->join_type[k]));
    if (r < 0) {
      SetFail(j, kStepSetns, r, k);
      return 0;
    }
  }
  if (become) {
    // Act as the namespace's root where our uid maps to it or 0 is mapped;
    // EINVAL (0 not mapped) leaves the ids as they are, like systemd's
    // reset_uid_gid(), unless the caller requires root (its own ids, host
    // root's, must not be used in there).
    if (groups < 0) groups = Sys(syscall(SYS_setgroups, 0, nullptr));
    long g = Sys(syscall(SYS_setresgid, 0, 0, 0));
    long u = Sys(syscall(SYS_setresuid, 0, 0, 0));
    if (require && (groups < 0 || g < 0 || u < 0)) {
      if (groups < 0) SetFail(j, kStepSetgroups, groups);
      else if (g < 0) SetFail(j, kStepSetresgid, g);
      else SetFail(j, kStepSetresuid, u);
      return 0;
    }
  }
  if (j->flags & kHelperIntoPidns) {
    long pid = Sys(clone(Grandchild, j->stack2, CLONE_VM | CLONE_VFORK | CLONE_FILES, j));
    if (pid < 0) {
      SetFail(j, kStepClone, pid);
      return 0;
    }
    int st = 0;
    long w;
    do {
      w = Sys(waitpid(static_cast<pid_t>(pid), &st, __WALL));
    } while (w == -EINTR);
    return 0;
  }
  RunOp(j);
  return 0;
}

}  // namespace nsfd::inns
