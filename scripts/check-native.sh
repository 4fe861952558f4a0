#!/usr/bin/env bash
# Syntax/warning check of native/*.cc (or the files given) without a full
# node-gyp build: quick, and safe to run while someone else builds.
set -euo pipefail
cd "$(dirname "$0")/.."
nodeinc=$(node -p "require('path').join(process.execPath, '../../include/node')")
[ -f "$nodeinc/node_api.h" ] || nodeinc=/usr/include/node
files=("$@"); [ ${#files[@]} -gt 0 ] || files=(native/*.cc)
for f in "${files[@]}"; do
  g++ -std=c++20 -fsyntax-only -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
    -D_GNU_SOURCE -DNAPI_VERSION=8 -DNAPI_DISABLE_CPP_EXCEPTIONS \
    -I"$nodeinc" -Inode_modules/node-addon-api "$f"
done
echo "native syntax ok: ${files[*]}"
