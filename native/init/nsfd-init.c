// nsfd-init: the init of a Container (pid 1 of its pid namespace), like
// catatonit or tini. Static, so that it runs from the host by fd
// (execveat AT_EMPTY_PATH) in a rootfs that has no libc and no loader.
//
//   nsfd-init [-r FD] [-- PROGRAM ARGS...]
//
// -r FD: a socket from nsfd: wait for one byte ("go": nsfd has read our
// namespaces and finished its set-up) before starting PROGRAM; EOF instead
// means nsfd gave up: exit 1. The fd is closed then: PROGRAM does not
// inherit it. Signals need no such handshake: nsfd starts this program
// with all of them blocked, so one sent early waits for sigwaitinfo.
//
// Without PROGRAM it waits until SIGTERM, SIGINT, SIGHUP or SIGQUIT and
// exits 0. With PROGRAM it forks and execs it (PATH looked up inside),
// forwards SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH,
// SIGCONT, SIGALRM, SIGPWR... to it, and exits with its status (128+signal
// when a signal ended it). In both cases it reaps every process reparented
// to it. Dying with Node is spawn's killOnClose (PR_SET_PDEATHSIG, kept
// across the exec), not this program's business.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char* what) {
  fprintf(stderr, "nsfd-init: %s: %s\n", what, strerror(errno));
  _exit(1);
}

int main(int argc, char** argv) {
  int ctl = -1;
  int i = 1;
  for (; i < argc; i++) {
    if (strcmp(argv[i], "-r") == 0 && i + 1 < argc) {
      ctl = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--") == 0) {
      i++;
      break;
    } else {
      break;
    }
  }
  char** prog = i < argc ? argv + i : NULL;

  // Every signal blocked and taken with sigwaitinfo: a blocked signal is
  // never discarded as "ignored by pid 1", so SIGTERM from outside arrives.
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  if (sigprocmask(SIG_SETMASK, &all, NULL) < 0) die("sigprocmask");

  if (ctl >= 0) {
    char c;
    ssize_t n;
    do n = read(ctl, &c, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1) _exit(1);
    close(ctl);
  }

  pid_t child = -1;
  if (prog != NULL) {
    child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
      sigprocmask(SIG_SETMASK, &none, NULL);
      execvp(prog[0], prog);
      int e = errno;
      fprintf(stderr, "nsfd-init: exec %s: %s\n", prog[0], strerror(e));
      _exit(e == ENOENT ? 127 : 126);
    }
  }

  for (;;) {
    siginfo_t si;
    int sig = sigwaitinfo(&all, &si);
    if (sig < 0) continue;
    if (sig == SIGCHLD) {
      int status;
      pid_t p;
      while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
        if (p == child) {
          if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
          _exit(128 + WTERMSIG(status));
        }
      }
      continue;
    }
    if (child > 0) {
      // Forwarded, except what only makes sense for us.
      if (sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU) kill(child, sig);
    } else if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT) {
      _exit(0);
    }
  }
}
