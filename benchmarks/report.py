"""results.json -> table.md: the figures a reader needs, in markdown tables."""

from __future__ import annotations

from digitkit.benchmarks.machine import one_line


def _ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 100 else f"{value:.0f}"


def _x(value: float | None) -> str:
    return f"{value:.1f}×" if value is not None else "–"


def _cell(text: object, limit: int = 400) -> str:
    """One line, no pipe characters, at most ``limit`` characters: safe inside a markdown table."""
    flat = " ".join(str(text).split()).replace("|", "/")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _label(row: dict) -> str:
    return {"cnn": row["backend"], "empty": f"{row['backend']} (no model)"}.get(
        row["model"], f"{row['backend']} (tiny model)"
    )


def _series(rows: list[dict]) -> dict[tuple[str, int], dict[int, dict]]:
    """(backend label, threads) -> batch -> row, in the order the rows were measured."""
    series: dict[tuple[str, int], dict[int, dict]] = {}
    for r in rows:
        series.setdefault((_label(r), r["threads"]), {})[r["batch"]] = r
    return dict(sorted(series.items(), key=lambda kv: kv[0][1]))


def _stalled(results: dict) -> set[tuple[str, int]]:
    """(model, threads) where eager PyTorch stalled, so speed-ups against it mean nothing."""
    out = set()
    for key in results["summary"]:
        if "eager_stalled_threads" in key:
            out.add(("tiny" if key.startswith("tiny_") else "cnn", int(key.rsplit("threads", 1)[1])))
    return out


def latency_section(results: dict) -> list[str]:
    rows = [dict(r) for r in results["latency"]]  # copies: the ratios left out below stay in results.json
    batches = sorted({r["batch"] for r in rows})
    stalled = _stalled(results)
    out = [
        "## Model latency",
        "",
        "Median (p50) milliseconds per call for a batch of 28×28 digits; in brackets the speed-up over PyTorch eager "
        "on the same weights, measured in the same run (higher is better)"
        + (", left out where eager PyTorch stalled (see the summary)." if stalled else "."),
        "",
    ]
    for r in rows:
        if (r["model"], r["threads"]) in stalled:
            r["speedup_vs_eager"] = None
    body = []
    for (label, threads), by_batch in _series(rows).items():
        cells = []
        for b in batches:
            r = by_batch.get(b)
            cells.append(
                "–"
                if r is None
                else f"{_ms(r['p50_ms'])} ({_x(r['speedup_vs_eager'])})"
                if r["speedup_vs_eager"]
                else _ms(r["p50_ms"])
            )
        body.append([label, str(threads), *cells])
    out += _table(["backend", "threads", *(f"batch {b}" for b in batches)], body)
    out += ["", "### Batch 1 in detail (p50 / p90 / p99 ms, predictions per second)", ""]
    body = [
        [
            label,
            str(t),
            _ms(r["p50_ms"]),
            _ms(r["p90_ms"]),
            _ms(r["p99_ms"]),
            f"{r['images_per_s']:.0f}",
            _x(r["speedup_vs_eager"]),
            str(r["calls"]),
        ]
        for (label, t), by_batch in _series(rows).items()
        if (r := by_batch.get(1))
    ]
    out += _table(["backend", "threads", "p50", "p90", "p99", "per s", "vs eager", "calls timed"], body)
    out += ["", "### Throughput (images per second at the median)", ""]
    body = [
        [label, str(t), *(f"{by_batch[b]['images_per_s']:.0f}" if b in by_batch else "–" for b in batches)]
        for (label, t), by_batch in _series(rows).items()
    ]
    out += _table(["backend", "threads", *(f"batch {b}" for b in batches)], body)
    return out


def backends_section(results: dict) -> list[str]:
    out = ["## Backends", "", "Ran: outputs compared with onnxruntime fp32 on 64 drawn digits. Skipped: why.", ""]
    body = []
    for e in results["backends"]:
        label = _label(e)
        if e["status"] == "ran" and "top1_agreement" not in e:  # the graph without layers has nothing to agree on
            body.append([label, "ran", "timed only" + (f"; {e['note']}" if e.get("note") else "")])
        elif e["status"] == "ran":
            what = f"same top-1 on {e['top1_agreement'] * 100:.1f}%, max logit difference {e['max_abs_logit_diff']:.2g}"
            body.append([label, "ran", what + (f"; {e['note']}" if e.get("note") else "")])
        else:
            body.append([label, "**skipped**", e["reason"]])
    return out + _table(["backend", "status", "detail"], body)


def cold_start_section(results: dict) -> list[str]:
    cold = results["cold_start"]
    if not cold:
        return []
    out = [
        "## Cold start",
        "",
        "A fresh process per backend: import the library, load the model, first prediction (batch 1). "
        "Seconds; `total` is the process from spawn to exit (interpreter start-up and shutdown included); "
        "peak RSS is the process's high-water mark.",
        "",
    ]
    body = []
    for c in cold:
        if c["status"] == "ran":
            body.append(
                [
                    c["backend"],
                    f"{c['import_s']:.3f}",
                    f"{c['load_s']:.3f}",
                    f"{c['first_prediction_s']:.3f}",
                    f"{c['process_wall_s']:.2f}",
                    f"{c['peak_rss_mib']:.0f}",
                ]
            )
        else:
            body.append([c["backend"], _cell("skipped: " + c["reason"], 140), "", "", "", ""])
    return out + _table(["backend", "import", "load", "first prediction", "total", "peak RSS MiB"], body)


def pipeline_section(results: dict) -> list[str]:
    out = ["## Picture → digit", ""]
    if results.get("pipeline_skipped"):
        return out + [f"Skipped: {results['pipeline_skipped']}."]
    out += [
        "The runtime's whole path for one picture: `to_mnist` (find, crop, scale, centre) then the model, "
        "through `Recognizer.predict`. Milliseconds.",
        "",
    ]
    body = [
        [
            p["picture"], p["precision"], str(p["threads"]), _ms(p["preprocess_p50_ms"]), _ms(p["total_p50_ms"]),
            _ms(p["total_p99_ms"]), f"{p['pictures_per_s']:.0f}", _read_as(p),
        ]
        for p in results["pipeline"]
    ]  # fmt: skip
    return out + _table(
        ["picture", "model", "threads", "to_mnist p50", "total p50", "total p99", "per s", "read as"], body
    )


def browser_section(results: dict) -> list[str]:
    """The web page's model in headless Chromium beside onnxruntime's CPU provider (only when asked for)."""
    if results.get("browser") is None:
        return []  # not asked for
    out = ["## In the browser", ""]
    if results.get("browser_skipped"):
        return out + [f"Skipped: {results['browser_skipped']}."]
    out += [
        "The page's shipped models (web/, `digitkit web`) on onnxruntime-web's WebAssembly backend in headless "
        "Chromium, batch 1, beside onnxruntime's CPU provider in Python on the same host and input. Median ms.",
        "",
    ]
    body = [
        [r["model"], str(r["threads"]), _ms(r["browser_ms"]), _ms(r["python_ms"]), f"{r['ratio']:.1f}×"]
        for r in results["browser"]
    ]
    return out + _table(["model", "threads", "browser (wasm)", "onnxruntime CPU", "browser / CPU"], body)


def _read_as(p: dict) -> str:
    said = str(p["predicted"]) if p["status"] == "ok" else p["status"]
    return f"{said} (drawn: {p['drawn_digit']}; confidence {p['confidence']:.2f})"


def sizes_section(results: dict) -> list[str]:
    sizes = results["models"]["sizes"]
    if not sizes:
        return []
    body = [
        [s["model"], f"`{s['file']}`", f"{s['bytes'] / 1024:.1f}", _accuracy(s.get("test_accuracy"))] for s in sizes
    ]
    header = ["model", "file", "KiB", "MNIST test accuracy (from the model's metadata)"]
    return ["## Model sizes on disk", "", *_table(header, body)]


def _accuracy(value: float | None) -> str:
    return f"{value * 100:.2f}%" if value is not None else "–"


def int8_reason(flags: list[str], speedups: list[float]) -> str:
    """Why int8 is (or is not) faster than fp32 here, from the CPU's vector extensions."""
    vnni = [f for f in flags if "vnni" in f or f == "amx_int8"]
    if min(speedups) > 1.05:
        verdict = "int8 is faster at every measured point"
    elif max(speedups) < 0.95:
        verdict = "int8 is slower at every measured point"
    else:
        verdict = "the difference is small or mixed"
    if vnni:
        why = (
            f"this CPU has {', '.join(vnni)}, so an int8 multiply-accumulate is one instruction (VPDPBUSD) on four "
            "times as many values per register as fp32; what int8 loses is the requantisation inside each int8 "
            "convolution, which wins only on wide layers: on thin ones (the tiny model's 1-channel input layer and "
            "depthwise 3×3 convolutions) onnxruntime's QLinearConv is slower than its fp32 Conv"
        )
    elif "avx2" in flags:
        why = (
            "this CPU has AVX2 but no VNNI: each int8 multiply-accumulate takes three instructions "
            "(VPMADDUBSW, VPMADDWD, VPADDD), which eats most of int8's 4× data advantage, and the "
            "Quantize/DequantizeLinear steps cost extra on a model this small"
        )
    else:
        why = "this CPU has no AVX2 or VNNI int8 dot-product instructions"
    return f"Here {verdict}: {why}. int8's sure gain is size on disk (see below)."


def summary_section(results: dict) -> list[str]:
    s = results["summary"]
    out = ["## Summary", ""]
    caveat = " (busy machine: multi-threaded figures are unreliable, see above)" if _busy(results) else ""
    for key, value in s.items():
        if "ort_fp32_batch1_speedup_vs_eager" in key and value is not None:
            t = key.rsplit("threads", 1)[1]
            model = "the tiny model" if key.startswith("tiny_") else "the main model"
            stalled = s.get(("tiny_" if key.startswith("tiny_") else "") + f"eager_stalled_threads{t}")
            if stalled:
                out.append(
                    f"- At batch 1 with {t} threads, {model}: PyTorch eager stalled ({_ms(stalled['p50_ms'])} ms "
                    f"against {_ms(stalled['single_thread_p50_ms'])} ms on one thread: its OpenMP threads wait on "
                    "each other whenever one is descheduled, and other processes held the cores), so the speed-ups against it at "
                    f"{t} threads measure that stall, not the backends."
                )
                continue
            out.append(
                f"- onnxruntime fp32 at batch 1, {t} thread{'s' if t != '1' else ''}, {model}: "
                f"{value:.1f}× faster than PyTorch eager on the same weights" + (caveat if t != "1" else "") + "."
            )
    for key, value in s.items():
        if "ort_fp32_batch1_vs_empty_graph" in key:
            t = key.rsplit("threads", 1)[1]
            model = "the tiny model" if key.startswith("tiny_") else "the main model"
            out.append(
                f"- onnxruntime fp32 at batch 1, {t} thread{'s' if t != '1' else ''}, {model}: {value:.1f}× the time "
                "of a call to a graph without layers (what onnxruntime costs by itself)."
            )
    for prefix, model in (("", "main model"), ("tiny_", "tiny model")):
        int8 = {k: v for k, v in s.items() if k.startswith(prefix + "ort_int8_vs_fp32") and v is not None}
        if not int8:
            continue
        parts = []
        for key, value in int8.items():
            batch, threads = key.removeprefix(prefix + "ort_int8_vs_fp32_speedup_batch").split("_threads")
            parts.append(f"batch {batch}/{threads}t {value:.2f}×")
        out.append(f"- onnxruntime int8 vs fp32, {model} (>1: int8 faster): " + ", ".join(parts) + ".")
        out.append("  " + int8_reason(results["machine"]["cpu_flags"], list(int8.values())))
    if "fastest_batch1_single_thread" in s:
        f = s["fastest_batch1_single_thread"]
        out.append(f"- Fastest at batch 1 on one thread: {f['backend']} ({_ms(f['p50_ms'])} ms).")
    if "fastest_cold_start" in s:
        f = s["fastest_cold_start"]
        out.append(f"- Fastest cold start: {f['backend']} ({f['process_wall_s']:.2f} s from spawn to exit).")
    return out


def _peak_load(machine: dict) -> float:
    loads = (machine.get("load_average_at_start"), machine.get("load_average_at_end"))
    return max((x[0] for x in loads if x), default=0.0)


def _busy(results: dict) -> bool:
    """Other processes wanted more CPU than the machine had to spare while the benchmark ran."""
    machine = results["machine"]
    return _peak_load(machine) > 0.75 * machine["usable_cores"]


def markdown(results: dict) -> str:
    m = results["machine"]
    mode = "`digitkit bench --quick` (rough figures)" if results["config"]["quick"] else "`digitkit bench`"
    load_end = m.get("load_average_at_end")
    lines = [
        "# digitkit benchmark",
        "",
        f"{mode}, {results['started_utc']}, {results['seconds']:.0f} s. Model: `{results['models']['fp32']}`.",
        "",
        f"Machine: {one_line(m)}" + (f", {load_end[0]:.2f} at end." if load_end else "."),
        "",
    ]
    if _busy(results):
        load = _peak_load(m)
        lines += [
            f"**Busy machine**: the load average reached {load:.1f} on {m['usable_cores']} usable cores, so other "
            "processes shared the CPU. Ratios between backends measured side by side hold up better than absolute "
            "times; multi-threaded rows suffer most (an OpenMP barrier, as in PyTorch, waits whenever one of its "
            "threads is descheduled), so read the 1-thread rows first.",
            "",
        ]
    for section in (
        summary_section,
        latency_section,
        backends_section,
        cold_start_section,
        pipeline_section,
        browser_section,
        sizes_section,
    ):
        part = section(results)
        if part:
            lines += part + [""]
    return "\n".join(lines)
