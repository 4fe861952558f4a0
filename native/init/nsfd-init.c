// nsfd-init: the init of a Container (pid 1 of its pid namespace), like
// catatonit or tini. Executed from the host by fd (execveat AT_EMPTY_PATH)
// in a rootfs that may hold nothing, so it is static, and it is built
// without libc (-nostdlib, raw system calls for x86_64 and aarch64): a few
// KB that map almost nothing, where a static glibc made exec cost ~1.7 ms.
//
//   nsfd-init [-r FD] [-d FD [-k FD] [-p PID]] [-- PROGRAM ARGS...]
//
// -r FD: a socket from nsfd: wait for one byte ("go": nsfd has read our
// namespaces and finished its set-up) before starting PROGRAM; EOF instead
// means nsfd gave up: exit 1. The fd is closed then: PROGRAM does not
// inherit it. Signals need no such handshake: nsfd starts this program
// with all of them blocked, so one sent early waits in the signalfd.
//
// -d FD: the read end of nsfd's death pipe. Node holds the only write end
// for its whole life, so the pipe hangs up exactly when Node is gone,
// however it died (SIGKILL included). Then this program kills the
// container: "1" into the cgroup.kill file given as -k FD (its own
// cgroup's, opened write-only by nsfd: no access to the cgroup's other
// files), and, as pid 1 of a pid namespace, by exiting (the kernel kills
// the rest); without either, its process group (it leads a session) as a
// best effort. A pipe rather than a pidfd of Node: nothing here can use a
// read end nobody writes to signal or block Node.
//
// With -d, the death signal spawn set (PR_SET_PDEATHSIG: SIGKILL, which
// would kill us before we act) becomes SIGRTMAX, taken from the signalfd:
// sent when the thread that started us exits, which is how a container
// made in a Worker ends with that Worker, as before. It counts only as the
// kernel sends it (SI_USER from pid 0, the owner outside our pid
// namespace, or from -p PID, Node's pid when we share its pid namespace);
// the same signal from a process of the container is forwarded like any.
//
// Without PROGRAM it waits until SIGTERM, SIGINT, SIGHUP or SIGQUIT and
// exits 0. With PROGRAM it forks and execs it (PATH looked up inside),
// forwards SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH,
// SIGCONT, SIGALRM, SIGPWR... to it, and exits with its status (128+signal
// when a signal ended it). In both cases it reaps every process reparented
// to it. Its own fds (-d, -k, the signalfd) are close-on-exec: PROGRAM
// inherits none of them.
#include <asm/unistd.h>

#include "../raw_syscall.h"

typedef unsigned long size_t;
typedef long ssize_t;

// Kernel ABI values, the same on x86_64 and aarch64 (asm-generic).
enum {
  kSigHup = 1, kSigInt = 2, kSigQuit = 3, kSigKill = 9, kSigTerm = 15,
  kSigChld = 17, kSigTstp = 20, kSigTtin = 21, kSigTtou = 22,
  kSigSetmask = 2,
  kWnohang = 1,
  kFSetfd = 2, kFdCloexec = 1,
  kOCloexec = 02000000,
  kPrSetPdeathsig = 1,
  kSigOwnerGone = 64,  // SIGRTMAX: our death signal (see -d)
  kSiUser = 0,
  kPollIn = 0x1, kPollErr = 0x8, kPollHup = 0x10, kPollNval = 0x20,
  kEintr = 4, kEnoent = 2, kEacces = 13, kEnotdir = 20,
};

#if defined(__x86_64__)
__asm__(
    ".text\n.global _start\n_start:\n"
    "  xor %rbp, %rbp\n"
    "  mov %rsp, %rdi\n"
    "  and $-16, %rsp\n"
    "  call start_c\n"
    "  hlt\n");
#elif defined(__aarch64__)
__asm__(
    ".text\n.global _start\n_start:\n"
    "  mov x29, #0\n"
    "  mov x30, #0\n"
    "  mov x0, sp\n"
    "  bl start_c\n"
    "  brk #0\n");
#else
#error "nsfd-init: x86_64 and aarch64 only"
#endif

#define SYS(n, a, b, c, d) nsfd_raw_syscall(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

// What the compiler may call on its own for struct copies and zeroing.
void* memset(void* d, int c, size_t n) {
  volatile unsigned char* p = d;
  while (n--) *p++ = (unsigned char)c;
  return d;
}
void* memcpy(void* d, const void* s, size_t n) {
  volatile unsigned char* p = d;
  const unsigned char* q = s;
  while (n--) *p++ = *q++;
  return d;
}

static __attribute__((noreturn)) void exit_now(int code) {
  for (;;) SYS(__NR_exit_group, code, 0, 0, 0);
}

static size_t len(const char* s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

static int streq(const char* a, const char* b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

// A small non-negative decimal; -1 if it is not one.
static int num(const char* s) {
  int v = 0;
  if (!*s) return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9' || v > 100000) return -1;
    v = v * 10 + (*s - '0');
  }
  return v;
}

// "nsfd-init: WHAT NAME: errno N" on stderr, in one write.
static void complain(const char* what, const char* name, long err) {
  char buf[512];
  size_t n = 0;
  const char* parts[] = {"nsfd-init: ", what, name ? " " : "", name ? name : "", ": errno "};
  for (unsigned i = 0; i < sizeof parts / sizeof *parts; i++)
    for (const char* p = parts[i]; *p && n < sizeof buf - 16; p++) buf[n++] = *p;
  char d[12];
  int k = 0;
  unsigned long e = (unsigned long)(err < 0 ? -err : err);
  do d[k++] = (char)('0' + e % 10), e /= 10;
  while (e && k < 11);
  while (k) buf[n++] = d[--k];
  buf[n++] = '\n';
  SYS(__NR_write, 2, buf, n, 0);
}

static __attribute__((noreturn)) void die(const char* what, long err) {
  complain(what, 0, err);
  exit_now(1);
}

// execvp's PATH search (without its ENOEXEC retry through /bin/sh).
static long exec_path(char** argv, char** envp) {
  const char* file = argv[0];
  for (const char* p = file; *p; p++)
    if (*p == '/') return SYS(__NR_execve, file, argv, envp, 0);
  const char* path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (char** e = envp; *e; e++) {
    const char* v = *e;
    if (v[0] == 'P' && v[1] == 'A' && v[2] == 'T' && v[3] == 'H' && v[4] == '=') {
      path = v + 5;
      break;
    }
  }
  size_t flen = len(file);
  long err = -kEnoent;
  int denied = 0;
  char buf[4096];
  for (const char* p = path;;) {
    const char* end = p;
    while (*end && *end != ':') end++;
    size_t dlen = (size_t)(end - p);
    if (dlen + flen + 2 <= sizeof buf) {
      size_t n = 0;
      if (dlen == 0) buf[n++] = '.';
      for (size_t i = 0; i < dlen; i++) buf[n++] = p[i];
      buf[n++] = '/';
      for (size_t i = 0; i <= flen; i++) buf[n++] = file[i];
      err = SYS(__NR_execve, buf, argv, envp, 0);
      if (err == -kEacces) denied = 1;
      else if (err != -kEnoent && err != -kEnotdir) return err;
    }
    if (!*end) break;
    p = end + 1;
  }
  return denied ? -kEacces : err;
}

// The container is orphaned: kill it (see the header comment), then go.
static __attribute__((noreturn)) void orphaned(int kill_fd) {
  if (kill_fd >= 0) SYS(__NR_write, kill_fd, "1", 1, 0);
  // pid 1 exiting kills its pid namespace; otherwise our process group.
  if (SYS(__NR_getpid, 0, 0, 0, 0) != 1) SYS(__NR_kill, 0, kSigKill, 0, 0);
  exit_now(137);
}

struct sfd_info {  // struct signalfd_siginfo: 128 bytes
  unsigned int signo;
  int err;
  int code;
  unsigned int pid;
  unsigned char rest[112];
};

struct pollfd_k {
  int fd;
  short events, revents;
};

__attribute__((used, noreturn)) void start_c(long* sp) {
  int argc = (int)sp[0];
  char** argv = (char**)(sp + 1);
  char** envp = argv + argc + 1;
  int ctl = -1, death = -1, kill_fd = -1, owner = -1;
  int i = 1;
  for (; i < argc; i++) {
    int* target = streq(argv[i], "-r") ? &ctl : streq(argv[i], "-d") ? &death : streq(argv[i], "-k") ? &kill_fd : streq(argv[i], "-p") ? &owner : 0;
    if (target && i + 1 < argc) {
      *target = num(argv[++i]);
    } else {
      if (streq(argv[i], "--")) i++;
      break;
    }
  }
  char** prog = i < argc ? argv + i : 0;

  // Every signal blocked and taken from a signalfd: a blocked signal is
  // never discarded as "ignored by pid 1", so SIGTERM from outside arrives.
  unsigned long all = ~0UL, none = 0;
  long r = SYS(__NR_rt_sigprocmask, kSigSetmask, &all, 0, 8);
  if (r < 0) die("sigprocmask", r);
  int sfd = (int)SYS(__NR_signalfd4, -1, &all, 8, kOCloexec);
  if (sfd < 0) die("signalfd", sfd);
  if (death >= 0) {
    SYS(__NR_prctl, kPrSetPdeathsig, kSigOwnerGone, 0, 0);
    SYS(__NR_fcntl, death, kFSetfd, kFdCloexec, 0);
  }
  if (kill_fd >= 0) SYS(__NR_fcntl, kill_fd, kFSetfd, kFdCloexec, 0);

  if (ctl >= 0) {
    char c;
    do r = SYS(__NR_read, ctl, &c, 1, 0);
    while (r == -kEintr);
    if (r != 1) exit_now(1);
    SYS(__NR_close, ctl, 0, 0, 0);
  }

  long child = -1;
  if (prog) {
    child = SYS(__NR_clone, kSigChld, 0, 0, 0);
    if (child < 0) die("fork", child);
    if (child == 0) {
      SYS(__NR_rt_sigprocmask, kSigSetmask, &none, 0, 8);
      long e = exec_path(prog, envp);
      complain("exec", prog[0], e);
      exit_now(e == -kEnoent ? 127 : 126);
    }
  }

  struct pollfd_k pf[2] = {{sfd, kPollIn, 0}, {death, kPollIn, 0}};
  for (;;) {
    r = nsfd_raw_syscall(__NR_ppoll, (long)pf, death >= 0 ? 2 : 1, 0, 0, 8, 0);
    if (r < 0) continue;
    if (death >= 0 && (pf[1].revents & kPollNval)) {
      // Not an open fd (a wrong -d): no watch, rather than a busy loop.
      death = -1;
    } else if (death >= 0 && (pf[1].revents & (kPollHup | kPollErr | kPollIn))) {
      // Nobody writes to the pipe: readable means EOF, Node is gone.
      orphaned(kill_fd);
    }
    if (!(pf[0].revents & kPollIn)) continue;
    struct sfd_info si;
    if (SYS(__NR_read, sfd, &si, sizeof si, 0) != (long)sizeof si) continue;
    int sig = (int)si.signo;
    if (death >= 0 && sig == kSigOwnerGone && si.code == kSiUser && (si.pid == 0 || (owner > 0 && si.pid == (unsigned)owner))) {
      orphaned(kill_fd);  // the thread that started us is gone
    }
    if (sig == kSigChld) {
      int status;
      long p;
      while ((p = SYS(__NR_wait4, -1, &status, kWnohang, 0)) > 0) {
        if (p == child) {
          if ((status & 0x7f) == 0) exit_now((status >> 8) & 0xff);
          exit_now(128 + (status & 0x7f));
        }
      }
      continue;
    }
    if (child > 0) {
      // Forwarded, except what only makes sense for us.
      if (sig != kSigTstp && sig != kSigTtin && sig != kSigTtou) SYS(__NR_kill, child, sig, 0, 0);
    } else if (sig == kSigTerm || sig == kSigInt || sig == kSigHup || sig == kSigQuit) {
      exit_now(0);
    }
  }
}
