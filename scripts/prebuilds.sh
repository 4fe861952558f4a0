#!/usr/bin/env bash
# npm run prebuilds: prebuilt addons for the package, so that it installs
# with no compiler (and with --ignore-scripts): linux-x64 and linux-arm64,
# glibc, N-API (one binary for every Node version). arm64 is cross-compiled
# with Debian's g++-aarch64-linux-gnu (installed when missing, as root).
# musl is not built: no musl toolchain or Node to test it with here.
set -euo pipefail
cd "$(dirname "$0")/.."
host=$(node -p process.arch)
npx prebuildify --napi --strip --tag-libc
if [ "$host" = x64 ]; then
  if ! command -v aarch64-linux-gnu-g++ >/dev/null; then
    apt-get install -y -qq --no-install-recommends g++-aarch64-linux-gnu
  fi
  CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar \
    PREBUILD_STRIP_BIN=aarch64-linux-gnu-strip npx prebuildify --napi --strip --tag-libc --arch arm64
fi
# prebuildify rebuilt build/ for the last architecture: put the host's back.
npx node-gyp rebuild >/dev/null
find prebuilds -name '*.node' -exec file {} \;
