"""The web page's Python side, without a browser: its build folder, the metadata and constants it is given, the
server's headers, and ``digitkit web``'s one-line errors."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import pytest
from app_models import SHIPPED, SHIPPED_INT8

from digitkit.runtime import webpage
from digitkit.runtime.cli import main
from digitkit.runtime.errors import DigitkitError
from digitkit.runtime.recognizer import Recognizer

REPO = Path(__file__).resolve().parents[1]


def _web_tree(root: Path) -> Path:
    """A web/ folder with the page's sources and stand-ins for onnxruntime-web's files (as `npm ci` leaves them)."""
    web = root / "web"
    web.mkdir()
    for name in webpage.PAGE_FILES:
        (web / name).write_bytes((REPO / "web" / name).read_bytes())
    ort = webpage.ort_dir(web)
    ort.mkdir(parents=True)
    for name in webpage.ORT_FILES:
        (ort / name).write_bytes(b"\0asm" if name.endswith(".wasm") else b"export {};\n")
    return web


def test_the_constants_cover_every_one_the_port_reads():
    """pipeline.js reads its numbers from pipeline.json: each name it uses is one the build writes."""
    used = set(re.findall(r"\bC\.(\w+)", (REPO / "web" / "pipeline.js").read_text()))
    constants = webpage.pipeline_constants()
    assert used and not used - set(constants), sorted(used - set(constants))
    assert constants["canvas"] == {"width": 280, "height": 280, "pen": 16, "paper": 255, "ink": 20}


@pytest.mark.parametrize("model", [SHIPPED_INT8, SHIPPED], ids=["int8", "fp32"])
def test_model_json_is_the_models_own_metadata(model):
    if not model.is_file():
        pytest.skip(f"{model.name} is not in runtime/models/")
    described = webpage.model_description(model)
    spec = Recognizer(model, guard=False).spec
    assert (described["mean"], described["std"], described["pixel_scale"]) == (spec.mean, spec.std, spec.pixel_scale)
    assert described["temperature"] == spec.temperature != 1.0  # the calibrated softmax
    assert described["labels"] == list(spec.labels) and described["polarity"] == spec.polarity
    assert described["file"] == model.name and described["bytes"] == model.stat().st_size
    assert (described["input"], described["output"]) == ("input", "logits")


def test_build_fills_dist_and_knows_when_it_is_stale(tmp_path):
    web = _web_tree(tmp_path)
    assert webpage.stale(web)
    dist = webpage.build(web)
    assert webpage.built(dist) and not webpage.stale(web)
    described = json.loads((dist / "models" / "digitkit-cnn.int8.json").read_text())
    assert described["file"] == "digitkit-cnn.int8.onnx" and described["precision"] == "int8"
    assert json.loads((dist / "pipeline.json").read_text())["BOX"] == 20
    (web / "app.js").write_text((web / "app.js").read_text() + "\n")  # an edited source
    assert webpage.stale(web)
    assert webpage.prepared(web) == dist and not webpage.stale(web)


def test_build_without_npms_files_says_to_run_make_web(tmp_path):
    web = _web_tree(tmp_path)
    (webpage.ort_dir(web) / "ort-wasm-simd-threaded.wasm").unlink()
    with pytest.raises(DigitkitError, match="make web"):
        webpage.build(web)
    with pytest.raises(DigitkitError, match="not built: run `make web`"):
        webpage.prepared(web)


def test_server_sends_wasm_types_and_cross_origin_isolation(tmp_path):
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<!doctype html>")
    (dist / "a.wasm").write_bytes(b"\0asm")
    (dist / "a.mjs").write_text("export {};")
    with webpage.serving(dist) as url:
        for name, kind in [("index.html", "text/html"), ("a.wasm", "application/wasm"), ("a.mjs", "text/javascript")]:
            with urllib.request.urlopen(url + name, timeout=10) as response:
                assert response.headers["Content-Type"].startswith(kind)
                assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
                assert response.headers["Cross-Origin-Embedder-Policy"] == "require-corp"


def test_a_port_in_use_is_one_line(tmp_path):
    with webpage.serving(tmp_path) as url:
        port = int(url.rsplit(":", 1)[1].strip("/"))
        with pytest.raises(DigitkitError, match=f"cannot serve on 127.0.0.1:{port}"):
            webpage.make_server(tmp_path, port)


def test_digitkit_web_without_a_build_says_so_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(webpage, "WEB_DIR", tmp_path / "web")
    assert main(["web", "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "digitkit web: error:" in err and "make web" in err


def test_digitkit_web_rejects_a_bad_port(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["web", "--port", "70000"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_the_bench_table_shows_the_browser_section_only_when_asked():
    from digitkit.benchmarks.report import browser_section

    assert browser_section({"browser": None}) == []
    skipped = browser_section({"browser": [], "browser_skipped": "chromium is not installed (make web-deps, as root)"})
    assert skipped[-1] == "Skipped: chromium is not installed (make web-deps, as root)."
    row = {"model": "int8", "threads": 1, "browser_ms": 0.8, "python_ms": 0.05, "ratio": 16.0}
    assert "| int8 | 1 | 0.800 | 0.050 | 16.0× |" in browser_section({"browser": [row], "browser_skipped": None})
