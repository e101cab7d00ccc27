"""The model in a web page (web/): its build folder, and a local server for it.

``build`` fills web/dist with the page, onnxruntime-web's WebAssembly build (from web/node_modules, which ``make
web`` installs with ``npm ci``) and the shipped models, and writes what the page cannot read for itself: beside
each model a JSON file of its ``digitkit.*`` metadata (onnxruntime-web does not expose an ONNX file's metadata),
and pipeline.json, the constants of the Python pipeline that the page's JavaScript port of it uses.
``make_server`` (``digitkit web``) and ``serving`` (tests, benchmarks) serve it with the standard library's
http.server, with the headers WebAssembly threads need.
"""

from __future__ import annotations

import dataclasses
import filecmp
import functools
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from digitkit.runtime.errors import DigitkitError
from digitkit.runtime.files import atomic_write_bytes, atomic_write_json, sha256_file

WEB_DIR = Path(__file__).resolve().parents[1] / "web"
PAGE_FILES = ("index.html", "app.js", "pipeline.js")
# the ES module of ort's WebAssembly-only build, and the threaded SIMD runtime it loads
ORT_FILES = ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
MODELS = ("digitkit-cnn.int8.onnx", "digitkit-cnn.onnx")  # the page's select offers them in this order
CANVAS_SIDE = 280  # the page's canvas, as the robustness and speed benchmarks draw their digits
MAKE_WEB = "run `make web` in the clone first (npm ci in web/, then digitkit web --build)"

MIME_TYPES = {
    ".wasm": "application/wasm",
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".json": "application/json",
    ".onnx": "application/octet-stream",
}


def dist_dir(web_dir: Path | None = None) -> Path:
    return (web_dir or WEB_DIR) / "dist"


def ort_dir(web_dir: Path | None = None) -> Path:
    return (web_dir or WEB_DIR) / "node_modules" / "onnxruntime-web" / "dist"


def model_json_name(model_file: str) -> str:
    """digitkit-cnn.int8.onnx -> digitkit-cnn.int8.json"""
    return model_file.removesuffix(".onnx") + ".json"


def built(dist: Path) -> bool:
    """Whether ``dist`` holds everything the page loads."""
    names = [*PAGE_FILES, *ORT_FILES, "pipeline.json"]
    names += [f"models/{m}" for m in MODELS] + [f"models/{model_json_name(m)}" for m in MODELS]
    return all((dist / name).is_file() for name in names)


def stale(web_dir: Path | None = None, models_dir: Path | None = None) -> bool:
    """Whether the build folder is missing a file or holds another version of one of its sources."""
    web_dir = web_dir or WEB_DIR
    dist = dist_dir(web_dir)
    if not built(dist):
        return True
    pairs = [(web_dir / n, dist / n) for n in PAGE_FILES] + [(ort_dir(web_dir) / n, dist / n) for n in ORT_FILES]
    pairs += [(_models_dir(models_dir) / m, dist / "models" / m) for m in MODELS]
    return any(source.is_file() and not filecmp.cmp(source, copy, shallow=False) for source, copy in pairs)


def build(web_dir: Path | None = None, models_dir: Path | None = None) -> Path:
    """Fill web/dist (see the module's docstring); returns its path. DigitkitError when a source is missing."""
    web_dir = web_dir or WEB_DIR
    ort = ort_dir(web_dir)
    missing = [n for n in ORT_FILES if not (ort / n).is_file()]
    if missing:
        raise DigitkitError(f"{ort / missing[0]} is missing: {MAKE_WEB}")
    models = _models_dir(models_dir)
    for name in MODELS:
        if not (models / name).is_file():
            raise DigitkitError(f"the model {models / name} is missing (the page runs the shipped models)")
    dist = dist_dir(web_dir)
    for name in PAGE_FILES:
        _copy(web_dir / name, dist / name)
    for name in ORT_FILES:
        _copy(ort / name, dist / name)
    for name in MODELS:
        _copy(models / name, dist / "models" / name)
        atomic_write_json(dist / "models" / model_json_name(name), model_description(models / name))
    atomic_write_json(dist / "pipeline.json", pipeline_constants())
    return dist


def _models_dir(models_dir: Path | None) -> Path:
    if models_dir is not None:
        return models_dir
    from digitkit.runtime.recognizer import MODELS_DIR

    return MODELS_DIR


def _copy(source: Path, target: Path) -> None:
    if not source.is_file():
        raise DigitkitError(f"{source} is missing: the page cannot be built without it")
    atomic_write_bytes(target, source.read_bytes())


def model_description(path: Path) -> dict:
    """What the page needs to feed a model and read its answer, from the model's own metadata."""
    import onnxruntime as ort

    from digitkit.runtime.model_spec import ModelSpec
    from digitkit.runtime.recognizer import DEFAULT_MIN_CONFIDENCE

    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime's own error types: not a model it can load
        raise DigitkitError(f"{path}: not a model onnxruntime can load ({str(exc).strip()[:200]})") from None
    meta = dict(session.get_modelmeta().custom_metadata_map or {})
    spec = ModelSpec.from_metadata(meta)
    return {
        "file": path.name,
        "precision": spec.extra.get("precision", "int8" if ".int8." in path.name else "fp32"),
        "bytes": path.stat().st_size,
        "sha256": sha256_file(path),
        "input": session.get_inputs()[0].name,
        "output": session.get_outputs()[0].name,
        "layout": spec.layout,
        "height": spec.height,
        "width": spec.width,
        "pixel_scale": spec.pixel_scale,
        "mean": spec.mean,
        "std": spec.std,
        "polarity": spec.polarity,
        "labels": list(spec.labels),
        "scores": spec.output,  # logits or probabilities
        "temperature": spec.temperature,
        # the desktop app's "not sure" line; the page has no guard model, so it is the top probability alone
        "min_confidence": DEFAULT_MIN_CONFIDENCE,
        "test_accuracy": spec.extra.get("test_accuracy"),
    }


def pipeline_constants() -> dict:
    """The numbers web/pipeline.js works with, from the Python pipeline itself: the vision config's defaults
    (what ``to_mnist`` runs with), the 28×28 geometry, and the app's pen and paper on the page's canvas."""
    from digitkit.runtime.app import canvas
    from digitkit.runtime.vision import normalise
    from digitkit.runtime.vision.config import VisionConfig

    out = dataclasses.asdict(VisionConfig())
    out.update(SIZE=normalise.SIZE, BOX=normalise.BOX, CENTRE=normalise.CENTRE)
    out["canvas"] = {
        "width": CANVAS_SIDE,
        "height": CANVAS_SIDE,
        "pen": canvas.pen_width(CANVAS_SIDE),
        "paper": canvas.PAPER,
        "ink": canvas.INK,
    }
    return out


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files, with the cross-origin isolation that WebAssembly threads (SharedArrayBuffer) need."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}

    def end_headers(self) -> None:
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")
        self.send_header("Cache-Control", "no-cache")  # a rebuilt model is fetched again
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass  # one line per file would bury the address


def make_server(dist: Path, port: int = 0, host: str = "127.0.0.1") -> http.server.ThreadingHTTPServer:
    """An HTTP server of ``dist`` (not started); port 0 picks a free one. DigitkitError when the port is taken."""
    handler = functools.partial(_Handler, directory=str(dist))
    try:
        server = http.server.ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        raise DigitkitError(f"cannot serve on {host}:{port} ({exc.strerror or exc}); pick another --port") from None
    server.daemon_threads = True
    return server


def address(server: http.server.HTTPServer) -> str:
    """The page's URL on a server from ``make_server``."""
    host, port = server.server_address[:2]
    return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}/"


@contextmanager
def serving(dist: Path, port: int = 0, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``dist`` on a thread for the block (tests, benchmarks); yields the page's address."""
    server = make_server(dist, port, host)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield address(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def prepared(web_dir: Path | None = None, models_dir: Path | None = None) -> Path:
    """web/dist, built or rebuilt when its sources are there and differ; DigitkitError (one line) when it cannot be."""
    web_dir = web_dir or WEB_DIR
    dist = dist_dir(web_dir)
    have_ort = all((ort_dir(web_dir) / n).is_file() for n in ORT_FILES)
    if have_ort and stale(web_dir, models_dir):
        return build(web_dir, models_dir)
    if not built(dist):
        raise DigitkitError(f"{dist} is not built: {MAKE_WEB}")
    return dist


def describe(dist: Path) -> str:
    """The page's weight, for the line printed at start."""
    sizes = [p.stat().st_size for p in dist.rglob("*") if p.is_file()]
    return f"{sum(sizes) / 1e6:.1f} MB in {len(sizes)} files"
