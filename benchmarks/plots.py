"""results.json -> matplotlib figures: latency, throughput, cold start, sizes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only, never a window

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator  # noqa: E402


def close(figure: Figure) -> None:
    plt.close(figure)


def _colours(labels: list[str]) -> dict[str, tuple]:
    cmap = plt.get_cmap("tab10" if len(labels) <= 10 else "tab20")
    return {label: cmap(i % cmap.N) for i, label in enumerate(labels)}


def _subtitle(results: dict) -> str:
    m = results["machine"]
    mode = "--quick" if results["config"]["quick"] else "default run"
    return f"{m['cpu']}, {m['usable_cores']} cores ({mode}, {results['started_utc'][:10]})"


def _batch_axis(ax, batches: list[int]) -> None:
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_locator(FixedLocator(batches))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xticklabels([str(b) for b in batches])
    ax.set_xlabel("batch size (images per call)")
    ax.grid(True, which="major", alpha=0.3)


def _per_thread_panels(results: dict, value, ylabel: str, title: str, error=None) -> Figure:
    """One panel per (model, thread count): the main model on top, the tiny model below; one colour per backend."""
    rows = results["latency"]
    threads = sorted({r["threads"] for r in rows})
    models = [m for m in ("cnn", "tiny") if any(r["model"] == m for r in rows)]
    batches = sorted({r["batch"] for r in rows})
    backends = list(dict.fromkeys(r["backend"] for r in rows))
    colours = _colours(backends)
    fig, axes = plt.subplots(
        len(models), len(threads), figsize=(6.2 * len(threads), 4.3 * len(models)), sharey=True, squeeze=False
    )
    for row_axes, model in zip(axes, models, strict=True):
        for ax, t in zip(row_axes, threads, strict=True):
            for backend in backends:
                series = sorted(
                    (r for r in rows if (r["backend"], r["model"], r["threads"]) == (backend, model, t)),
                    key=lambda r: r["batch"],
                )
                if not series:
                    continue
                xs = [r["batch"] for r in series]
                ys = [value(r) for r in series]
                if error is not None:
                    low, high = zip(*(error(r) for r in series), strict=True)
                    ax.errorbar(
                        xs, ys, yerr=[low, high], fmt="o-", ms=4, capsize=3, label=backend, color=colours[backend]
                    )
                else:
                    ax.plot(xs, ys, "o-", ms=4, label=backend, color=colours[backend])
            _batch_axis(ax, batches)
            ax.set_yscale("log")
            name = "main model (digitkit-cnn)" if model == "cnn" else "tiny model (digitkit-tiny)"
            ax.set_title(f"{name}, {t} thread{'s' if t > 1 else ''}", fontsize=10)
        row_axes[0].set_ylabel(ylabel)
    handles, names = {}, {}
    for ax in axes.flat:
        for handle, name in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(name, handle)
    names = list(handles)
    fig.suptitle(f"{title}\n{_subtitle(results)}", fontsize=11)
    fig.tight_layout()
    # below the panels; savefig(bbox_inches="tight") keeps it in the picture
    fig.legend(
        [handles[n] for n in names],
        names,
        loc="upper center",
        ncol=min(4, len(names)),
        fontsize=8,
        frameon=False,
        bbox_to_anchor=(0.5, 0.02),
    )
    return fig


def latency_figure(results: dict) -> Figure:
    return _per_thread_panels(
        results,
        lambda r: r["p50_ms"],
        "latency per call, ms (log scale)",
        "Model latency by batch size: median, bars to p90",
        error=lambda r: (0.0, max(0.0, r["p90_ms"] - r["p50_ms"])),
    )


def throughput_figure(results: dict) -> Figure:
    return _per_thread_panels(
        results,
        lambda r: r["images_per_s"],
        "images per second (log scale)",
        "Throughput by batch size (at the median latency)",
    )


def cold_start_figure(results: dict) -> Figure | None:
    ran = [c for c in results["cold_start"] if c["status"] == "ran"]
    if not ran:
        return None
    fig, (ax, ax_mem) = plt.subplots(
        1, 2, figsize=(12, 0.5 * len(ran) + 2.2), gridspec_kw={"width_ratios": [2, 1]}, sharey=True
    )
    names = [c["backend"] for c in ran]
    parts = [
        ("interpreter start + exit", "interpreter_s", "#bbbbbb"),
        ("import", "import_s", "#4c72b0"),
        ("load model", "load_s", "#dd8452"),
        ("first prediction", "first_prediction_s", "#55a868"),
    ]
    left = [0.0] * len(ran)
    for label, key, colour in parts:
        widths = [c[key] for c in ran]
        ax.barh(names, widths, left=left, color=colour, label=label)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    for y, total in enumerate(left):
        ax.text(total, y, f" {total:.2f} s", va="center", fontsize=8)
    ax.set_xlabel("seconds from spawn to exit of a fresh process")
    ax.set_xlim(0, max(left) * 1.18)
    ax.invert_yaxis()
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=4, fontsize=8, frameon=False)
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_title("Cold start: import → load → first prediction")
    rss = [c["peak_rss_mib"] for c in ran]
    ax_mem.barh(names, rss, color="#8172b3")
    for y, value in enumerate(rss):
        ax_mem.text(value, y, f" {value:.0f}", va="center", fontsize=8)
    ax_mem.set_xlabel("peak resident memory, MiB")
    ax_mem.set_xlim(0, max(rss) * 1.2)
    ax_mem.grid(True, axis="x", alpha=0.3)
    ax_mem.set_title("Peak RSS")
    fig.suptitle(_subtitle(results), fontsize=9)
    fig.tight_layout()
    return fig


def sizes_figure(results: dict) -> Figure | None:
    sizes = results["models"]["sizes"]
    if not sizes:
        return None
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(sizes) + 1.6))
    names = [f"{s['model']}" for s in sizes]
    kib = [s["bytes"] / 1024 for s in sizes]
    ax.barh(names, kib, color=["#4c72b0" if "fp32" in n else "#dd8452" for n in names])
    for y, (value, s) in enumerate(zip(kib, sizes, strict=True)):
        accuracy = f", {s['test_accuracy'] * 100:.2f}% on MNIST test" if s.get("test_accuracy") else ""
        ax.text(value, y, f" {value:.0f} KiB{accuracy}", va="center", fontsize=8)
    ax.set_xlabel("size on disk, KiB")
    ax.set_xlim(0, max(kib) * 1.55)
    ax.invert_yaxis()
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_title("Model files on disk (blue fp32, orange int8)")
    fig.tight_layout()
    return fig


def all_figures(results: dict) -> dict[str, Figure]:
    figures: dict[str, Figure | None] = {}
    if results["latency"]:
        figures["latency_by_batch"] = latency_figure(results)
        figures["throughput"] = throughput_figure(results)
    figures["cold_start"] = cold_start_figure(results)
    figures["sizes"] = sizes_figure(results)
    return {name: fig for name, fig in figures.items() if fig is not None}
