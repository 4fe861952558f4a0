#!/usr/bin/env bash
# npm run test:node-versions
#
# Runs the test suite under other Node releases than the one installed:
# the official binaries from npm's node-linux-<arch> packages (default 22
# and 24; the installed Node, 20 in CI, is what `npm test` used). The addon
# is N-API, built once: the same binary must load in each.
#
# Environment:
#   NSFD_NODE_VERSIONS   versions to run (default "22.23.5 24.22.3")
#   NSFD_NODE_DIR        cache of the unpacked binaries (default <repo>/.node-versions)
#   NSFD_NODE_VITEST_ARGS  vitest arguments (default: the whole suite)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
versions=${NSFD_NODE_VERSIONS:-"22.23.5 24.22.3"}
dir=${NSFD_NODE_DIR:-$root/.node-versions}
arch=$(node -p 'process.arch === "arm64" ? "arm64" : "x64"')
mkdir -p "$dir"
status=0
summary=()
for v in $versions; do
  dest=$dir/node-$v
  if ! [ -x "$dest/bin/node" ]; then
    echo "== fetching node-linux-$arch@$v"
    tgz=$(cd "$dir" && npm pack --silent "node-linux-$arch@$v")
    rm -rf "$dest" && mkdir -p "$dest"
    tar -xzf "$dir/$tgz" -C "$dest" --strip-components=1
    rm -f "$dir/$tgz"
  fi
  echo "== node $("$dest/bin/node" --version)"
  start=$(date +%s)
  # vitest's own shebang and every fixture (process.execPath) then run on it.
  # shellcheck disable=SC2086
  if PATH="$dest/bin:$PATH" "$dest/bin/node" node_modules/vitest/vitest.mjs run ${NSFD_NODE_VITEST_ARGS:-}; then
    summary+=("node $v: passed ($(( $(date +%s) - start )) s)")
  else
    summary+=("node $v: FAILED")
    status=1
  fi
done
printf '%s\n' "${summary[@]}"
exit $status
