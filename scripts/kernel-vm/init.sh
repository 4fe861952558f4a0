#!/bin/busybox sh
# /init of the test VM's initramfs (see scripts/test-kernels.sh).
#
# Console (ttyS0): kernel messages and the human-readable test output.
# Results (ttyS1; on arm64 the virtio console hvc0, VM_RESULTS_DEV): a clean
# machine-readable channel that the kernel never writes to:
#   NSFD-VM-BEGIN <uname -r>
#   NSFD-FEATURES-RC <exit code>
#   NSFD-FEATURES <json>                  (only when the probe printed one)
#   NSFD-T <json>                         one per test event, from
#                                         stream-reporter.mjs
#   NSFD-RUNNER-RETRY <exit code>         the runner crashed; the suite runs
#                                         again (VM_RUNNER_RETRY, arm64)
#   NSFD-WORKER-RETRY                     a test worker died; its files run
#                                         again (VM_RUNNER_RETRY, arm64)
#   NSFD-VITEST-RC <exit code>            (or "skipped")
#   NSFD-VM-END
# then the VM powers off.

export PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin
export HOME=/root TMPDIR=/tmp TERM=dumb CI=1 NO_COLOR=1 FORCE_COLOR=0 NSFD_IN_VM=1

# Stage 1: the initramfs root ("rootfs") cannot be pivot_root'ed, and the
# tests pivot_root (EINVAL there). Copy everything to a tmpfs and
# switch_root into it, as a real system's initramfs does.
if [ "$1" != stage2 ]; then
  /usr/bin/busybox mkdir -p /newroot
  /usr/bin/busybox mount -t tmpfs -o mode=0755 root /newroot
  for e in /* /.[!.]*; do
    case $e in /newroot | /proc | /sys | /dev | '/.[!.]*') ;; *) /usr/bin/busybox cp -a "$e" /newroot/ ;; esac
  done
  /usr/bin/busybox mkdir -p /newroot/proc /newroot/sys /newroot/dev
  exec /usr/bin/busybox switch_root /newroot /init stage2
  echo "switch_root failed; staying on the initramfs" >&2
fi

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm /sys/fs/cgroup /tmp /run
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs -o mode=1777 shm /dev/shm
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t tmpfs -o mode=1777 tmp /tmp
mount -t tmpfs -o mode=0755 run /run
# Keep the kernel's own chatter off the console (panics still show).
echo 1 > /proc/sys/kernel/printk
# A process that dies of SIGSEGV, SIGILL, SIGTRAP, SIGABRT, ... is logged
# ("comm/pid: potentially unexpected fatal signal N"; in dmesg only): the
# crash evidence below says which signal killed a test worker.
echo 1 > /proc/sys/kernel/print-fatal-signals 2>/dev/null
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
hostname nsfd-vm

# Settings baked in by the host (NSFD_TEST_TIMEOUT_MS, VM_INNER_TIMEOUT, ...).
# shellcheck disable=SC1091
. /nsfd-vm.env

R=${VM_RESULTS_DEV:-/dev/ttyS1}
stty -F "$R" raw -echo 2>/dev/null
exec 3>"$R"
res() { echo "$*" >&3; }

finish() {
  res "NSFD-VM-END"
  exec 3>&-
  sync
  # Give the UART time to drain before the machine goes away.
  sleep 1
  poweroff -f
}

KREL=$(uname -r)
res "NSFD-VM-BEGIN $KREL"
echo "=== nsfd VM: kernel $KREL, $(nproc) cpus, $(free -m | awk '/Mem:/{print $2}') MiB, init at $(cut -d' ' -f1 /proc/uptime)s"

cd /pkg || { echo "no /pkg"; finish; }

echo "=== features()"
node -e 'console.log("NSFD-FEATURES " + JSON.stringify(require("./dist/index.js").features()))' >/tmp/features.out 2>&1
frc=$?
cat /tmp/features.out
echo "=== features() done at $(cut -d' ' -f1 /proc/uptime)s"
res "NSFD-FEATURES-RC $frc"
grep '^NSFD-FEATURES ' /tmp/features.out | head -n 1 >&3

if [ "${VM_SKIP_TESTS:-0}" = 1 ]; then
  res "NSFD-VITEST-RC skipped"
  finish
fi

echo "=== vitest (timeout ${NSFD_TEST_TIMEOUT_MS} ms per test, ${VM_INNER_TIMEOUT} s overall)"
start=$(date +%s)
# vitest's stderr (where a dying test worker's last words go: V8's "Fatal
# error ... Check failed", "Segmentation fault") goes to /tmp/vitest.err,
# which a tail -f copies to the console. (Not a pipe: a leftover test
# process holding its write end would keep a reader waiting, and a dead
# reader would stop vitest.) err_from: where the current run's part begins.
: >/tmp/vitest.err
tail -f /tmp/vitest.err >&2 &
err_from=0
# VM_NOJIT=1 (the arm64 VMs, unless NSFD_KERNELS_ARM64_JIT=1): node runs
# without V8's optimizing compilers, the runner (runner_flags) and the test
# workers (vitest's --execArgv; nojit_on). Under TCG, V8 has died in its
# deoptimizer ("Check failed: CodeKindCanDeoptimize") in the runner and in
# workers, and a CI run lost one test's worker twice at the same test; with
# no optimized code there is nothing to deoptimize. The arm64 VM is there
# for nsfd's arm64 native code and the kernel, not V8's JIT. Cost: a whole
# arm64 run took 364 s against 323 s with the JIT.
nojit_flags="--no-opt --no-maglev --no-sparkplug"
runner_flags=""
# For every run from now on (remaining_args reads VM_VITEST_ARGS).
nojit_on() {
  local f
  runner_flags=$nojit_flags
  for f in $nojit_flags; do VM_VITEST_ARGS="$VM_VITEST_ARGS --execArgv=$f"; done
}
[ "${VM_NOJIT:-0}" = 1 ] && nojit_on
# Kernel log lines that say how a process or the kernel died.
KLOG_RE='segfault|unhandled|fatal signal|Unable to handle|Oops|BUG:|traps:|Killed process|Out of memory'
# The stream reporter writes each test's result to the results port as it
# finishes (NSFD-T lines), so a hang loses nothing but the hung test.
run_vitest() {
  local limit=$1
  shift
  rm -f /tmp/nsfd-unhandled
  err_from=$(wc -c </tmp/vitest.err)
  # shellcheck disable=SC2086
  NSFD_VM_RESULTS=$R NSFD_VM_DONE=/tmp/nsfd-done NSFD_VM_UNHANDLED=/tmp/nsfd-unhandled timeout -s KILL "$limit" node $runner_flags node_modules/vitest/vitest.mjs run \
    --reporter=default --reporter=/nsfd-vm-reporter.mjs "$@" </dev/null 2>>/tmp/vitest.err
}
# After a crash: what says how the process died, on the console and in the
# results (NSFD-CRASH lines, which the matrix report prints with the crash):
# the kernel's new lines on fatal signals and the OOM killer, and the lines
# of the run's stderr from V8 and node.
klog_seen=0
crash_evidence() {
  sleep 1 # (the last of stderr)
  {
    dmesg | tail -n +$((klog_seen + 1)) | grep -iE "$KLOG_RE" | tail -n 8 | sed 's/^/kernel: /'
    tail -c +$((err_from + 1)) /tmp/vitest.err | grep -E 'Fatal error|Check failed|FATAL|fatal|Segmentation|Aborted|signal|Caused by|exited unexpectedly|out of memory|Trace/breakpoint|Illegal instruction' | tail -n 12 | sed 's/^/stderr: /'
  } | cut -c1-300 >/tmp/crash-evidence
  klog_seen=$(dmesg | wc -l)
  echo "=== crash evidence:"
  cat /tmp/crash-evidence
  while IFS= read -r l; do res "NSFD-CRASH $l"; done </tmp/crash-evidence
}
# The arguments again without the test files the reporter saw finish
# (/tmp/nsfd-done): what a run after a runner crash still has to do. With
# no file named (every file), all of them again.
remaining_args() {
  local a
  for a in $VM_VITEST_ARGS; do
    case $a in
      test/*) grep -qxF "$a" /tmp/nsfd-done 2>/dev/null && continue ;;
    esac
    printf '%s\n' "$a"
  done
}
# shellcheck disable=SC2086
run_vitest "$VM_INNER_TIMEOUT" $VM_VITEST_ARGS
vrc=$?
echo "=== vitest exited $vrc after $(( $(date +%s) - start )) s"
# VM_RUNNER_RETRY=1 (the arm64 VMs): node crashes under TCG, in code that
# passes everywhere else, and the VM runs what was left again.
#   - The vitest runner itself (the main process, which never loads the
#     addon: the tests run in forks) has died of SIGSEGV, and of SIGTRAP
#     (133: V8's own fatal check, "Check failed: CodeKindCanDeoptimize").
#     Exits 132-135 and 139 (SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGSEGV)
#     count (NSFD-RUNNER-RETRY <exit>).
#   - A test worker (a fork of the runner) has died the same way ("Worker
#     exited unexpectedly": its file never finished; NSFD-WORKER-RETRY),
#     once of SIGTRAP in V8's Deoptimizer, the same check failing.
# What was left: the files the reporter did not see finish. A runner crash
# came at the same point in both runs when the whole suite ran again.
# A second crash gets a third run, with V8's optimizing compilers off in
# the runner and the workers if they were on (" nojit" on the marker; see
# VM_NOJIT above): a CI run's arm64 VM lost
# list.test's worker twice at the same test (a test that passes in every
# arm64 run here, alone, in the suite, on a loaded host, and on amd64 with
# ASan), and a run here lost the runner twice. If such crashes follow V8's
# JIT under emulation, the third run passes, and the report says so
# loudly; if not, the run fails. A test that failed before a crash stays
# failed (report.ts).
runner_crashed() {
  case $vrc in 132 | 133 | 134 | 135 | 139) return 0 ;; *) return 1 ;; esac
}
worker_died() {
  [ "$vrc" = 1 ] && grep -qE 'Worker exited unexpectedly|Worker forks emitted error' /tmp/nsfd-unhandled 2>/dev/null
}
names_files() { printf '%s\n' "$@" | grep -q '^test/'; }
attempt=1
while [ "${VM_RUNNER_RETRY:-0}" = 1 ] && [ "$attempt" -le 2 ]; do
  left=$((VM_INNER_TIMEOUT - ($(date +%s) - start)))
  [ "$left" -gt 60 ] || break
  if runner_crashed; then what=runner; elif worker_died; then what=worker; else break; fi
  nojit=""
  [ "$attempt" = 2 ] && [ -z "$runner_flags" ] && nojit=" nojit"
  [ -z "$nojit" ] || nojit_on
  # shellcheck disable=SC2046
  set -- $(remaining_args)
  # shellcheck disable=SC2086
  if names_files $VM_VITEST_ARGS && ! names_files "$@"; then
    if [ "$what" = runner ]; then
      # Every file had finished (their results are in): nothing to run
      # again, and the end-of-run report that never came misses nothing.
      res "NSFD-RUNNER-RETRY $vrc"
      crash_evidence
      echo "=== the vitest runner died (exit $vrc) after every file had finished"
      res "NSFD-RUNNER-ALL-FILES-DONE"
      vrc=0
    fi
    break
  fi
  # (A worker that died while every file was run unnamed: not run again.)
  [ "$what" = runner ] || names_files "$@" || break
  if [ "$what" = runner ]; then res "NSFD-RUNNER-RETRY $vrc$nojit"; else res "NSFD-WORKER-RETRY$nojit"; fi
  crash_evidence
  who="a test worker"
  [ "$what" = worker ] || who="the vitest runner"
  echo "=== $who died${nojit:+ again} (exit $vrc); running what was left again${nojit:+, without V8's optimizing compilers} (${left} s left): $*"
  run_vitest "$left" "$@"
  vrc=$?
  echo "=== vitest exited $vrc after $(( $(date +%s) - start )) s"
  attempt=$((attempt + 1))
done
# A process killed by a signal (node crashing) leaves its trace in the
# kernel log only, below the console's loglevel.
if [ "$vrc" -gt 128 ] || worker_died; then
  res "NSFD-CRASH-BEGIN the last run (exit $vrc$(worker_died && echo ', a test worker died'))"
  crash_evidence
elif [ "$vrc" != 0 ]; then
  dmesg | grep -iE "$KLOG_RE" | tail -n 20
fi
res "NSFD-VITEST-RC $vrc"
finish
