"""The device profile: what a headless board pays to start digitkit, and what each model file costs.

One thread, batch 1, fresh processes: a board runs one prediction per command or per camera frame,
on a core it shares, and every command is a cold start. For each install given (a venv made with
``pip install 'digitkit[headless]'``, ``'digitkit[app]'``, or plain ``digitkit``) it measures

- installed size (the venv's site-packages, and the OpenCV wheel's share of it),
- ``digitkit predict PICTURE --threads 1``: wall time from spawn to exit, and the process's peak RSS,
- the model-only path (``Recognizer(threads=1).classify_mnist`` on a 28×28 array), which needs no OpenCV,

interleaving the installs run by run so that load on a shared machine falls on all of them alike.
Then, in the first install, each shipped model file (``.onnx`` / ``.ort``, fp32 / int8, cnn / tiny):
bytes, a fresh process's load + first prediction and peak RSS, and the median batch-1 latency.

    python -m digitkit.benchmarks.device_profile --venv headless=/tmp/v/headless --venv desktop=/tmp/v/desktop

(``make device-profile`` makes the venvs and runs this.) Timings are the host's, named in the output.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parents[1] / "runtime" / "models"
MODEL_FILES = [
    f"digitkit-{name}{precision}{ext}" for name in ("cnn", "tiny") for precision in ("", ".int8") for ext in (".onnx", ".ort")
]  # fmt: skip

MODEL_ONLY = """
import numpy as np
from digitkit.runtime.recognizer import Recognizer
digit = np.zeros((1, 28, 28), np.float32); digit[0, 4:24, 13:15] = 1.0
print(int(Recognizer(threads=1).classify_mnist(digit)[0].argmax()))
"""

DRAW = """
import sys, cv2
from digitkit.benchmarks.inputs import drawing
cv2.imwrite(sys.argv[1], drawing())
"""

ONE_MODEL = """
import json, sys, time
t0 = time.perf_counter()
import numpy as np, onnxruntime as ort
options = ort.SessionOptions(); options.intra_op_num_threads = 1; options.inter_op_num_threads = 1
session = ort.InferenceSession(sys.argv[1], options, providers=["CPUExecutionProvider"])
name = session.get_inputs()[0].name
x = np.random.default_rng(0).random((1, 1, 28, 28), dtype=np.float32)
session.run(None, {name: x})
first = time.perf_counter() - t0
from digitkit.timing import median_ms
median = median_ms(lambda: session.run(None, {name: x}), int(sys.argv[2]), warmup_calls=0)
print(json.dumps({"load_and_first_s": first, "median_ms": median}))
"""


@dataclass
class Run:
    wall_s: float  # spawn to exit, as the user waits
    cpu_s: float  # user + system CPU seconds of the process: what the start costs, less swayed by other load
    peak_rss_mib: float  # the process's own high-water mark (wait4's ru_maxrss)
    out: str


def measured(command: list[str]) -> Run:
    """Spawn ``command`` and reap it with os.wait4, which gives that one child's peak RSS and CPU time.

    Linux starts a child's ru_maxrss at its parent's high-water mark (subprocess uses vfork, and exec
    records the mm it leaves), so the figure is max(this process's peak, the child's own): this
    module imports nothing heavy, and ``main`` reports its own peak as the floor of the figures.
    """
    start = time.perf_counter()
    # from /: a repo checkout in the working directory would shadow the installed package being measured
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd="/")
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.stdout.close()
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({proc.returncode}): {err.strip().splitlines()[-1:]}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out)


def site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python3*/site-packages"))


def du_mib(path: Path) -> float:
    """Bytes on disk under ``path`` (what the install costs a board's storage), in MiB."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                pass
    return total / 2**20


def opencv_of(venv: Path) -> tuple[str, float]:
    """Which OpenCV distribution the venv has, and the MiB of it and its bundled libraries."""
    packages = site_packages(venv)
    for dist in sorted(packages.glob("opencv_python*.dist-info")):
        name = dist.name.split("-")[0].replace("_", "-")
        size = du_mib(packages / "cv2") + sum(du_mib(p) for p in packages.glob("opencv_python*.libs"))
        return name, size
    return "none", 0.0


def profile_installs(venvs: dict[str, Path], picture: Path, repeats: int) -> dict[str, dict]:
    """Cold start and peak RSS of `digitkit predict` and of the model-only path, per install, interleaved."""
    runs: dict[str, dict[str, list]] = {label: {"predict": [], "model_only": []} for label in venvs}
    for venv in venvs.values():  # one warm-up each: the page cache, not the process, should be warm
        measured([str(venv / "bin" / "python"), "-c", MODEL_ONLY])
        if opencv_of(venv)[0] != "none":
            measured([str(venv / "bin" / "digitkit"), "predict", str(picture), "--threads", "1"])
    for _ in range(repeats):
        for label, venv in venvs.items():
            if opencv_of(venv)[0] != "none":
                runs[label]["predict"].append(
                    measured([str(venv / "bin" / "digitkit"), "predict", str(picture), "--threads", "1"])
                )
            runs[label]["model_only"].append(measured([str(venv / "bin" / "python"), "-c", MODEL_ONLY]))
    result = {}
    for label, venv in venvs.items():
        opencv, opencv_mib = opencv_of(venv)
        row = {"site_packages_mib": du_mib(site_packages(venv)), "opencv": opencv, "opencv_mib": opencv_mib}
        for kind, samples in runs[label].items():
            if samples:
                row[f"{kind}_s"] = statistics.median(r.wall_s for r in samples)
                row[f"{kind}_cpu_s"] = statistics.median(r.cpu_s for r in samples)
                row[f"{kind}_peak_rss_mib"] = statistics.median(r.peak_rss_mib for r in samples)
                row[f"{kind}_s_range"] = [min(r.wall_s for r in samples), max(r.wall_s for r in samples)]
        result[label] = row
    return result


def profile_models(python: Path, repeats: int, calls: int) -> list[dict]:
    """Each shipped model file in a fresh process: bytes, load + first prediction, peak RSS, median batch-1 call."""
    rows = []
    for name in MODEL_FILES:
        path = MODELS_DIR / name
        if not path.is_file():
            continue
        samples = [measured([str(python), "-c", ONE_MODEL, str(path), str(calls)]) for _ in range(repeats)]
        inner = [json.loads(r.out) for r in samples]
        rows.append(
            {
                "file": name,
                "bytes": path.stat().st_size,
                "load_and_first_ms": 1000 * statistics.median(i["load_and_first_s"] for i in inner),
                "batch1_ms": statistics.median(i["median_ms"] for i in inner),
                "process_s": statistics.median(r.wall_s for r in samples),
                "peak_rss_mib": statistics.median(r.peak_rss_mib for r in samples),
            }
        )
    return rows


def _own_peak_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def host() -> str:
    from digitkit.export.cpu import parse_cpuinfo  # the one reader of /proc/cpuinfo

    model = parse_cpuinfo()[0] or platform.processor()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{platform.node()} ({model}, {os.cpu_count()} CPUs, {platform.machine()}; load average {load})"


def markdown(installs: dict[str, dict], models: list[dict], where: str, repeats: int) -> str:
    lines = [
        f"Measured on {where}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; median of {repeats} fresh "
        "processes per figure (after one warm-up: a warm page cache, a cold process), one thread, batch 1.",
        "",
        "| install | OpenCV | site-packages | of it OpenCV | `digitkit predict` one PNG: wall (range), CPU, peak RSS | model only (28×28 array): wall, CPU, peak RSS |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for label, r in installs.items():
        predict = (
            f"{r['predict_s']:.3f} s ({r['predict_s_range'][0]:.3f}–{r['predict_s_range'][1]:.3f}), "
            f"{r['predict_cpu_s']:.3f} s, {r['predict_peak_rss_mib']:.0f} MiB"
            if "predict_s" in r
            else "needs an OpenCV extra"
        )
        lines.append(
            f"| {label} | {r['opencv']} | {r['site_packages_mib']:.0f} MiB | {r['opencv_mib']:.0f} MiB | {predict} | "
            f"{r['model_only_s']:.3f} s, {r['model_only_cpu_s']:.3f} s, {r['model_only_peak_rss_mib']:.0f} MiB |"
        )
    lines += [
        "",
        "| model file | bytes | fresh process: load + first prediction | peak RSS | batch 1, 1 thread (median) |",
        "|---|---:|---:|---:|---:|",
    ]
    for m in models:
        lines.append(
            f"| `{m['file']}` | {m['bytes']:,} | {m['load_and_first_ms']:.1f} ms | {m['peak_rss_mib']:.0f} MiB | {m['batch1_ms']:.3f} ms |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", action="append", required=True, metavar="LABEL=PATH", help="an install to profile")
    parser.add_argument("--picture", type=Path, help="a PNG for digitkit predict (default: a drawn digit)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--calls", type=int, default=2000, help="batch-1 calls per model for the median latency")
    parser.add_argument("--out", type=Path, help="folder for device_profile.json and device_profile.md")
    args = parser.parse_args(argv)
    venvs = {label: Path(path).absolute() for label, path in (v.split("=", 1) for v in args.venv)}
    picture = args.picture
    if picture is None:  # drawn in a child: this process must stay small (see ``measured``)
        picture = Path(tempfile.gettempdir()) / "digitkit-device-profile.png"
        subprocess.run([sys.executable, "-c", DRAW, str(picture)], check=True)
    where = host()
    print(f"device profile on {where}", flush=True)
    installs = profile_installs(venvs, picture, args.repeats)
    models = profile_models(next(iter(venvs.values())) / "bin" / "python", max(3, args.repeats // 2), args.calls)
    floor = _own_peak_rss_mib()
    table = markdown(installs, models, where, args.repeats)
    table += f"\nPeak RSS figures cannot read below {floor:.0f} MiB, this measuring process's own peak.\n"
    print(table)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "device_profile.json").write_text(
            json.dumps({"host": where, "rss_floor_mib": floor, "installs": installs, "models": models}, indent=1) + "\n"
        )
        (args.out / "device_profile.md").write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
