#!/usr/bin/env bash
# make edge-check: the runtime on linux/aarch64 (QEMU user-mode emulation), installed as a device user would,
# and the same answers as on this x86 host.
#
#  1. an arm64 Debian root (edge/rootfs.sh, cached) and, in it, a venv: pip install 'digitkit[headless]'
#     from a wheel built from this tree now (so its models are the tree's) and the aarch64 wheels of its
#     dependencies (pip download --platform, cached; pip inside the root installs them offline)
#  2. digitkit predict and digitkit read on pictures, on both machines, the same digits
#  3. the models' logits on all 10,000 MNIST test digits, fp32 and int8, x86 vs aarch64 (edge/compare.py),
#     on a Raspberry Pi 4's CPU (QEMU's cortex-a72: NEON, no int8 dot product; EDGE_CPUS="cortex-a72 max" adds
#     QEMU's "max" CPU, whose int8 kernels use the dot-product instructions)
#
# Seconds printed for aarch64 are emulated (QEMU on x86): they are not device timings.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
HOST_PY=${HOST_PY:-$REPO/.venv/bin/python}
HOST_PY=$(cd "$(dirname "$HOST_PY")" && pwd)/$(basename "$HOST_PY")  # absolute: the steps below change directory
CACHE=${EDGE_CACHE:-/var/cache/digitkit-edge}
CPUS=${EDGE_CPUS:-cortex-a72}       # QEMU CPU models for the parity: a Raspberry Pi 4's; "max" has int8 dot products
MODELS=${EDGE_MODELS:-cnn-fp32 cnn-int8}  # ~6 min each under QEMU here; add tiny-fp32 tiny-int8 for the tiny model
ROOT=$CACHE/rootfs
WORK=$ROOT/edge                      # /edge inside the root
say() { echo "edge-check: $*"; }
# QEMU user mode gives no aarch64 /proc/cpuinfo nor the chroot a /sys: onnxruntime's cpuinfo says so on every
# start (a real board has both). Counted once instead of repeated on every command.
quiet() { grep -v -e 'cpuinfo' -e 'cpuid_info' || true; }
mkdir -p "$CACHE"
exec > >(tee "$CACHE/edge-check.log") 2>&1  # the whole run, also kept in the cache
in_root() {  # a command inside the arm64 root, with a clean environment
	chroot "$ROOT" /usr/bin/env -i -C /edge PATH=/opt/digitkit/bin:/usr/bin:/bin HOME=/root LANG=C.UTF-8 \
		${QEMU_CPU:+QEMU_CPU=$QEMU_CPU} OMP_NUM_THREADS=1 "$@"
}

"$REPO/edge/rootfs.sh" "$CACHE"
mkdir -p "$WORK"

# --- 1. the install ------------------------------------------------------------------------------------
say "building the digitkit wheel from $REPO (its runtime/models as they are now)"
rm -rf "$CACHE/dist"
"$HOST_PY" -m pip wheel -q --no-deps -w "$CACHE/dist" "$REPO" >"$CACHE/wheel.log" 2>&1 \
	|| { tail -20 "$CACHE/wheel.log"; exit 1; }
WHEEL=$(ls "$CACHE"/dist/digitkit-*.whl)
PYVER=$(in_root python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
say "fetching the aarch64 wheels of digitkit[headless]'s dependencies for CPython $PYVER (cached in $CACHE/wheels-aarch64)"
"$HOST_PY" -m pip download -q --only-binary=:all: --python-version "$PYVER" --implementation cp \
	--platform manylinux_2_28_aarch64 --platform manylinux2014_aarch64 \
	-d "$CACHE/wheels-aarch64" "$WHEEL[headless]" 2>&1 | grep -v "is ignored: it is neither" || true
rm -f "$CACHE"/wheels-aarch64/digitkit-*.whl

rm -rf "$WORK" && mkdir -p "$WORK/wheels" "$WORK/out"
cp -l "$CACHE"/wheels-aarch64/*.whl "$WORK/wheels/" 2>/dev/null || cp "$CACHE"/wheels-aarch64/*.whl "$WORK/wheels/"
cp "$WHEEL" "$WORK/wheels/"
cp "$REPO/edge/logits.py" "$WORK/"

deps=$(cd "$CACHE/wheels-aarch64" && ls *.whl | sha256sum | cut -c1-16)
if [ "${EDGE_FRESH:-0}" = 1 ] || [ "$(cat "$ROOT/opt/digitkit/.deps" 2>/dev/null)" != "$deps" ]; then
	say "aarch64: python3 -m venv /opt/digitkit && pip install 'digitkit[headless]' (a fresh venv, minutes under QEMU)"
	in_root rm -rf /opt/digitkit
	in_root python3 -m venv /opt/digitkit
	in_root pip install -q --no-index --find-links /edge/wheels 'digitkit[headless]'
	echo "$deps" >"$ROOT/opt/digitkit/.deps"
else
	say "aarch64: pip install --force-reinstall --no-deps digitkit (the venv's other wheels are unchanged; EDGE_FRESH=1 remakes it)"
	in_root pip install -q --no-index --force-reinstall --no-deps "/edge/wheels/$(basename "$WHEEL")"
fi
say "aarch64 venv: $(in_root du -sh /opt/digitkit | cut -f1); $(in_root pip list 2>/dev/null | grep -iE '^(digitkit|numpy|onnxruntime|opencv|pillow)' | tr -s ' ' | paste -sd, -)"
in_root pip list 2>/dev/null | grep -qi '^opencv-python ' && { say "FAILED: the headless install pulled opencv-python (GUI libraries)"; exit 1; }
say "the interpreter: $(in_root uname -m), $(in_root python -c 'import platform, sys; print(platform.machine(), sys.version.split()[0], sys.executable)'), $(file -b "$ROOT/usr/bin/python3.11" | cut -d, -f1-2)"

# --- 2. pictures through the CLI ---------------------------------------------------------------------
say "inputs: the 10,000 MNIST test digits and pictures made from them"
"$HOST_PY" "$REPO/edge/inputs.py" "$WORK/in"
export QEMU_CPU=${CPUS%% *}
cli() {  # cli MACHINE ARGS...: digitkit from /edge (relative paths name the same files on both machines)
	local machine=$1
	shift
	if [ "$machine" = x86_64 ]; then (cd "$WORK" && "$(dirname "$HOST_PY")/digitkit" "$@"); else in_root digitkit "$@"; fi
}
status=0
cd "$WORK"
for precision in fp32 int8; do
	for machine in x86_64 aarch64; do
		cli $machine predict --json --threads 1 --precision $precision in/single-*.png >"out/predict-$precision-$machine.json" 2> >(quiet >&2)
		cli $machine read --json --threads 1 --precision $precision in/page.png >"out/read-$precision-$machine.json" 2> >(quiet >&2)
	done
	"$HOST_PY" "$REPO/edge/compare.py" readings --label "$precision" \
		out/predict-$precision-x86_64.json out/predict-$precision-aarch64.json \
		out/read-$precision-x86_64.json out/read-$precision-aarch64.json || status=1
done
say "aarch64 ($QEMU_CPU), as a device user sees it:"
cli aarch64 predict in/single-0.png in/single-1.png --top 2 2> >(quiet >&2) | sed 's/^/    $ digitkit predict ... -> /'
cli aarch64 read in/page.png 2> >(quiet >&2) | sed 's/^/    $ digitkit read in\/page.png -> /'

# --- 3. the models on all 10,000 test digits ---------------------------------------------------------
"$HOST_PY" "$REPO/edge/logits.py" "$WORK/in/digits.npy" "$WORK/out/x86_64.npz" --models $MODELS
for cpu in $CPUS; do
	say "aarch64 on QEMU's $cpu CPU (seconds below are emulated, not device timings):"
	QEMU_CPU=$cpu in_root python /edge/logits.py /edge/in/digits.npy "/edge/out/aarch64-$cpu.npz" --models $MODELS 2>&1 | quiet
	"$HOST_PY" "$REPO/edge/compare.py" logits "$WORK/out/x86_64.npz" "$WORK/out/aarch64-$cpu.npz" || status=1
done
[ $status = 0 ] && say "PASSED: aarch64 gives the x86 answers" || say "FAILED"
exit $status
