"""Cold start: a fresh process per backend, from import to the first prediction.

What a user waits for when a command or an app starts: the interpreter,
importing the inference library, loading the model, and the first call
(which is slower than the rest: memory is allocated, kernels are picked).
Each is timed inside a child process, together with the child's peak
resident memory (VmHWM), and the parent times the whole process from spawn
to exit.

This module is also the child (``python -m digitkit.benchmarks.cold_start``),
so it imports nothing heavy at module level.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _peak_rss_mib() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20


def _child(kind: str, model: str, height: int, width: int) -> dict:
    """Runs in the fresh process: import, load, first prediction, each timed."""
    t0 = time.perf_counter()
    if kind in ("onnxruntime", "onnxruntime-cuda"):
        import numpy as np
        import onnxruntime

        t1 = time.perf_counter()
        providers = ["CUDAExecutionProvider"] if kind == "onnxruntime-cuda" else []
        session = onnxruntime.InferenceSession(model, providers=[*providers, "CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        t2 = time.perf_counter()
        out = session.run(None, {name: np.zeros((1, 1, height, width), np.float32)})[0]
    elif kind == "openvino":
        import numpy as np
        import openvino

        t1 = time.perf_counter()
        compiled = openvino.Core().compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
        t2 = time.perf_counter()
        out = compiled({0: np.zeros((1, 1, height, width), np.float32)})[compiled.output(0)]
    elif kind == "opencv":
        import cv2
        import numpy as np

        t1 = time.perf_counter()
        net = cv2.dnn.readNetFromONNX(model)
        t2 = time.perf_counter()
        net.setInput(np.zeros((1, 1, height, width), np.float32))
        out = net.forward()
    elif kind in ("torch", "torch-compile"):
        import numpy as np
        import torch

        import digitkit.train.model  # noqa: F401  (the classes of the pickled module)

        t1 = time.perf_counter()
        module = torch.load(model, weights_only=False).eval()
        if kind == "torch-compile":
            module = torch.compile(module, dynamic=False)
        t2 = time.perf_counter()
        with torch.inference_mode():
            out = module(torch.zeros((1, 1, height, width))).numpy()
    elif kind == "torch-checkpoint":  # a training checkpoint, as a PyTorch user would load it
        import numpy as np
        import torch

        from digitkit.train.checkpoint import model_from_checkpoint

        t1 = time.perf_counter()
        torch.set_num_threads(1)
        module = model_from_checkpoint(model)[0].eval()
        t2 = time.perf_counter()
        with torch.inference_mode():
            out = module(torch.zeros((1, 1, height, width))).numpy()
    elif kind == "recognizer":
        import numpy as np

        from digitkit.benchmarks.inputs import drawing
        from digitkit.runtime.recognizer import Recognizer

        picture = drawing()
        t1 = time.perf_counter()
        recognizer = Recognizer(model)
        t2 = time.perf_counter()
        out = recognizer.predict(picture).probabilities
    else:
        raise SystemExit(f"unknown cold-start kind {kind!r}")
    t3 = time.perf_counter()
    return {
        "import_s": t1 - t0,
        "load_s": t2 - t1,
        "first_prediction_s": t3 - t2,
        "in_process_s": t3 - t0,
        "peak_rss_mib": _peak_rss_mib(),
        "output_shape": list(np.asarray(out).shape),
        # what the runtime must never pull in (a device install has none of it)
        "heavy_modules": sorted(m for m in ("torch", "torchvision", "sklearn", "matplotlib") if m in sys.modules),
    }


def measure(kind: str, model: Path, height: int = 28, width: int = 28, timeout: float = 300) -> dict:
    """One fresh process: the child's own timings plus the wall time from spawn to exit."""
    command = [sys.executable, "-m", "digitkit.benchmarks.cold_start", kind, str(model), str(height), str(width)]
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="digitkit-cold-") as cache:
        # torch.compile keeps compiled kernels on disk between processes: an empty cache makes it a real cold start
        env["TORCHINDUCTOR_CACHE_DIR"] = cache
        start = time.perf_counter()
        proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
        wall = time.perf_counter() - start
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
        raise RuntimeError(lines[-1] if lines else f"exit status {proc.returncode}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_wall_s"] = wall
    result["interpreter_s"] = max(0.0, wall - result["in_process_s"])  # interpreter start-up and exit
    return result


def measure_median(kind: str, model: Path, repeats: int, height: int = 28, width: int = 28) -> dict:
    """The run with the median wall time of ``repeats`` fresh processes (rounded for the JSON)."""
    runs = sorted((measure(kind, model, height, width) for _ in range(repeats)), key=lambda r: r["process_wall_s"])
    chosen = runs[len(runs) // 2]
    rounded = {k: round(v, 4) if isinstance(v, float) else v for k, v in chosen.items()}
    rounded["repeats"] = repeats
    return rounded


if __name__ == "__main__":
    _kind, _model, _h, _w = sys.argv[1:5]
    print(json.dumps(_child(_kind, _model, int(_h), int(_w))))
