"""Run the whole benchmark and write results.json, table.md and the plots.

The order of the loops is chosen for a shared, noisy machine: for each
thread count and batch size, every backend is measured in turn, in a few
interleaved rounds, so the ratios between backends (what the table is for)
come from measurements taken side by side.
"""

from __future__ import annotations

import datetime as dt
import io
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from digitkit.benchmarks import cold_start
from digitkit.benchmarks.backends import BASELINE, EMPTY, Backend, BackendUnavailable, Context, Runner, all_backends
from digitkit.benchmarks.inputs import digit_batch
from digitkit.benchmarks.machine import describe_machine, load_average, onnxruntime_providers, usable_cores
from digitkit.benchmarks.models import ModelFiles, ModelInput, normalise, read_model_input
from digitkit.benchmarks.timing import summarise
from digitkit.runtime.errors import DigitkitError
from digitkit.timing import Budget, time_calls

SCHEMA = "digitkit-bench-1"
STALL_FACTOR = 5  # eager PyTorch this much slower with more threads than with one: stalled, not measured


@dataclass(frozen=True)
class BenchConfig:
    quick: bool = False
    batch_sizes: tuple[int, ...] = (1, 8, 64, 256)
    threads: tuple[int, ...] = ()  # () -> 1 and all usable cores
    rounds: int = 3  # interleaved rounds per cell
    budget: Budget = field(default_factory=lambda: Budget(warmup_calls=2, warmup_s=0.03, min_calls=5, min_s=0.2))
    cold_start_repeats: int = 3
    backends: tuple[str, ...] = ()  # () -> all
    cold_start: bool = True
    pipeline: bool = True
    plots: bool = True
    browser: bool = False  # the web page's model in headless Chromium (benchmarks/browser.py)

    def thread_counts(self) -> tuple[int, ...]:
        return self.threads or tuple(sorted({1, usable_cores()}))


def quick_config() -> BenchConfig:
    """Seconds, for the main job and the tests: fewer batches, one thread count, one round."""
    return BenchConfig(
        quick=True,
        batch_sizes=(1, 64),
        threads=(1,),
        rounds=1,
        budget=Budget(warmup_calls=3, warmup_s=0.02, min_calls=5, min_s=0.08),
        cold_start_repeats=1,
    )


class BenchError(DigitkitError):
    """A benchmark option that cannot be honoured."""


def _selected(config: BenchConfig) -> list[Backend]:
    backends = all_backends()
    if not config.backends:
        return backends
    names = {b.name for b in backends}
    unknown = [n for n in config.backends if n not in names]
    if unknown:
        raise BenchError(f"unknown backend(s) {', '.join(unknown)}; choose from {', '.join(sorted(names))}")
    return [b for b in backends if b.name in config.backends]


def _key(backend: Backend) -> str:
    return backend.name if backend.model == "cnn" else f"{backend.name} ({backend.model})"


def _reference(models: ModelFiles, model: str, x: np.ndarray, model_input: ModelInput) -> np.ndarray:
    """onnxruntime fp32's logits: what every backend's output is compared with."""
    import onnxruntime

    path = models.fp32 if model == "cnn" else models.tiny
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    runner = Runner(lambda batch: session.run(None, {name: batch})[0])
    return _run_batched(runner, x, model_input.fixed_batch)


def _run_batched(runner: Runner, x: np.ndarray, fixed_batch: int | None) -> np.ndarray:
    if fixed_batch:
        return np.concatenate([runner.run(x[i : i + 1]) for i in range(len(x))])
    return runner.run(x)


def _agreement(out: np.ndarray, reference: np.ndarray) -> dict:
    out = np.asarray(out, np.float32).reshape(reference.shape)
    return {
        "top1_agreement": round(float((out.argmax(1) == reference.argmax(1)).mean()), 4),
        "max_abs_logit_diff": float(f"{float(np.abs(out - reference).max()):.3g}"),
    }


def measure_latency(
    config: BenchConfig, ctx: Context, backends: list[Backend], log: Callable[[str], None]
) -> tuple[list[dict], list[dict]]:
    """(one entry per backend: ran or skipped and why, one row per measured cell)."""
    entries: dict[str, dict] = {}
    for b in backends:
        entries[_key(b)] = {
            "backend": b.name,
            "model": b.model,
            "precision": b.precision,
            "description": b.description,
            "status": "skipped",
            "reason": b.why_not(ctx),
        }
    digits, _ = digit_batch(64, seed=0)
    x64 = normalise(digits, ctx.model_input.spec)
    references = {}
    rows: list[dict] = []
    for threads in config.thread_counts():
        runners: dict[str, tuple[Backend, Runner]] = {}
        for b in backends:
            entry = entries[_key(b)]
            if entry["reason"] is not None:
                continue
            try:
                runner = b.load(ctx, threads)
                runner.prepare()
                out = _run_batched(runner, x64, ctx.model_input.fixed_batch)
            except BackendUnavailable as exc:
                entry["reason"] = str(exc)
                continue
            except Exception as exc:  # a library failing on this machine is a result, not a crash
                entry["reason"] = f"failed to run: {type(exc).__name__}: {str(exc).strip()[:300]}"
                continue
            agreement = {}
            if b.model != "empty":  # the graph without layers has nothing to agree with: only its time counts
                if b.model not in references:
                    references[b.model] = _reference(ctx.models, b.model, x64, ctx.model_input)
                agreement = _agreement(out, references[b.model])
            entry.update(status="ran", note=runner.note, device=runner.device, **agreement)
            runners[_key(b)] = (b, runner)
        log(f"threads={threads}: measuring {', '.join(runners) or 'nothing'}")
        for batch in config.batch_sizes:
            if ctx.model_input.fixed_batch and batch != ctx.model_input.fixed_batch:
                continue
            x = np.ascontiguousarray(np.resize(x64, (batch, *x64.shape[1:])))
            samples: dict[str, list[float]] = {k: [] for k in runners}
            for _ in range(config.rounds):
                for key, (_b, runner) in runners.items():
                    runner.prepare()
                    samples[key] += time_calls(lambda r=runner, x=x: r.run(x), config.budget)
            for key, (b, _runner) in runners.items():
                rows.append(
                    {"backend": b.name, "model": b.model, "precision": b.precision, "threads": threads, "batch": batch}
                    | summarise(samples[key], batch)
                )
    _add_speedups(rows)
    for entry in entries.values():
        if entry["status"] == "skipped":
            entry["reason"] = entry["reason"] or "not measured"
    return list(entries.values()), rows


def _add_speedups(rows: list[dict]) -> None:
    """Each row's speed-up over PyTorch eager on the same model, batch and threads (eager p50 / this p50)."""
    eager = {(r["model"], r["threads"], r["batch"]): r["p50_ms"] for r in rows if r["backend"] == BASELINE}
    for r in rows:
        base = eager.get((r["model"], r["threads"], r["batch"]))
        r["speedup_vs_eager"] = round(base / r["p50_ms"], 2) if base and r["p50_ms"] > 0 else None


COLD_START_KINDS = {  # backend -> (child kind, ModelFiles attribute or "torch")
    "onnxruntime-cpu-fp32": ("onnxruntime", "fp32"),
    "onnxruntime-cpu-fp32 (.ort)": ("onnxruntime", "ort"),
    "onnxruntime-cpu-int8": ("onnxruntime", "int8"),
    "onnxruntime-cuda-fp32": ("onnxruntime-cuda", "fp32"),
    "openvino-cpu-fp32": ("openvino", "fp32"),
    "opencv-dnn-fp32": ("opencv", "fp32"),
    "pytorch-eager-fp32": ("torch", "torch"),
    "pytorch-compile-fp32": ("torch-compile", "torch"),
    "digitkit Recognizer, fp32 (drawing)": ("recognizer", "fp32"),
}


def measure_cold_start(
    config: BenchConfig, ctx: Context, entries: list[dict], log: Callable[[str], None]
) -> list[dict]:
    from digitkit.benchmarks.pipeline import runtime_unavailable

    status = {e["backend"]: e for e in entries if e["model"] == "cnn"}
    rows = []
    torch_file: Path | None = None
    spec = ctx.model_input.spec
    for name, (kind, attr) in COLD_START_KINDS.items():
        base = status.get(name.split(" ")[0])
        reason = None
        if name.startswith("digitkit Recognizer"):
            reason = runtime_unavailable()
        elif base is None:
            continue  # backend not selected
        elif base["status"] != "ran":
            reason = base["reason"]
        elif attr != "torch" and getattr(ctx.models, attr) is None:
            reason = f"no {attr} file beside {ctx.models.fp32.name}"
        if reason:
            rows.append({"backend": name, "status": "skipped", "reason": reason})
            continue
        if attr == "torch":
            if torch_file is None:
                torch_file = _save_torch_baseline(ctx)
            model = torch_file
        else:
            model = getattr(ctx.models, attr)
        repeats = 1 if kind == "torch-compile" else config.cold_start_repeats
        log(f"cold start: {name} ({repeats}×)")
        try:
            result = cold_start.measure_median(kind, model, repeats, spec.height, spec.width)
        except Exception as exc:
            rows.append({"backend": name, "status": "skipped", "reason": f"the fresh process failed: {exc}"})
            continue
        rows.append({"backend": name, "status": "ran", "model_file": Path(model).name} | result)
    return rows


def _save_torch_baseline(ctx: Context) -> Path:
    """The eager baseline pickled whole, so a fresh process can load it without the checkpoint machinery."""
    import torch

    from digitkit.benchmarks.backends import torch_baseline_module

    module, _ = torch_baseline_module(ctx)
    path = ctx.workdir / "pytorch-baseline.pt"
    torch.save(module, path)
    return path


def summarise_results(entries: list[dict], rows: list[dict], cold: list[dict]) -> dict:
    """The headline figures: the batch-1 speed-ups, int8 vs fp32, the fastest batch-1 backend."""

    def p50(backend: str, threads: int, batch: int, model: str = "cnn") -> float | None:
        for r in rows:
            if (r["backend"], r["model"], r["threads"], r["batch"]) == (backend, model, threads, batch):
                return r["p50_ms"]
        return None

    summary: dict = {}
    threads_seen = sorted({r["threads"] for r in rows})
    batches_seen = sorted({r["batch"] for r in rows})
    for t in threads_seen:
        for model, prefix in (("cnn", ""), ("tiny", "tiny_")):
            ort, eager = p50("onnxruntime-cpu-fp32", t, 1, model), p50(BASELINE, t, 1, model)
            if model == "cnn" or (ort and eager):
                speedup = round(eager / ort, 2) if ort and eager else None
                summary[f"{prefix}ort_fp32_batch1_speedup_vs_eager_threads{t}"] = speedup
            empty = p50(EMPTY, t, 1, "empty")
            if ort and empty:  # the model's own share of a call: ratio to onnxruntime with no layers to run
                summary[f"{prefix}ort_fp32_batch1_vs_empty_graph_threads{t}"] = round(ort / empty, 2)
            single = p50(BASELINE, 1, 1, model)
            if t > 1 and eager and single and eager > STALL_FACTOR * single:
                # more threads made eager PyTorch far slower: its OpenMP threads stalled (a busy machine), so the
                # ratios against it at this thread count measure the stall, not the backends
                summary[f"{prefix}eager_stalled_threads{t}"] = {"p50_ms": eager, "single_thread_p50_ms": single}
        for b in batches_seen:
            fp32, int8 = p50("onnxruntime-cpu-fp32", t, b), p50("onnxruntime-cpu-int8", t, b)
            summary[f"ort_int8_vs_fp32_speedup_batch{b}_threads{t}"] = round(fp32 / int8, 2) if fp32 and int8 else None
            fp32, int8 = p50("onnxruntime-cpu-fp32", t, b, "tiny"), p50("onnxruntime-cpu-int8", t, b, "tiny")
            if fp32 and int8:
                summary[f"tiny_ort_int8_vs_fp32_speedup_batch{b}_threads{t}"] = round(fp32 / int8, 2)
    one = [r for r in rows if r["batch"] == 1 and r["threads"] == 1 and r["model"] == "cnn"]
    if one:
        best = min(one, key=lambda r: r["p50_ms"])
        summary["fastest_batch1_single_thread"] = {"backend": best["backend"], "p50_ms": best["p50_ms"]}
    ran_cold = [c for c in cold if c["status"] == "ran"]
    if ran_cold:
        best = min(ran_cold, key=lambda c: c["process_wall_s"])
        summary["fastest_cold_start"] = {"backend": best["backend"], "process_wall_s": best["process_wall_s"]}
    summary["skipped"] = {f"{e['backend']} ({e['model']})": e["reason"] for e in entries if e["status"] == "skipped"}
    return summary


def run_benchmark(
    config: BenchConfig,
    models: ModelFiles,
    out_dir: Path,
    *,
    checkpoints: list[Path] | None = None,
    checkpoint_explicit: bool = False,
    tiny_checkpoints: list[Path] | None = None,
    log: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr),
) -> dict:
    """Measure everything the config asks for and write the results into out_dir; returns the results."""
    from digitkit.benchmarks import report
    from digitkit.runtime.files import atomic_write_json, atomic_write_text

    started = dt.datetime.now(dt.timezone.utc)
    machine = describe_machine()
    model_input = read_model_input(models.fp32)
    with tempfile.TemporaryDirectory(prefix="digitkit-bench-") as tmp:
        ctx = Context(
            models=models,
            model_input=model_input,
            providers=onnxruntime_providers(),
            gpus=machine["gpus"],
            checkpoints=list(checkpoints or []),
            checkpoint_explicit=checkpoint_explicit,
            tiny_checkpoints=list(tiny_checkpoints or []),
            quick=config.quick,
            workdir=Path(tmp),
        )
        entries, rows = measure_latency(config, ctx, _selected(config), log)
        pipeline_rows, pipeline_reason = _pipeline(config, models, log)
        cold = measure_cold_start(config, ctx, entries, log) if config.cold_start else []
        browser_rows, browser_reason = _browser(config, log)
    machine["load_average_at_end"] = load_average()
    results = {
        "schema": SCHEMA,
        "started_utc": started.isoformat(timespec="seconds"),
        "seconds": round((dt.datetime.now(dt.timezone.utc) - started).total_seconds(), 1),
        "command": " ".join(["digitkit", *sys.argv[1:]]) if sys.argv and "digitkit" in sys.argv[0] else None,
        "config": asdict(replace(config, threads=config.thread_counts())),
        "machine": machine,
        "models": {
            "source": _shown(Path(models.source)),
            "fp32": _shown(models.fp32),
            "input": model_input.name,
            "fixed_batch": model_input.fixed_batch,
            "spec": {k: v for k, v in asdict(model_input.spec).items() if k != "labels"},
            "sizes": models.sizes(),
        },
        "backends": entries,
        "latency": rows,
        "cold_start": cold,
        "pipeline": pipeline_rows,
        "pipeline_skipped": pipeline_reason,
        "browser": browser_rows,
        "browser_skipped": browser_reason,
    }
    results["summary"] = summarise_results(entries, rows, cold)
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out_dir / "results.json", results)
    atomic_write_text(out_dir / "table.md", report.markdown(results))
    if config.plots:
        results["plots"] = _plots(results, out_dir, log)
        atomic_write_json(out_dir / "results.json", results)
    return results


def _shown(path: Path) -> str:
    """A path relative to the working directory when it is inside it (results get committed)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _browser(config: BenchConfig, log: Callable[[str], None]) -> tuple[list[dict] | None, str | None]:
    if not config.browser:
        return None, None
    from digitkit.benchmarks.browser import measure

    return measure(100 if config.quick else 300, log)


def _pipeline(config: BenchConfig, models: ModelFiles, log: Callable[[str], None]) -> tuple[list[dict], str | None]:
    from digitkit.benchmarks.pipeline import bench_pipeline, runtime_unavailable

    if not config.pipeline:
        return [], "not asked for"
    reason = runtime_unavailable()
    if reason:
        return [], reason
    rows = []
    for threads in config.thread_counts():
        log(f"picture -> digit path, threads={threads}")
        try:
            rows += bench_pipeline(models, threads, config.budget, config.rounds)
        except DigitkitError as exc:
            return rows, f"the runtime refused: {exc}"
    return rows, None


def _plots(results: dict, out_dir: Path, log: Callable[[str], None]) -> dict:
    try:
        from digitkit.benchmarks import plots
    except ImportError as exc:
        log(f"no plots: {exc.name} is not installed (pip install matplotlib)")
        return {"skipped": f"{exc.name} not installed (pip install matplotlib)"}
    from digitkit.runtime.files import atomic_write_bytes

    written = {}
    for name, figure in plots.all_figures(results).items():
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
        plots.close(figure)
        atomic_write_bytes(out_dir / f"{name}.png", buffer.getvalue())
        written[name] = f"{name}.png"
    return written
