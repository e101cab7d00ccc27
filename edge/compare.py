"""Does the board give the same answers as the x86 host? ``edge/logits.py`` outputs, and the CLI's, side by side.

Same model files (SHA-256), the same digit on all 10,000 (argmax), and logits within a tolerance:
fp32 kernels on aarch64 (NEON) and x86 (AVX-512) add in different orders, so a float32 rounding
difference is expected, a wrong weight or a wrong feed is not. int8 gets a looser bound: the
integer kernels differ per platform (VNNI on x86, NEON dot products on ARM) in how they requantise,
and one quantisation step of the output is the size of disagreement that is still the same model.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

# max |Δlogit| allowed (logits here span about ±30)
TOLERANCE = {"fp32": 1e-3, "int8": 0.25}


def compare(host: Path, device: Path) -> bool:
    """Print one line per model; True when every model agrees within its tolerance."""
    a, b = np.load(host), np.load(device)
    print(f"parity: {a['machine']} (reference) vs {b['machine']}")
    ok = True
    for key in sorted(k for k in a.files if k.count("-") == 1 and not k.endswith(".sha256")):
        precision = key.split("-")[1]
        same_file = str(a[f"{key}.sha256"]) == str(b[f"{key}.sha256"])
        x, y = a[key], b[key]
        agree = int((x.argmax(1) == y.argmax(1)).sum())
        delta = float(np.abs(x - y).max())
        passed = same_file and x.shape == y.shape and agree == len(x) and delta <= TOLERANCE[precision]
        ok &= passed
        print(
            f"  {key:10s} argmax agreement {agree}/{len(x)} ({100 * agree / len(x):.2f} %), "
            f"max |Δlogit| {delta:.2e} (tolerance {TOLERANCE[precision]:g}), "
            f"same model file: {'yes' if same_file else 'NO'}  {'ok' if passed else 'FAILED'}"
        )
    return ok


def _answers(path: Path) -> list[tuple[str, object, object]]:
    """``digitkit predict --json`` or ``read --json`` output -> (file name, digit or text, status) per picture."""
    data = json.loads(path.read_text())
    if "results" in data:  # predict
        return [(Path(r["file"]).name, r["digit"], r["status"]) for r in data["results"]]
    return [(Path(data["file"]).name, data["text"], [d["digit"] for d in data["digits"]])]  # read


def same_readings(pairs: list[tuple[Path, Path]], label: str) -> bool:
    """The CLI's answers on the pictures, host vs device: the same digits and statuses (confidences may round apart)."""
    ok = True
    for host, device in pairs:
        a, b = _answers(host), _answers(device)
        ok &= a == b
        shown = ", ".join(f"{name}: {answer}" for name, answer, _ in b)
        print(f"readings {label}: {'same' if a == b else 'DIFFERENT'} on aarch64 and x86 ({shown})")
        if a != b:
            print(f"  x86: {a}\n  aarch64: {b}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    logits = sub.add_parser("logits", help="two edge/logits.py .npz files: the reference, then the device's")
    logits.add_argument("host", type=Path)
    logits.add_argument("device", type=Path)
    readings = sub.add_parser("readings", help="pairs of --json outputs of digitkit predict/read: host, device, ...")
    readings.add_argument("files", type=Path, nargs="+")
    readings.add_argument("--label", default="")
    args = parser.parse_args(argv)
    if args.what == "logits":
        return 0 if compare(args.host, args.device) else 1
    if len(args.files) % 2:
        parser.error("readings takes pairs of files: host, device, host, device, ...")
    pairs = list(zip(args.files[::2], args.files[1::2], strict=True))
    return 0 if same_readings(pairs, args.label) else 1


if __name__ == "__main__":
    sys.exit(main())
