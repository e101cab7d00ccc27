"""How fast the camera pipeline runs on one core: frames per second at 640x480.

    python -m digitkit.runtime.app.bench [--video webcam.avi] [--model M] [--precision int8]

Per frame it times what the app does with a camera frame: ``process_frame``
(find the digits, classify them in one batch, group them) and ``stream_screen``
(draw the overlay); decoding is timed apart (a camera delivers decoded frames).
OpenCV and onnxruntime get one thread and the process is pinned to one CPU, so
the figure is for one core. Without ``--video`` the frames are a page with a
five-digit number in two lines, written with OpenCV's script font under a
light gradient and noise (no training data needed).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import cv2
import numpy as np


def synthetic_frames(count: int = 60, seed: int = 0) -> list[np.ndarray]:
    """640x480 pages with five handwritten-looking digits (two numbers), uneven light and noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:480, 0:640].astype(np.float32)
    frames = []
    for _ in range(count):
        page = np.full((480, 640), 235, np.float32)
        digits = "".join(str(d) for d in rng.integers(0, 10, 5))
        for text, (x, y) in ((digits[:3], (150, 190)), (digits[3:], (200, 370))):
            layer = np.zeros((480, 640), np.uint8)
            cv2.putText(layer, " ".join(text), (x, y), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 3.0, 255, 6, cv2.LINE_AA)
            page -= layer.astype(np.float32) * (200 / 255)
        page *= 1.0 - 0.35 * (xx / 640) * (yy / 480)
        page += rng.normal(0, 4, page.shape)
        frames.append(cv2.cvtColor(np.clip(page, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR))
    return frames


def video_frames(path: str, limit: int) -> tuple[list[np.ndarray], list[float]]:
    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
        raise SystemExit(f"cannot open {path}")
    frames: list[np.ndarray] = []
    decode: list[float] = []
    while len(frames) < limit:
        start = time.perf_counter()
        ok, frame = capture.read()
        if not ok:
            break
        decode.append(time.perf_counter() - start)
        frames.append(frame)
    capture.release()
    return frames, decode


def one_core() -> str:
    cv2.setNumThreads(1)
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity here)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", default=None, help="a 640x480 video to take the frames from")
    parser.add_argument("--frames", type=int, default=80)
    parser.add_argument("--repeat", type=int, default=3, help="passes over the frames (the best pass counts)")
    parser.add_argument("--model", default=None)
    parser.add_argument("--precision", default="fp32", choices=("fp32", "int8"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    pinning = one_core()
    from digitkit.runtime.recognizer import Recognizer

    from .frames import process_frame
    from .models import model_for
    from .render import stream_screen

    recognizer = Recognizer(model_for(args.model, args.precision), precision=args.precision, threads=1)
    if args.video:
        frames, decode = video_frames(args.video, args.frames)
    else:
        frames, decode = synthetic_frames(args.frames), []
    process_frame(frames[0], recognizer)  # warm up
    passes = []
    cpu_start = time.process_time()
    wall_start = time.perf_counter()
    for _ in range(args.repeat):
        process, render, found = [], [], []
        for frame in frames:
            start = time.perf_counter()
            result = process_frame(frame, recognizer)
            middle = time.perf_counter()
            stream_screen(frame, result, source="bench", fps=30.0)
            process.append(middle - start)
            render.append(time.perf_counter() - middle)
            found.append(len(result.digits))
        passes.append((sum(process) + sum(render), process, render, found))
    cpu_per_frame = (time.process_time() - cpu_start) / (args.repeat * len(frames))
    wall_per_frame = (time.perf_counter() - wall_start) / (args.repeat * len(frames))
    _, process, render, found = min(passes, key=lambda p: p[0])
    per_frame = statistics.fmean(process) + statistics.fmean(render)
    report = {
        "frames": len(frames),
        "size": f"{frames[0].shape[1]}x{frames[0].shape[0]}",
        "source": args.video or "synthetic script-font pages",
        "model": recognizer.model_path.name,
        "digits_per_frame": statistics.fmean(found),
        "process_ms_median": 1000 * statistics.median(process),
        "render_ms_median": 1000 * statistics.median(render),
        "decode_ms_median": 1000 * statistics.median(decode) if decode else None,
        "fps": 1.0 / per_frame,  # wall clock, best pass (other processes on the core slow it down)
        "fps_cpu_time": 1.0 / cpu_per_frame,  # from this process's CPU time: the rate of a dedicated core
        "cpu_busy_share": cpu_per_frame / wall_per_frame,  # < 1: the core was shared with others
        "fps_with_decode": 1.0 / (per_frame + statistics.fmean(decode)) if decode else None,
        "cpu": pinning,
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"{report['size']}, {report['digits_per_frame']:.1f} digits/frame, {report['model']}, 1 thread, {pinning}: "
            f"{report['fps']:.1f} FPS wall clock (process {report['process_ms_median']:.2f} ms + draw {report['render_ms_median']:.2f} ms median"
            + (f"; {report['fps_with_decode']:.1f} FPS counting MJPG decoding" if decode else "")
            + f"), {report['fps_cpu_time']:.1f} FPS by CPU time (this process had {100 * report['cpu_busy_share']:.0f}% of the core)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
