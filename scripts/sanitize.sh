#!/usr/bin/env bash
# The native addon under AddressSanitizer and UndefinedBehaviorSanitizer.
#
#   scripts/sanitize.sh [vitest test files...]     (npm run test:asan)
#
# 1. Builds native/*.cc with -fsanitize=address,undefined into build-asan/
#    (build/Release, which everyone else uses, is left alone).
# 2. Runs the tests (default: every file that reaches a native function)
#    with NSFD_NATIVE_PATH pointing at that build and libasan preloaded
#    (node itself is not instrumented, so the ASan runtime must come first).
#    Any ASan report or UBSan finding aborts the process: the test fails.
# 3. Leak check of the addon: a fixture that calls every native function
#    (the fuzzer, bounded) runs with LeakSanitizer on; node and V8 leak by
#    design at exit, so only leaks whose allocation stack passes through
#    nsfd.node count.
# Environment: NSFD_ASAN_SKIP_TESTS=1 skips step 2, NSFD_ASAN_FUZZ_COUNT
# (default 1500) sizes step 3.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/build-asan
mkdir -p "$out"

nodedir=$(node -p "require('path').resolve(process.execPath, '../../include/node')")
[ -f "$nodedir/node_api.h" ] || nodedir=$(npm config get nodedir 2>/dev/null)/include/node
[ -f "$nodedir/node_api.h" ] || { echo "sanitize.sh: node headers not found" >&2; exit 2; }
addon_api=$(node -p "require('node-addon-api').include_dir")

common=(-std=c++20 -fPIC -g -O1 -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  -fvisibility=hidden -Wall -Wextra -Wno-missing-field-initializers -Wno-unused-parameter
  -DNAPI_VERSION=8 -D_GNU_SOURCE -DNODE_ADDON_API_DISABLE_CPP_EXCEPTIONS -DBUILDING_NODE_EXTENSION
  -I"$nodedir" -I"$addon_api")
# spawn.cc and inns.cc run code in clone(CLONE_VM) children, on stacks of
# their own inside our address space, between clone and execve. ASan's
# runtime cannot follow there (google/sanitizers#189: its no-return hook
# reports false stack errors, and a report in the child wedges the parent's
# runtime), so those two files get UBSan only; valgrind (scripts/valgrind.sh)
# checks their parent-side code. Every other file gets ASan + UBSan.
echo "sanitize.sh: building $out/nsfd.node (ASan + UBSan; spawn.cc, inns.cc: UBSan)"
objs=()
for src in native/*.cc; do
  obj=$out/$(basename "$src" .cc).o
  case $src in
    native/spawn.cc | native/inns.cc) san=-fsanitize=undefined ;;
    *) san=-fsanitize=address,undefined ;;
  esac
  g++ "${common[@]}" $san -c "$src" -o "$obj"
  objs+=("$obj")
done
g++ -shared -fsanitize=address,undefined "${objs[@]}" -o "$out/nsfd.node.tmp"
mv "$out/nsfd.node.tmp" "$out/nsfd.node"

libasan=$(gcc -print-file-name=libasan.so)
export NSFD_NATIVE_PATH=$out/nsfd.node
# Only the node processes get the runtime (and, through the environment,
# what they spawn); never this script's own tools.
# handle_segv=0: V8 and node install their own SIGSEGV handlers.
# verify_asan_link_order=0: the runtime is preloaded rather than linked into node.
base_asan=halt_on_error=1:abort_on_error=1:handle_segv=0:verify_asan_link_order=0:detect_stack_use_after_return=0:print_summary=1
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
# Make sure the sanitized build is the one loaded.
LD_PRELOAD=$libasan ASAN_OPTIONS=$base_asan:detect_leaks=0 node -e "
  const n = require('./dist/native.js').native;
  if (!process.env.NSFD_NATIVE_PATH || typeof n.pidfd_open !== 'function') process.exit(1);
  const maps = require('fs').readFileSync('/proc/self/maps', 'utf8');
  if (!maps.includes('build-asan/nsfd.node') || !maps.includes('libasan')) { console.error('sanitized build not loaded'); process.exit(1); }
  console.log('sanitize.sh: build-asan/nsfd.node loaded with libasan');
"

status=0
if [ "${NSFD_ASAN_SKIP_TESTS:-}" != 1 ]; then
  tests=("$@")
  if [ ${#tests[@]} -eq 0 ]; then
    tests=(test/pidfd.test.ts test/namespace.test.ts test/attach.test.ts test/translate.test.ts test/features.test.ts
      test/ownership.test.ts test/unprivileged.test.ts test/reuse.test.ts test/fuzz.test.ts test/concurrency.test.ts test/soak.test.ts)
    for f in test/spawn.test.ts test/inns.test.ts test/list.test.ts test/container.test.ts; do [ -f "$f" ] && tests+=("$f"); done
  fi
  echo "sanitize.sh: vitest ${tests[*]}"
  # Fewer soak operations: everything is slower under ASan.
  LD_PRELOAD=$libasan ASAN_OPTIONS=$base_asan:detect_leaks=0 NSFD_SOAK_COUNT=${NSFD_SOAK_COUNT:-5000} NSFD_TEST_TIMEOUT_MS=120000 \
    npx vitest run "${tests[@]}" || status=$?
fi

# Leaks of the addon: LeakSanitizer over a fixture calling every native function.
echo "sanitize.sh: leak check (fuzzer, ${NSFD_ASAN_FUZZ_COUNT:-1500} calls, LeakSanitizer)"
logdir=$(mktemp -d)
result=$logdir/fuzz.json
# Leak detection for the fuzzer's own process only: what it spawns (sh,
# mount, sleep... with the runtime preloaded) gets detect_leaks=0 back.
echo "process.env.ASAN_OPTIONS = '$base_asan:detect_leaks=0';" >"$out/child-env.js"
LD_PRELOAD=$libasan ASAN_OPTIONS=$base_asan:detect_leaks=1:log_path=$logdir/asan NODE_OPTIONS="--require $out/child-env.js" \
  node --expose-gc --no-warnings test/fixtures/fuzz-api.js "$result" 7 "${NSFD_ASAN_FUZZ_COUNT:-1500}" >/dev/null 2>&1 || true
# (It exits non-zero whatever happens: LeakSanitizer finds node's own leaks.
# Its result file says whether it ran to the end.)
if ! node -e "const o=require(process.argv[1]); process.exit(o.fatal || o.calls !== Number(process.argv[2]) || o.fdEnd !== o.fdStart ? 1 : 0)" "$result" "${NSFD_ASAN_FUZZ_COUNT:-1500}"; then
  echo "sanitize.sh: the fuzzer failed under ASan (see $logdir)" >&2
  status=1
fi
# One report per process (children that ran our code before exec count too):
# keep the leak records whose stack has a frame in nsfd.node.
ours=$(env -u NSFD_NATIVE_PATH node -e "
  const fs = require('fs');
  let n = 0;
  for (const f of fs.readdirSync(process.argv[1]).filter((f) => f.startsWith('asan'))) {
    const text = fs.readFileSync(process.argv[1] + '/' + f, 'utf8');
    if (/ERROR: AddressSanitizer(?!: detected memory leaks)|runtime error:/.test(text)) { console.error(text); n += 1000; }
    for (const rec of text.split(/\n(?=(?:Direct|Indirect) leak of )/)) {
      if (/^(Direct|Indirect) leak of /.test(rec) && /nsfd\.node/.test(rec)) { console.error(rec.split('\n\n')[0]); n++; }
    }
  }
  console.log(n);
" "$logdir")
echo "sanitize.sh: leak records with an nsfd.node frame: $ours"
[ "$ours" = 0 ] || status=1
[ -f "$result" ] && node -e "const o=require(process.argv[1]); console.log('sanitize.sh: fuzzer under ASan:', o.fatal ? 'FATAL ' + o.fatal : o.calls + ' calls, fds ' + o.fdStart + ' -> ' + o.fdEnd)" "$result"
[ $status = 0 ] && rm -rf "$logdir"
[ $status = 0 ] && echo "sanitize.sh: clean" || echo "sanitize.sh: FAILED ($status)"
exit $status
