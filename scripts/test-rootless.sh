#!/usr/bin/env bash
# npm run test:rootless (as root): the suite as an unprivileged user, the
# way a contributor without root runs it. Copies the work tree (sources,
# node_modules, the built addon, dist/ and dist-dev/) into a fresh directory owned by
# that user and runs vitest there as that user, with no capabilities and no
# supplementary groups. Exit status: vitest's.
#
#   NSFD_ROOTLESS_USER   the user (default nobody)
#   NSFD_ROOTLESS_DIR    where the copy goes (default: a new dir under /tmp)
#   Arguments are passed to vitest (e.g. a test file).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
user=${NSFD_ROOTLESS_USER:-nobody}
[ "$(id -u)" = 0 ] || { echo "test:rootless: run as root (it switches to $user itself); as a user, run npm test" >&2; exit 2; }
uid=$(id -u "$user")
gid=$(id -g "$user")
dir=${NSFD_ROOTLESS_DIR:-$(mktemp -d /tmp/nsfd-rootless.XXXXXX)}
home=$dir/.home
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/tree" "$home"
( cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | xargs -0 tar -cf - ) | tar -xf - -C "$dir/tree"
for d in node_modules build dist dist-dev; do cp -a "$ROOT/$d" "$dir/tree/"; done
chown -R "$uid:$gid" "$dir"
chmod 0755 "$dir"
cd "$dir/tree"
# Root's PATH without the directories that user may not search (/root/...):
# an execvp-style lookup reports EACCES for those, which no contributor sees.
path=
IFS=: read -ra dirs <<<"$PATH"
for d in "${dirs[@]}"; do
  setpriv --reuid="$uid" --regid="$gid" --clear-groups test -x "$d" 2>/dev/null && path=${path:+$path:}$d
done
echo "== vitest as $user ($uid:$gid) in $dir/tree"
setpriv --reuid="$uid" --regid="$gid" --clear-groups --inh-caps=-all --bounding-set=-all \
  env -i PATH="$path" HOME="$home" TMPDIR=/tmp CI="${CI:-}" NSFD_TEST_TIMEOUT_MS="${NSFD_TEST_TIMEOUT_MS:-30000}" \
  NSFD_TEST_RETRY="${NSFD_TEST_RETRY:-0}" NSFD_TEST_OUTCOME="${NSFD_TEST_OUTCOME:-}" \
  node node_modules/vitest/vitest.mjs run "$@" </dev/null
