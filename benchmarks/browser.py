"""The web page (web/) measured in headless Chromium: parity with Python, latency, load time, weight.

    python -m digitkit.benchmarks.browser                  # everything below, 500 drawings
    python -m digitkit.benchmarks.browser --parity 100 --runs 100 --screenshot docs/web.png

* parity: drawings made with the app's pen (the strokes of tests/app_strokes.py, varied in size, slant, angle,
  place and wobble) drawn by the browser's canvas and read by the page, and drawn by the app's ``Canvas``
  (OpenCV) and read by ``to_mnist`` and the Recognizer: the 28×28s' mean absolute difference (0-255) and how
  often the digits agree. The same OpenCV pictures are also given to the page's port (``mnistOf``), which shows
  what is the port's and what is the two canvases' antialiasing.
* latency: the model alone, batch 1, in the page (WebAssembly, 1 thread and all threads) beside onnxruntime's CPU
  provider in this Python process, same input, same host, same run.
* the page: time from opening it to its first answer (runtime and model loaded, a first inference run), time
  from a stroke's end to the answer, its weight in bytes.

Needs chromium and chromedriver (`make web-deps`), selenium (the dev extra) and web/dist (`make web`).
"""

from __future__ import annotations

import argparse
import base64
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from digitkit.runtime.errors import DigitkitError
from digitkit.timing import median_ms

REPO = Path(__file__).resolve().parents[1]
# flags that work in a container without a display, a GPU or a network
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
MODEL_JSON = {"int8": "models/digitkit-cnn.int8.json", "fp32": "models/digitkit-cnn.json"}
Stroke = list[tuple[int, int]]


# -- the browser --------------------------------------------------------------------------------------------------
def browser_missing() -> str | None:
    """Why the page cannot be opened here (one line), or None."""
    try:
        import selenium  # noqa: F401
    except ModuleNotFoundError:
        return "selenium is not installed (pip install -e '.[dev]')"
    for program in ("chromium", "chromedriver"):
        if shutil.which(program) is None:
            return f"{program} is not installed (make web-deps, as root)"
    return None


def page_missing(dist: Path | None = None) -> str | None:
    """Why web/dist cannot be served (one line), or None."""
    from digitkit.runtime import webpage

    dist = dist or webpage.dist_dir()
    return None if webpage.built(dist) else f"{dist} is not built ({webpage.MAKE_WEB})"


@contextmanager
def chromium(width: int = 900, height: int = 760) -> Iterator[Any]:
    """A headless Chromium driven by the system's chromedriver, with a fresh profile; DigitkitError when missing."""
    reason = browser_missing()
    if reason:
        raise DigitkitError(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="digitkit-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=shutil.which("chromedriver")))
    driver.set_script_timeout(300)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def open_page(driver: Any, url: str, threads: str | int = "all") -> dict:
    """Open the page and wait until it is ready: ``ready`` (ms from opening it to its first answer), ``state``,
    ``note`` (what the page says) and ``isolated`` (cross-origin isolated: WebAssembly threads allowed)."""
    driver.get(f"{url}?threads={threads}")
    state = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "const wait = () => window.digitkit && window.digitkit.ready"
        "  ? window.digitkit.ready.then(() => done({ready: window.digitkit.page.timings.ready,"
        "      state: document.getElementById('answer').dataset.state, note: document.getElementById('note').textContent,"
        "      isolated: crossOriginIsolated}))"
        "  : setTimeout(wait, 10);"
        "wait();"
    )
    if state["state"] == "error" or state["ready"] is None:
        raise DigitkitError(f"the page did not start: {state['note']}")
    return state


def read_strokes(driver: Any, drawings: list[list[Stroke]], pen: int, size: int = 280, model: str = "int8") -> list:
    """The page's answers for several drawings (each a list of strokes), in one call."""
    return driver.execute_async_script(
        "const [drawings, pen, size, model, done] = arguments;"
        "(async () => { const out = [];"
        "  for (const strokes of drawings) out.push(await window.digitkit.readStrokes(strokes,"
        "    {width: size, height: size, pen, model}));"
        "  return out; })().then(done, (e) => done({error: String(e)}));",
        [[list(map(list, s)) for s in strokes] for strokes in drawings],
        pen,
        size,
        MODEL_JSON[model],
    )


def port_of(driver: Any, pictures: list[np.ndarray]) -> list[np.ndarray | None]:
    """The page's port of the pipeline on grey pictures (uint8, H × W): their 28×28s."""
    out = driver.execute_script(
        "return arguments[0].map(([b64, w, h]) => window.digitkit.mnistOf(b64, w, h));",
        [[base64.b64encode(p.tobytes()).decode(), p.shape[1], p.shape[0]] for p in pictures],
    )
    return [None if m is None else np.asarray(m, np.float32).reshape(28, 28) for m in out]


def draw_with_pointer(driver: Any, strokes: list[Stroke]) -> None:
    """Draw strokes on the page's canvas with real pointer events (Selenium's mouse), point by point."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    canvas = driver.find_element(By.ID, "paper")
    size = canvas.size  # CSS pixels; the canvas's own pixels are mapped to them by the page
    side = driver.execute_script("return window.digitkit.page.constants.canvas.width")
    for stroke in strokes:
        actions = ActionChains(driver, duration=0)
        # offsets from the element's centre, in CSS pixels
        at = [((x + 0.5) * size["width"] / side - size["width"] / 2, (y + 0.5) * size["height"] / side - size["height"] / 2)
              for x, y in stroke]  # fmt: skip
        actions.move_to_element_with_offset(canvas, int(at[0][0]), int(at[0][1])).click_and_hold()
        for (x0, y0), (x1, y1) in zip(at, at[1:], strict=False):
            actions.move_by_offset(int(round(x1)) - int(round(x0)), int(round(y1)) - int(round(y0)))
        actions.release().perform()


def wait_for_answer(driver: Any, timeout: float = 10.0) -> dict:
    """The page's answer after the last stroke: its data attributes and timings."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = driver.execute_script(
            "const a = document.getElementById('answer').dataset; const last = window.digitkit.last;"
            "return {state: a.state, digit: a.digit, confidence: a.confidence, busy: window.digitkit.page.busy,"
            " sinceStrokeEnd: last && last.sinceStrokeEnd, ms: last && last.ms};"
        )
        if state["state"] in ("answer", "no digit") and not state["busy"] and state["sinceStrokeEnd"] is not None:
            return state
        time.sleep(0.02)
    raise DigitkitError("the page gave no answer in time")


# -- drawings made with the app's pen ----------------------------------------------------------------------------
def _digit_strokes() -> dict:
    """The strokes the app's tests draw (tests/app_strokes.py): a clone's, not an installed package's."""
    tests = REPO / "tests"
    if not (tests / "app_strokes.py").is_file():
        raise DigitkitError(f"{tests / 'app_strokes.py'} is missing: the browser benchmark runs in a clone")
    sys.path.insert(0, str(tests))
    try:
        from app_strokes import DIGIT_STROKES
    finally:
        sys.path.remove(str(tests))
    return DIGIT_STROKES


def app_drawings(count: int, seed: int = 0, size: int = 280) -> list[tuple[int, list[Stroke]]]:
    """``count`` drawings (digit, strokes in canvas pixels), the digits in turn: each digit's strokes scaled to
    40-80 % of the canvas, stretched, slanted, turned a little, moved anywhere clear of the edges, and wobbled."""
    strokes_of = _digit_strokes()
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        digit = i % 10
        height = rng.uniform(0.4, 0.8) * size
        width = height * 0.75 * rng.uniform(0.8, 1.2)
        shear = rng.uniform(-0.25, 0.25)
        angle = math.radians(rng.uniform(-8, 8))
        cos, sin = math.cos(angle), math.sin(angle)
        shapes = []
        for stroke in strokes_of[digit]:
            points = []
            for u, v in stroke:
                x, y = (u - 0.5) * width + shear * (v - 0.5) * height, (v - 0.5) * height
                points.append((cos * x - sin * y, sin * x + cos * y))
            shapes.append(np.asarray(points) + rng.normal(0, 0.012 * height, (len(points), 2)))
        every = np.concatenate(shapes)
        low, high = every.min(axis=0), every.max(axis=0)
        margin = 12
        centre = [
            rng.uniform(margin - low[k], size - margin - high[k]) if high[k] - low[k] < size - 2 * margin else size / 2
            for k in (0, 1)
        ]
        out.append((digit, [[_pixel(x + centre[0], y + centre[1], size) for x, y in s] for s in shapes]))
    return out


def _pixel(x: float, y: float, size: int) -> tuple[int, int]:
    return (min(max(int(round(x)), 0), size - 1), min(max(int(round(y)), 0), size - 1))


def python_picture(strokes: list[Stroke], size: int = 280) -> np.ndarray:
    """The drawing as the desktop app's canvas renders it (OpenCV, LINE_AA)."""
    from digitkit.runtime.app.canvas import Canvas

    canvas = Canvas(size, size)
    for stroke in strokes:
        canvas.begin(*stroke[0])
        for point in stroke[1:]:
            canvas.extend(*point)
        canvas.end()
    return canvas.render()


# -- the measurements ------------------------------------------------------------------------------------------
def parity(driver: Any, count: int, model: str = "int8", seed: int = 0, batch: int = 25) -> dict:
    """The page against Python on ``count`` drawings (see the module's docstring)."""
    from digitkit.runtime.app.canvas import pen_width
    from digitkit.runtime.recognizer import Recognizer
    from digitkit.runtime.vision import to_mnist

    size = 280
    recognizer = Recognizer(precision=model, guard=False, threads=1)
    drawings = app_drawings(count, seed, size)
    pen = pen_width(size)
    rows = []
    for start in range(0, count, batch):
        part = drawings[start : start + batch]
        page = read_strokes(driver, [strokes for _, strokes in part], pen, size, model)
        if isinstance(page, dict):
            raise DigitkitError(f"the page failed: {page['error']}")
        pictures = [python_picture(strokes, size) for _, strokes in part]
        ported = port_of(driver, pictures)
        for (digit, _), answer, picture, port in zip(part, page, pictures, ported, strict=True):
            python = to_mnist(picture)
            row: dict = {"digit": digit, "page": answer.get("digit"), "python": None, "mad": None, "port_mad": None}
            if python is not None:
                row["python"] = int(np.argmax(recognizer.classify_mnist(python[None])[0]))
                if port is not None:
                    row["port_mad"] = float(np.abs(port - python).mean() * 255)
            if python is not None and answer.get("mnist") is not None:
                seen = np.asarray(answer["mnist"], np.float32).reshape(28, 28)
                row["mad"] = float(np.abs(seen - python).mean() * 255)
                # the wasm runtime against onnxruntime's CPU provider on the very same 28×28
                mine = recognizer.classify_mnist(seen[None])[0]
                row["probability_gap"] = float(np.abs(mine - np.asarray(answer["probabilities"])).max())
            rows.append(row)
    both = [r for r in rows if r["mad"] is not None]
    agree = sum(r["page"] == r["python"] for r in rows)
    return {
        "drawings": count,
        "model": model,
        "read_by_both": len(both),
        "agreement": agree / count,
        "disagreements": [(r["digit"], r["python"], r["page"]) for r in rows if r["page"] != r["python"]],
        "mad_mean": statistics.fmean(r["mad"] for r in both) if both else None,
        "mad_max": max((r["mad"] for r in both), default=None),
        "mad_p95": float(np.percentile([r["mad"] for r in both], 95)) if both else None,
        "port_mad_mean": statistics.fmean(r["port_mad"] for r in rows if r["port_mad"] is not None),
        "port_exact": sum(r["port_mad"] == 0 for r in rows),
        "python_right": sum(r["python"] == r["digit"] for r in rows) / count,
        "page_right": sum(r["page"] == r["digit"] for r in rows) / count,
        "probability_gap_max": max((r.get("probability_gap", 0.0) for r in both), default=None),
    }


def python_latency(model_file: Path, threads: int, runs: int, warmup: int = 20) -> float:
    """onnxruntime's CPU provider, batch 1, this process: the median ms of the model alone on a drawn digit."""
    from digitkit.runtime.recognizer import Recognizer
    from digitkit.runtime.vision import to_mnist

    recognizer = Recognizer(model_file, provider="cpu", threads=threads, guard=False)
    tensor = recognizer.model_input(to_mnist(python_picture([[(60, 60), (220, 60), (130, 160), (100, 230)]]))[None])
    return median_ms(lambda: recognizer.run_model(tensor), runs, warmup_calls=warmup)


def latency(driver: Any, url: str, runs: int) -> list[dict]:
    """Batch-1 latency of both shipped models: the page on 1 thread and on all, onnxruntime CPU in Python alike."""
    from digitkit.runtime.cores import usable_cores
    from digitkit.runtime.recognizer import MODELS_DIR

    cores = usable_cores()
    rows = []
    for threads in dict.fromkeys((1, cores)):
        state = open_page(driver, url, threads)
        for model in ("int8", "fp32"):
            page = driver.execute_async_script(
                "const [runs, model, done] = arguments; window.digitkit.bench(runs, {model}).then(done);",
                runs,
                MODEL_JSON[model],
            )
            file = MODELS_DIR / ("digitkit-cnn.int8.onnx" if model == "int8" else "digitkit-cnn.onnx")
            python = python_latency(file, threads, runs)
            rows.append(
                {
                    "model": model,
                    "threads": page["threads"],
                    "asked": threads,
                    "isolated": state["isolated"],
                    "browser_ms": page["median"],
                    "browser_p90_ms": page["p90"],
                    "python_ms": python,
                    "ratio": page["median"] / python,
                }
            )
    return rows


def page_timings(driver: Any, url: str, strokes_count: int = 20) -> dict:
    """Opening the page to its first answer (fresh page, cached files), and a stroke's end to its answer."""
    opened = [open_page(driver, url)["ready"] for _ in range(3)]
    drawings = app_drawings(strokes_count, seed=7)
    ends, pipelines, models = [], [], []
    for _, strokes in drawings:
        driver.execute_script("window.digitkit.page.strokes = []; window.digitkit.page.last = null;")
        draw_with_pointer(driver, strokes)
        answer = wait_for_answer(driver)
        ends.append(answer["sinceStrokeEnd"])
        pipelines.append(answer["ms"]["pipeline"])
        models.append(answer["ms"]["model"])
    return {
        "first_answer_ms": statistics.median(opened),
        "first_answer_all_ms": opened,
        "stroke_to_answer_ms": statistics.median(ends),
        "stroke_to_answer_max_ms": max(ends),
        "pipeline_ms": statistics.median(pipelines),
        "model_ms": statistics.median(models),
    }


def cold_first_answer(url: str) -> float:
    """Opening the page in a fresh browser (empty cache): ms to the first answer."""
    with chromium() as driver:
        return open_page(driver, url)["ready"]


def page_weight(dist: Path) -> dict[str, int]:
    """Bytes the page loads, by kind."""
    from digitkit.runtime import webpage

    scripts = [n for n in (*webpage.PAGE_FILES, *webpage.ORT_FILES) if not n.endswith(".wasm")]
    kinds = {
        "html + js": [dist / n for n in scripts],
        "wasm": [dist / "ort-wasm-simd-threaded.wasm"],
        "json": [dist / "pipeline.json", dist / "models" / "digitkit-cnn.int8.json"],
        "model (int8)": [dist / "models" / "digitkit-cnn.int8.onnx"],
    }
    out = {kind: sum(p.stat().st_size for p in paths) for kind, paths in kinds.items()}
    out["total"] = sum(out.values())
    out["fp32 model, when chosen"] = (dist / "models" / "digitkit-cnn.onnx").stat().st_size
    return out


def screenshot(driver: Any, url: str, path: Path, digit: int = 3) -> dict:
    """The page with a digit drawn on it by pointer events, saved as a PNG."""
    from digitkit.runtime.files import atomic_write_bytes

    open_page(driver, url)
    strokes = next(s for d, s in app_drawings(40, seed=11) if d == digit)
    draw_with_pointer(driver, strokes)
    answer = wait_for_answer(driver)
    from selenium.webdriver.common.by import By

    atomic_write_bytes(path, driver.find_element(By.TAG_NAME, "main").screenshot_as_png)
    return answer


def measure(runs: int, log=lambda _msg: None) -> tuple[list[dict], str | None]:
    """``digitkit bench --browser``: the latency rows, or none and the reason (one line) where no browser runs."""
    from digitkit.runtime import webpage

    missing = browser_missing() or page_missing()
    if missing:
        return [], missing
    try:
        with webpage.serving(webpage.prepared()) as url, chromium() as driver:
            log("the page in headless Chromium (WebAssembly), 1 thread and all")
            return latency(driver, url, runs), None
    except DigitkitError as exc:
        return [], str(exc)
    except Exception as exc:  # selenium's and the browser's own errors: the section says what went wrong
        return [], f"the browser failed: {type(exc).__name__}: {str(exc).strip().splitlines()[0][:200]}"


# -- the report ------------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m digitkit.benchmarks.browser", description=__doc__.split("\n\n")[0])
    parser.add_argument("--parity", type=int, default=500, metavar="N", help="drawings compared (default 500; 0: none)")
    parser.add_argument("--model", choices=tuple(MODEL_JSON), default="int8", help="the model parity reads with")
    parser.add_argument("--runs", type=int, default=300, help="model calls timed per cell (default 300)")
    parser.add_argument("--no-timings", action="store_true", help="skip the page's load and per-stroke timings")
    parser.add_argument("--no-latency", action="store_true", help="skip the latency table")
    parser.add_argument("--screenshot", type=Path, default=None, help="save the page with a drawn digit (PNG)")
    args = parser.parse_args(argv)
    try:
        return _report(args)
    except DigitkitError as exc:
        print(f"browser benchmark: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # selenium's and the browser's own errors, in one line
        if type(exc).__module__.startswith("selenium"):
            print(f"browser benchmark: the browser failed: {str(exc).strip().splitlines()[0]}", file=sys.stderr)
            return 1
        raise


def _report(args: argparse.Namespace) -> int:
    from digitkit.benchmarks.machine import describe_machine
    from digitkit.runtime import webpage

    missing = browser_missing() or page_missing()
    if missing:
        print(f"browser benchmark skipped: {missing}")
        return 0
    dist = webpage.prepared()
    machine = describe_machine()
    with webpage.serving(dist) as url, chromium() as driver:
        version = driver.capabilities.get("browserVersion", "?")
        print(f"host: {machine['cpu']}, {machine['usable_cores']} usable cores; Chromium {version} headless")
        if args.screenshot:
            answer = screenshot(driver, url, args.screenshot)
            print(f"screenshot: {args.screenshot} (the page read {answer['digit']}, confidence {answer['confidence']})")
        weight = page_weight(dist)
        print("page weight: " + ", ".join(f"{k} {v:,} B" for k, v in weight.items()))
        if not args.no_timings:
            _print_timings(driver, url)
        if args.parity:
            open_page(driver, url)
            result = parity(driver, args.parity, args.model)
            print(
                f"parity on {result['drawings']} drawings ({result['model']}): the digit agrees on "
                f"{100 * result['agreement']:.1f} % {result['disagreements'] or ''}; 28×28 mean absolute difference "
                f"{result['mad_mean']:.2f} grey levels (95th percentile {result['mad_p95']:.2f}, max {result['mad_max']:.2f}) "
                f"between the browser's canvas and OpenCV's; the port on OpenCV's pictures: {result['port_exact']} of "
                f"{result['drawings']} identical (mean difference {result['port_mad_mean']:.4f}); right digit: page "
                f"{100 * result['page_right']:.1f} %, Python {100 * result['python_right']:.1f} %; wasm vs onnxruntime "
                f"CPU on the same 28×28: probabilities within {result['probability_gap_max']:.1e}"
            )
        if not args.no_latency:
            rows = latency(driver, url, args.runs)
            print()
            print(f"batch-1 latency, median of {args.runs} calls ({machine['cpu']}):")
            print("| model | threads | browser (WebAssembly) ms | onnxruntime CPU (Python) ms | browser / Python |")
            print("| --- | --- | --- | --- | --- |")
            for r in rows:
                print(
                    f"| {r['model']} | {r['threads']} | {r['browser_ms']:.3f} (p90 {r['browser_p90_ms']:.3f}) | "
                    f"{r['python_ms']:.3f} | {r['ratio']:.1f}× |"
                )
    return 0


def _print_timings(driver: Any, url: str) -> None:
    timings = page_timings(driver, url)
    cold = cold_first_answer(url)
    print(
        f"first answer: {cold:.0f} ms from opening the page in a fresh browser, {timings['first_answer_ms']:.0f} ms "
        f"with its files cached (median of 3); a stroke's end to the answer: {timings['stroke_to_answer_ms']:.1f} ms "
        f"median, {timings['stroke_to_answer_max_ms']:.1f} ms at most, of 20 drawings drawn with pointer events "
        f"(picture -> 28×28 {timings['pipeline_ms']:.1f} ms, model {timings['model_ms']:.1f} ms)"
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
