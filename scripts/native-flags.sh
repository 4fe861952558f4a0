# Sourced by sanitize.sh and valgrind.sh: the node headers and the compiler
# flags for building the addon by hand (as binding.gyp does, at -O1 -g with
# frame pointers for readable reports). Sets nodedir, addon_api and the
# array native_cflags; $1 names the caller in errors.
nodedir=$(node -p "require('path').resolve(process.execPath, '../../include/node')")
[ -f "$nodedir/node_api.h" ] || nodedir=$(npm config get nodedir 2>/dev/null)/include/node
[ -f "$nodedir/node_api.h" ] || { echo "$1: node headers not found" >&2; exit 2; }
addon_api=$(node -p "require('node-addon-api').include_dir")
native_cflags=(-std=c++20 -fPIC -g -O1 -fno-omit-frame-pointer
  -fvisibility=hidden -Wall -Wextra -Wno-missing-field-initializers -Wno-unused-parameter
  -DNAPI_VERSION=8 -D_GNU_SOURCE -DNODE_ADDON_API_DISABLE_CPP_EXCEPTIONS -DBUILDING_NODE_EXTENSION
  -I"$nodedir" -I"$addon_api")
# The addon carries nsfd-init (native/initblob.cc) as binding.gyp's build
# does, when node-gyp has built it: without it a container run from
# compiled code (a fixture under dist-dev/) finds no init.
init_bin=$PWD/build/Release/nsfd-init
[ -x "$init_bin" ] && native_cflags+=("-DNSFD_INIT_BIN=\"$init_bin\"")
