#!/usr/bin/env bash
# An arm64 Debian root that runs on this x86 machine under QEMU user-mode emulation; made once, then cached.
#
#   edge/rootfs.sh CACHE_DIR      -> CACHE_DIR/rootfs (Debian bookworm arm64, minbase + python3 + venv)
#
# The kernel's binfmt_misc hands every aarch64 ELF file to qemu-aarch64-static; its F flag ("fix binary")
# opens the emulator when the handler is registered, so that it also works inside the chroot, where the
# emulator's path does not exist. Needs root (binfmt registration, debootstrap, chroot).
set -euo pipefail
CACHE=${1:?usage: edge/rootfs.sh CACHE_DIR}
ROOT=$CACHE/rootfs
SUITE=${EDGE_SUITE:-bookworm}                       # Python 3.11, the same minor version as the x86 venv here
MIRROR=${EDGE_MIRROR:-http://deb.debian.org/debian}
BINFMT=/proc/sys/fs/binfmt_misc
say() { echo "edge-check: $*"; }

[ "$(id -u)" = 0 ] || { say "needs root (binfmt_misc, debootstrap, chroot)"; exit 1; }
if ! command -v qemu-aarch64-static >/dev/null || ! command -v debootstrap >/dev/null; then
	say "installing qemu-user-static and debootstrap with apt-get"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static debootstrap >/dev/null
fi

# register aarch64 with the kernel (a container may not have binfmt_misc mounted yet)
[ -e "$BINFMT/register" ] || mount -t binfmt_misc binfmt_misc "$BINFMT"
if [ ! -e "$BINFMT/qemu-aarch64" ]; then
	conf=/usr/lib/binfmt.d/qemu-aarch64.conf
	[ -r "$conf" ] || { say "no $conf (is qemu-user-static installed?)"; exit 1; }
	grep -v '^#' "$conf" >"$BINFMT/register"
	say "registered qemu-aarch64 with binfmt_misc ($(sed -n 's/^flags: //p' "$BINFMT/qemu-aarch64") flags)"
fi
grep -q '^enabled' "$BINFMT/qemu-aarch64" || echo 1 >"$BINFMT/qemu-aarch64"
grep -q '^flags:.*F' "$BINFMT/qemu-aarch64" || {
	say "the qemu-aarch64 handler lacks the F flag: aarch64 programs cannot start inside a chroot"
	say "fix: echo -1 > $BINFMT/qemu-aarch64, then run this again"
	exit 1
}

if [ ! -e "$ROOT/.digitkit-edge-root" ]; then  # written last: a root from a killed debootstrap is made again
	say "making an arm64 Debian $SUITE root in $ROOT (debootstrap, a few minutes, once)"
	rm -rf "$ROOT.tmp"
	mkdir -p "$CACHE"
	debootstrap --arch=arm64 --variant=minbase --include=python3,python3-venv \
		"$SUITE" "$ROOT.tmp" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
		|| { tail -5 "$CACHE/debootstrap.log"; say "debootstrap failed (log: $CACHE/debootstrap.log)"; exit 1; }
	touch "$ROOT.tmp/.digitkit-edge-root"
	rm -rf "$ROOT"
	mv "$ROOT.tmp" "$ROOT"
fi
