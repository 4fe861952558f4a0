#!/usr/bin/env bash
# The native addon under AddressSanitizer and UndefinedBehaviorSanitizer.
#
#   scripts/sanitize.sh [vitest test files...]     (npm run test:asan)
#
# 1. Builds native/*.cc with -fsanitize=address,undefined into build-asan/
#    (build/Release, which everyone else uses, is left alone).
# 2. Runs the tests (default: every file that reaches a native function)
#    with NSFD_NATIVE_PATH pointing at that build and libasan preloaded into
#    every node process (node itself is not instrumented, so the ASan
#    runtime must come first). Any ASan report or UBSan finding aborts the
#    process it happens in. ASan writes its reports to log files (log_path),
#    UBSan to stderr, which is captured; both are read afterwards: a report
#    fails the run even where the process that aborted was a child whose
#    exit status a test tolerates. (UBSan's log_path does not work here:
#    gcc puts UBSan in a runtime of its own, libubsan, loaded with
#    nsfd.node, and the preloaded libasan exports the same entry point,
#    __sanitizer_set_report_path, which wins the lookup: libubsan's report
#    path is never set. Checked: preloading libubsan ahead of libasan makes
#    UBSan's log_path work, but moves ASan's reports to stderr.) The UBSan
#    reports of a child whose stderr a test reads are not seen here, but
#    that child dies of SIGABRT.
# 3. Leak check of the addon: a fixture that calls every public function
#    (the API fuzzer, bounded) runs with LeakSanitizer on; node and V8 leak
#    by design at exit, so only leaks whose allocation stack passes through
#    nsfd.node count.
# The last line is a summary: tests, reports, leaks, time taken.
#
# Environment:
#   NSFD_ASAN_SKIP_TESTS=1     skip step 2
#   NSFD_ASAN_FUZZ_COUNT=N     calls in step 3 (default 1500)
#   NSFD_ASAN_TIMEOUT=S        limit for step 2 (default 1800 s; see below)
#   NSFD_ASAN_UBSAN_ONLY="spawn_child.cc inns_ops.cc"   build those files with UBSan
#                              only (the old split, see below)
#   NSFD_ASAN_SRC, NSFD_ASAN_OUT   sources and build dir (default native/,
#                              build-asan/): to check this script itself on a
#                              scratch copy with a planted bug.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
start=$SECONDS
src=${NSFD_ASAN_SRC:-native}
out=${NSFD_ASAN_OUT:-$root/build-asan}
mkdir -p "$out"

. scripts/native-flags.sh sanitize.sh
common=("${native_cflags[@]}" -fno-sanitize-recover=undefined)
# Code in clone(CLONE_VM) children. spawn.cc and inns.cc run code in
# children that share our memory, on stacks of their own, between clone and
# execve/exit. ASan cannot follow there: its no-return hook, called before
# a [[noreturn]] call in instrumented code, sees a stack that is not the
# thread's and reports false stack errors (google/sanitizers#189), and a
# report in such a child leaves the runtime's report lock taken in our
# shared memory. That is why these two files used to get UBSan only.
# Checked again (Nov 2026, kernel 6.18, gcc 12): it is no longer needed.
#  - spawn.cc: every function that runs in the child is NSFD_CHILD,
#    no_sanitize("address", "undefined"): no instrumentation there, so no
#    no-return hook and no runtime call (Sys(), which they call, has only
#    registers to instrument: the object code of these functions calls no
#    __asan_ or __ubsan_ function); its parent side (the spec reader, pipes,
#    the report loop) is ordinary code and gets ASan like the rest.
#  - inns.cc: the helper child (Child, RunOp and what they call) is
#    instrumented, but calls nothing [[noreturn]] and returns through every
#    frame, so every redzone it poisons on its stack is unpoisoned again;
#    the libc calls it makes go through ASan's interceptors, which only
#    check memory.
# The whole suite and the fuzzers ran clean with every file under ASan +
# UBSan. A real report inside an inns helper child is still caught (checked
# with a stack overflow planted in Child(): "stack-buffer-overflow ... in
# Child native/inns.cc", the test failed, the run exited 1); the child dies,
# and the parent, which shares the runtime's state, may then abort too
# ("nested bug in the same thread"). Should it hang instead, step 2 runs
# under a timeout, which fails the run.
# NSFD_ASAN_UBSAN_ONLY="spawn_child.cc inns_ops.cc" brings the old split back.
ubsan_only=" ${NSFD_ASAN_UBSAN_ONLY:-} "
echo "sanitize.sh: building $out/nsfd.node from $src/ (ASan + UBSan${NSFD_ASAN_UBSAN_ONLY:+; UBSan only: $NSFD_ASAN_UBSAN_ONLY})"
objs=()
for f in "$src"/*.cc; do
  obj=$out/$(basename "$f" .cc).o
  case $ubsan_only in
    *" $(basename "$f") "*) san=-fsanitize=undefined ;;
    *) san=-fsanitize=address,undefined ;;
  esac
  nice -n 10 g++ "${common[@]}" $san -c "$f" -o "$obj"
  objs+=("$obj")
done
g++ -shared -fsanitize=address,undefined "${objs[@]}" -o "$out/nsfd.node.tmp"
mv "$out/nsfd.node.tmp" "$out/nsfd.node"

libasan=$(gcc -print-file-name=libasan.so)
# A stale build would be redone by vitest's global setup under the
# NODE_OPTIONS below, whose preload that build deletes first: build now.
npm run --silent build:ts
export NSFD_NATIVE_PATH=$out/nsfd.node
# Tests that measure RSS skip that check under ASan (its quarantine holds freed memory).
export NSFD_SANITIZER=asan
# The runtime goes into node processes only, never this script's own tools
# nor (through scripts/sanitize-child-env.ts, compiled to dist-dev/, loaded by every node) the
# non-node programs node starts.
export NODE_OPTIONS="--require $root/dist-dev/scripts/sanitize-child-env.js${NODE_OPTIONS:+ $NODE_OPTIONS}"
export NSFD_ASAN_PRELOAD=$libasan
# handle_segv=0: V8 and node install their own SIGSEGV handlers.
# verify_asan_link_order=0: the runtime is preloaded rather than linked into node.
base_asan=halt_on_error=1:abort_on_error=1:handle_segv=0:verify_asan_link_order=0:detect_stack_use_after_return=0:print_summary=1
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
# Make sure the sanitized build is the one loaded.
LD_PRELOAD=$libasan ASAN_OPTIONS=$base_asan:detect_leaks=0 node -e "
  const n = require('./dist-dev/lib/sys/native.js').native;
  if (!process.env.NSFD_NATIVE_PATH || typeof n.pidfd_open !== 'function') process.exit(1);
  const maps = require('fs').readFileSync('/proc/self/maps', 'utf8');
  if (!maps.includes(process.env.NSFD_NATIVE_PATH) || !maps.includes('libasan')) { console.error('sanitized build not loaded'); process.exit(1); }
  console.log('sanitize.sh: ' + process.env.NSFD_NATIVE_PATH + ' loaded with libasan');
"

logdir=$(mktemp -d /tmp/nsfd-asan.XXXXXX)
status=0
tests_line="tests skipped"
reports=0
if [ "${NSFD_ASAN_SKIP_TESTS:-}" != 1 ]; then
  tests=("$@")
  if [ ${#tests[@]} -eq 0 ]; then
    tests=(test/pidfd.test.ts test/namespace.test.ts test/attach.test.ts test/translate.test.ts test/features.test.ts
      test/ownership.test.ts test/unprivileged.test.ts test/reuse.test.ts test/fuzz.test.ts test/concurrency.test.ts test/soak.test.ts)
    for f in test/spawn.test.ts test/inns.test.ts test/list.test.ts test/container.test.ts test/procfs.test.ts test/security.test.ts test/security-inside.test.ts; do [ -f "$f" ] && tests+=("$f"); done
  fi
  echo "sanitize.sh: vitest ${tests[*]}"
  # Fewer soak operations: everything is slower under ASan. The timeout
  # turns a hang (see the caveat above) into a failure.
  rc=0
  LD_PRELOAD=$libasan ASAN_OPTIONS=$base_asan:detect_leaks=0:log_path=$logdir/asan \
    NSFD_SOAK_COUNT=${NSFD_SOAK_COUNT:-5000} NSFD_TEST_TIMEOUT_MS=120000 \
    timeout -k 30 "${NSFD_ASAN_TIMEOUT:-1800}" \
    npx vitest run --reporter=default --reporter=json --outputFile.json="$logdir/vitest.json" "${tests[@]}" 2>&1 |
    tee "$logdir/tests-output" || rc=$?
  [ $rc = 124 ] && echo "sanitize.sh: the tests timed out (${NSFD_ASAN_TIMEOUT:-1800} s)" >&2
  [ $rc = 0 ] || status=1
  tests_line=$(node -e "
    try {
      const r = require(process.argv[1]);
      const skipped = r.numPendingTests + r.numTodoTests, unfinished = r.numTotalTests - r.numPassedTests - r.numFailedTests - skipped;
      console.log(r.numTotalTests + ' tests in ' + r.testResults.length + ' files (' + r.numPassedTests + ' passed, ' + r.numFailedTests + ' failed, ' +
        skipped + ' skipped' + (unfinished ? ', ' + unfinished + ' did not finish' : '') + '), vitest exit ' + process.argv[2]);
    } catch { console.log('no test results (vitest exit ' + process.argv[2] + ')'); }
  " "$logdir/vitest.json" "$rc")
  r=$(node dist-dev/scripts/sanitize-reports.js "$logdir" asan tests-output)
  reports=$(node -p "JSON.parse(process.argv[1]).reports" "$r")
  ours=$(node -p "JSON.parse(process.argv[1]).ours" "$r")
  echo "sanitize.sh: tests: ASan/UBSan reports: $reports ($ours with a frame in our code)"
  [ "$reports" = 0 ] || status=1
fi

# Leaks of the addon: LeakSanitizer over a fixture calling every public function.
count=${NSFD_ASAN_FUZZ_COUNT:-1500}
echo "sanitize.sh: leak check (API fuzzer, $count calls, LeakSanitizer)"
result=$logdir/fuzz.json
# As root the fuzzer must run in namespaces of its own, named to it by
# NSFD_FUZZ_HOST_NS (it mounts and binds things: see runFuzz() in
# test/stress/fuzz-check.ts, which this mirrors). unshare runs without the
# ASan runtime; env puts it into the node it starts. Leak detection for the
# fuzzer's own process only (sanitize-child-env.js hands its node children
# detect_leaks=0).
ns_wrap=()
if [ "$(id -u)" = 0 ]; then
  ns_wrap=(unshare --mount --propagation private --pid --fork --mount-proc --net --uts --ipc --cgroup)
  export NSFD_FUZZ_HOST_NS=$(node -e "
    const fs = require('fs');
    console.log(['mnt', 'net', 'uts', 'ipc', 'cgroup', 'pid', 'user', 'time'].filter((t) => fs.existsSync('/proc/self/ns/' + t))
      .map((t) => { const st = fs.statSync('/proc/self/ns/' + t); return t + '=' + st.dev + ':' + st.ino; }).join(','));")
fi
{ (${ns_wrap[@]+"${ns_wrap[@]}"} env LD_PRELOAD="$libasan" ASAN_OPTIONS="$base_asan:detect_leaks=1:log_path=$logdir/leak" \
  NSFD_CHILD_ASAN_OPTIONS="$base_asan:detect_leaks=0:log_path=$logdir/leak-child" NSFD_FUZZ_SEED=7 NSFD_FUZZ_COUNT="$count" \
  node --expose-gc --no-warnings dist-dev/test/fixtures/fuzz-api.js "$result" 7 "$count") >/dev/null 2>"$logdir/leak-stderr"; } 2>/dev/null || true
# (It exits non-zero whatever happens: LeakSanitizer finds node's own leaks
# and aborts, which as pid 1 of its pid namespace ends in SIGSEGV. Its
# result file says whether it ran to the end.)
fuzz_ok=1
if ! node -e "const o=require(process.argv[1]); process.exit(o.fatal || o.calls !== Number(process.argv[2]) || o.fdEnd !== o.fdStart ? 1 : 0)" "$result" "$count" 2>/dev/null; then
  echo "sanitize.sh: the fuzzer failed under ASan (see $logdir; its stderr:)" >&2
  head -c 2000 "$logdir/leak-stderr" >&2 || true
  status=1
  fuzz_ok=0
fi
# One log per process (children that ran our code before exec count too).
r=$(node dist-dev/scripts/sanitize-reports.js "$logdir" leak leak-child leak-stderr)
leak_reports=$(node -p "JSON.parse(process.argv[1]).reports" "$r")
leaks=$(node -p "JSON.parse(process.argv[1]).leaks" "$r")
# A process that died early leaves at exit what V8 made for our exports
# (FunctionTemplates, with our Init on the stack): those records mean
# nothing, and the run has failed already.
if [ $fuzz_ok = 1 ]; then
  echo "sanitize.sh: leak check: leak records with an nsfd.node frame: $leaks; other ASan/UBSan reports: $leak_reports"
  [ "$leaks" = 0 ] || status=1
else
  echo "sanitize.sh: leak check: the fuzzer did not finish: its $leaks leak records with an nsfd.node frame are not counted; other ASan/UBSan reports: $leak_reports"
  leaks="not counted"
fi
[ "$leak_reports" = 0 ] || status=1
fuzz_line=$(node -e "try { const o=require(process.argv[1]); console.log(o.fatal ? 'fuzzer FATAL' : 'fuzzer ' + o.calls + ' calls, fds ' + o.fdStart + ' -> ' + o.fdEnd) } catch { console.log('fuzzer: no result') }" "$result")
[ $status = 0 ] && rm -rf "$logdir"
verdict=$([ $status = 0 ] && echo clean || echo "FAILED, logs in $logdir")
echo "sanitize.sh: summary: $tests_line; ASan/UBSan reports $((reports + leak_reports)); leaks in nsfd.node $leaks; $fuzz_line; $((SECONDS - start)) s: $verdict"
exit $status
