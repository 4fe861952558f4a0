#!/usr/bin/env bash
# The native addon under valgrind's memcheck (npm run test:valgrind).
#
# Builds native/*.cc with -g -O1 into build-valgrind/ (build/Release is left
# alone) and runs test/fixtures/fuzz-native.js under memcheck: every native
# function with random and hostile arguments, plus well-formed calls through
# the public API. Node and V8 are noisy under memcheck, so only error and
# definite-leak records with a frame in nsfd.node count; they fail the run.
#
# valgrind 3.19 (Debian 12) has no pidfd_open, pidfd_getfd, pidfd_send_signal
# or clone3: those return ENOSYS here, so the pidfd paths run their error
# branches only (scripts/sanitize.sh covers their success paths under ASan).
# Environment: NSFD_VALGRIND_COUNT (default 3000 calls), NSFD_VALGRIND_SEED.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/build-valgrind
mkdir -p "$out"
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }

nodedir=$(node -p "require('path').resolve(process.execPath, '../../include/node')")
[ -f "$nodedir/node_api.h" ] || nodedir=$(npm config get nodedir 2>/dev/null)/include/node
[ -f "$nodedir/node_api.h" ] || { echo "valgrind.sh: node headers not found" >&2; exit 2; }
addon_api=$(node -p "require('node-addon-api').include_dir")
echo "valgrind.sh: building $out/nsfd.node (-g -O1)"
g++ -std=c++20 -fPIC -shared -g -O1 -fno-omit-frame-pointer -fvisibility=hidden \
  -Wall -Wextra -Wno-missing-field-initializers -Wno-unused-parameter \
  -DNAPI_VERSION=8 -D_GNU_SOURCE -DNODE_ADDON_API_DISABLE_CPP_EXCEPTIONS -DBUILDING_NODE_EXTENSION \
  -I"$nodedir" -I"$addon_api" native/*.cc -o "$out/nsfd.node.tmp"
mv "$out/nsfd.node.tmp" "$out/nsfd.node"

log=$(mktemp -d)
count=${NSFD_VALGRIND_COUNT:-3000}
seed=${NSFD_VALGRIND_SEED:-11}
echo "valgrind.sh: memcheck over test/fixtures/fuzz-native.js ($count calls, seed $seed); slow"
set +e
NSFD_UNDER_VALGRIND=1 NSFD_NATIVE_PATH=$out/nsfd.node valgrind --tool=memcheck --error-exitcode=0 --leak-check=full \
  --show-leak-kinds=definite --errors-for-leak-kinds=definite --num-callers=40 \
  --suppressions="$root/scripts/valgrind-node.supp" --log-file="$log/vg.%p" \
  node --jitless test/fixtures/fuzz-native.js "$seed" "$count" >"$log/out.json" 2>"$log/err.txt"
rc=$?
set -e
status=0
if [ $rc != 0 ] || ! node -e "const o=require(process.argv[1]); process.exit(o.calls === Number(process.argv[2]) && o.leaks.length === 0 && o.other.length === 0 && o.stdIntact && o.valid.failed.length === 0 ? 0 : 1)" "$log/out.json" "$count"; then
  echo "valgrind.sh: the fixture failed under valgrind (exit $rc); see $log" >&2
  cat "$log/err.txt" >&2 || true
  status=1
fi
# Records are separated by "==PID== " blank lines; keep those naming nsfd.node.
ours=$(node -e "
  const fs = require('fs');
  let n = 0, total = 0;
  for (const f of fs.readdirSync(process.argv[1]).filter((f) => f.startsWith('vg.'))) {
    const text = fs.readFileSync(process.argv[1] + '/' + f, 'utf8');
    const recs = text.split(/\n==\d+== \n/);
    for (const r of recs) {
      if (!/==\d+== (Invalid|Conditional|Use of uninitialised|Syscall param|Mismatched|Source and destination|Argument|.*definitely lost)/.test(r)) continue;
      total++;
      if (/nsfd\.node|native\/\w+\.cc/.test(r)) { console.error(r); n++; }
    }
  }
  console.error('valgrind.sh: ' + total + ' error/leak records in all, ' + n + ' with an nsfd.node frame');
  console.log(n);
" "$log")
[ "$ours" = 0 ] || status=1
node -e "const o=require(process.argv[1]); console.log('valgrind.sh: ' + o.calls + ' native calls (' + o.returned + ' returned, ' + o.typeErrors + ' TypeErrors), ' + o.valid.ok + ' well-formed API calls, fds ' + o.fdBefore + ' -> ' + o.fdAfter)" "$log/out.json" || true
[ $status = 0 ] && { rm -rf "$log"; echo "valgrind.sh: clean"; } || echo "valgrind.sh: FAILED (logs in $log)"
exit $status
