#!/usr/bin/env bash
# The native addon under valgrind's memcheck (npm run test:valgrind).
#
#   scripts/valgrind.sh [vitest test files...]
#
# 1. Builds native/*.cc with -g -O1 into build-valgrind/ (build/Release is
#    left alone).
# 2. test/fixtures/fuzz-native.ts (compiled: dist-dev/test/fixtures/) under memcheck: every native function with
#    random and hostile arguments, plus well-formed calls through the public
#    API.
# 3. The vitest suite (default: every test file) with each test worker, the
#    process that loads nsfd.node and runs a test file, under memcheck
#    (scripts/sanitize-valgrind-workers.ts). The programs the tests start,
#    node fixtures included, run natively. About 6 minutes here.
# Any memcheck error or definite leak that scripts/valgrind-node.supp does
# not suppress fails the run (the suppressions cover node and V8 noise and
# valgrind's own false reports only: never a frame of ours at the top), and
# so does a process that died on a fatal signal or whose log is incomplete.
# Records with a frame in our addon are counted apart. The last line is a
# summary: tests, errors, time taken.
#
# valgrind 3.19 (Debian 12; no newer one in bookworm-backports) has no
# pidfd_open, pidfd_getfd, pidfd_send_signal, openat2 or clone3: they return
# ENOSYS under it. So the pidfd, spawn and inns paths run their error
# branches only: most tests skip (features() says unsupported) or fail with
# UnsupportedError/ENOSYS. Test failures are listed but do not fail this run
# (scripts/sanitize.sh runs the whole suite for real, under ASan). Nor can
# valgrind run clone(CLONE_VM|CLONE_VFORK|CLONE_FILES) (inns_helper): the
# fixture leaves it out.
#
# Environment: NSFD_VALGRIND_COUNT (fixture calls, default 3000),
# NSFD_VALGRIND_SEED, NSFD_VALGRIND_SKIP_SUITE=1 (step 2 only),
# NSFD_VALGRIND_TIMEOUT (limit for step 3, default 2400 s), NSFD_VALGRIND_SRC
# and NSFD_VALGRIND_OUT (sources and build dir, default native/ and
# build-valgrind/: to check this script on a scratch copy with a planted bug).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
start=$SECONDS
src=${NSFD_VALGRIND_SRC:-native}
out=${NSFD_VALGRIND_OUT:-$root/build-valgrind}
mkdir -p "$out"
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }

. scripts/native-flags.sh valgrind.sh
echo "valgrind.sh: building $out/nsfd.node from $src/ (-g -O1)"
nice -n 10 g++ "${native_cflags[@]}" -shared "$src"/*.cc -o "$out/nsfd.node.tmp"
mv "$out/nsfd.node.tmp" "$out/nsfd.node"
export NSFD_NATIVE_PATH=$out/nsfd.node

log=$(mktemp -d /tmp/nsfd-valgrind.XXXXXX)
# --child-silent-after-fork: a process that forks to exec something else
# (libuv's spawn) is under valgrind until the exec; that copy logs nothing.
vg_opts=(--tool=memcheck --error-exitcode=0 --leak-check=full --show-leak-kinds=definite
  --errors-for-leak-kinds=definite --num-callers=40 --child-silent-after-fork=yes
  --suppressions="$root/scripts/valgrind-node.supp")
scan() { node dist-dev/scripts/sanitize-valgrind-logs.js "$log" "$1"; }
field() { node -p "JSON.parse(process.argv[1]).$2" "$1"; }
status=0

# --- 2. the fixture
count=${NSFD_VALGRIND_COUNT:-3000}
seed=${NSFD_VALGRIND_SEED:-11}
echo "valgrind.sh: memcheck over dist-dev/test/fixtures/fuzz-native.js ($count calls, seed $seed)"
rc=0
NSFD_UNDER_VALGRIND=1 nice -n 10 valgrind "${vg_opts[@]}" --log-file="$log/fixture.%p" \
  node --jitless dist-dev/test/fixtures/fuzz-native.js "$seed" "$count" >"$log/out.json" 2>"$log/err.txt" || rc=$?
if [ $rc != 0 ] || ! node -e "const o=require(process.argv[1]); process.exit(o.calls === Number(process.argv[2]) && o.leaks.length === 0 && o.other.length === 0 && o.stdIntact && o.valid.failed.length === 0 ? 0 : 1)" "$log/out.json" "$count" 2>/dev/null; then
  echo "valgrind.sh: the fixture failed under valgrind (exit $rc)" >&2
  cat "$log/err.txt" >&2 || true
  status=1
fi
fx=$(scan fixture)
fixture_line=$(node -e "try { const o=require(process.argv[1]); console.log(o.calls + ' native calls (' + o.returned + ' returned, ' + o.typeErrors + ' TypeErrors), ' + o.valid.ok + ' well-formed API calls, fds ' + o.fdBefore + ' -> ' + o.fdAfter) } catch { console.log('no result') }" "$log/out.json")
echo "valgrind.sh: fixture: $fixture_line; memcheck errors $(field "$fx" errors) ($(field "$fx" ours) in our code), crashes $(field "$fx" crashes), incomplete logs $(field "$fx" incomplete)"
[ "$(field "$fx" errors)" = 0 ] && [ "$(field "$fx" crashes)" = 0 ] && [ "$(field "$fx" incomplete)" = 0 ] || status=1
errors=$(field "$fx" errors)
ours=$(field "$fx" ours)

# --- 3. the suite, workers under memcheck
tests_line="suite skipped"
if [ "${NSFD_VALGRIND_SKIP_SUITE:-}" != 1 ]; then
  # vitest stops a worker with SIGTERM and SIGKILLs it 500 ms later: too
  # soon for memcheck's leak check at exit. So valgrind runs as a child of
  # this wrapper: SIGTERM is passed on, a SIGKILL ends only the wrapper, and
  # valgrind finishes its log while we wait for it below.
  wrapper=$out/node-valgrind
  {
    echo '#!/usr/bin/env bash'
    echo '# Written by scripts/valgrind.sh: node under memcheck, for a vitest worker.'
    printf 'valgrind'
    printf ' %q' "${vg_opts[@]}" --smc-check=all-non-file "--log-file=$log/suite.%p" "$(command -v node)"
    echo ' "$@" <&0 &'
    echo 'pid=$!'
    echo "echo \$pid >>$(printf %q "$log/pids")"
    echo 'trap '"'"'kill -TERM $pid 2>/dev/null'"'"' TERM INT'
    echo 'rc=0; wait $pid || rc=$?'
    echo 'while kill -0 $pid 2>/dev/null; do rc=0; wait $pid || rc=$?; done'
    echo 'exit $rc'
  } >"$wrapper"
  chmod +x "$wrapper"
  tests=("$@")
  echo "valgrind.sh: vitest ${tests[*]:-(every test file)}, workers under memcheck"
  rc=0
  NSFD_VG_WRAPPER=$wrapper NODE_OPTIONS="--require $root/dist-dev/scripts/sanitize-valgrind-workers.js${NODE_OPTIONS:+ $NODE_OPTIONS}" \
    NSFD_TEST_TIMEOUT_MS=300000 nice -n 10 timeout -k 30 "${NSFD_VALGRIND_TIMEOUT:-2400}" \
    npx vitest run --reporter=default --reporter=json --outputFile.json="$log/vitest.json" ${tests[@]+"${tests[@]}"} || rc=$?
  [ $rc = 124 ] && { echo "valgrind.sh: the suite timed out" >&2; status=1; }
  # Workers that vitest SIGKILLed are still writing their leak check.
  for _ in $(seq 600); do
    alive=0
    for p in $(cat "$log/pids" 2>/dev/null); do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 1
  done
  tests_line=$(node -e "
    try {
      const r = require(process.argv[1]);
      const ran = r.numPassedTests + r.numFailedTests;
      console.log(ran + ' of ' + r.numTotalTests + ' tests ran under memcheck in ' + r.testResults.length + ' files (' + r.numPassedTests + ' passed, ' +
        r.numFailedTests + ' failed: not gating, see above; ' + (r.numPendingTests + r.numTodoTests) + ' skipped)');
    } catch { console.log('no test results (vitest exit ' + process.argv[2] + ')'); }
  " "$log/vitest.json" "$rc")
  su=$(scan suite)
  echo "valgrind.sh: suite: $tests_line; $(field "$su" processes) workers: memcheck errors $(field "$su" errors) ($(field "$su" ours) in our code), crashes $(field "$su" crashes), incomplete logs $(field "$su" incomplete)"
  [ "$(field "$su" processes)" -gt 0 ] && [ "$(field "$su" errors)" = 0 ] && [ "$(field "$su" crashes)" = 0 ] && [ "$(field "$su" incomplete)" = 0 ] || status=1
  errors=$((errors + $(field "$su" errors)))
  ours=$((ours + $(field "$su" ours)))
fi

[ $status = 0 ] && rm -rf "$log"
verdict=$([ $status = 0 ] && echo clean || echo "FAILED, logs in $log")
echo "valgrind.sh: summary: fixture $fixture_line; $tests_line; memcheck errors $errors ($ours in our code); $((SECONDS - start)) s: $verdict"
exit $status
