"""The study's figures, drawn from results.json alone (plus the test images for the gallery).

Every figure has a title, labelled axes with units and a legend where more
than one series shares axes, so it reads without the text around it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from digitkit.train.study.paper import PAPER  # noqa: E402
from digitkit.train.study.timing import wilson_interval  # noqa: E402

COLORS = {"svm_plain": "#9e9e9e", "svm_tuned": "#1f77b4", "mlp": "#ffae42", "mlp_aug": "#d62728", "cnn": "#2ca02c"}
DPI = 110
GALLERY_MAX = 40


def _color(model: dict[str, Any]) -> str:
    return COLORS.get(model["key"], "#555555")


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return path


def accuracy_figure(models: list[dict[str, Any]], path: Path) -> Path:
    names = [m["name"] for m in models]
    y = np.arange(len(models))
    fig, (ax_acc, ax_err) = plt.subplots(1, 2, figsize=(12, 0.6 * len(models) + 2.2), sharey=True)
    acc = np.array([100 * m["accuracy"] for m in models])
    ci = np.array([wilson_interval(m["n"] - m["errors"], m["n"]) for m in models]) * 100
    ax_acc.barh(y, acc, color=[_color(m) for m in models], xerr=[acc - ci[:, 0], ci[:, 1] - acc], capsize=4)
    for yi, a in zip(y, acc, strict=True):
        ax_acc.text(a, yi + 0.3, f" {a:.2f} %", va="center", fontsize=9)
    paper_x = [PAPER[m["family"]]["accuracy"] for m in models]
    ax_acc.scatter(paper_x, y, marker="D", color="black", zorder=3, label="seed paper (same model family)")
    low = min(acc.min(), min(paper_x))
    ax_acc.set_xlim(max(low - 1.0, 0), 100)
    ax_acc.set_yticks(y, names)
    ax_acc.invert_yaxis()
    ax_acc.set_xlabel("test accuracy (%), whiskers: 95 % confidence interval")
    ax_acc.set_title(f"Test accuracy on {models[0]['n']:,} MNIST test images")
    ax_acc.legend(loc="lower left", fontsize=8)
    ax_acc.grid(axis="x", alpha=0.3)
    errors = [m["errors"] for m in models]
    ax_err.barh(y, errors, color=[_color(m) for m in models])
    for yi, m in zip(y, models, strict=True):
        ax_err.text(m["errors"], yi, f" {m['errors']} ({100 * m['error_rate']:.2f} %)", va="center", fontsize=9)
    ax_err.set_xlim(0, max(errors) * 1.35 + 1)
    ax_err.set_xlabel("misclassified test images (count; error rate in brackets)")
    ax_err.set_title("Errors")
    ax_err.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


def time_figure(models: list[dict[str, Any]], path: Path) -> Path:
    names = [m["name"] for m in models]
    y = np.arange(len(models))
    colors = [_color(m) for m in models]
    fig, axes = plt.subplots(1, 3, figsize=(15, 0.6 * len(models) + 2.4), sharey=True)
    ax_train, ax_test, ax_image = axes
    train = [m["train_seconds"] for m in models]
    ax_train.barh(y, train, color=colors)
    for yi, t in zip(y, train, strict=True):
        ax_train.text(t, yi, f" {_duration(t)}", va="center", fontsize=9)
    paper = [(i, PAPER[m["family"]].get("train_seconds")) for i, m in enumerate(models)]
    paper = [(i, s) for i, s in paper if s]
    if paper:
        # on the bar's top edge, clear of the value label at the bar's centre line
        ax_train.scatter([s for _, s in paper], [i - 0.4 for i, _ in paper], marker="D", color="black", zorder=3,
                         label="seed paper's training time")  # fmt: skip
        ax_train.legend(loc="lower right", fontsize=8)
    ax_train.set_title("Training time (wall clock, one thread)")
    ax_train.set_xlabel("seconds (log scale)")
    test = [m["test_seconds"] for m in models]
    ax_test.barh(y, test, color=colors)
    for yi, t in zip(y, test, strict=True):
        ax_test.text(t, yi, f" {_duration(t)}", va="center", fontsize=9)
    ax_test.set_title(f"Testing time, all {models[0]['n']:,} test images")
    ax_test.set_xlabel("seconds (log scale), native library, batched")
    native = np.array([m["test_ms_per_image"] for m in models])
    onnx_batch = np.array([m["onnx"]["ms_per_image"] for m in models])
    onnx_single = np.array([m["onnx"]["latency_ms_median"] for m in models])
    h = 0.27
    ax_image.barh(y - h, native, h, color=colors, label="native (scikit-learn / PyTorch), batched")
    ax_image.barh(y, onnx_batch, h, color=colors, alpha=0.55, hatch="//", label="ONNX Runtime, batches of 1,000")
    ax_image.barh(y + h, onnx_single, h, color=colors, alpha=0.3, hatch="..", label="ONNX Runtime, one image (median)")
    ax_image.set_title("Time per image")
    ax_image.set_xlabel("milliseconds per image (log scale)")
    ax_image.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=8)
    for ax in axes:
        ax.set_xscale("log")
        ax.grid(axis="x", which="both", alpha=0.25)
        lo, hi = ax.get_xlim()
        ax.set_xlim(lo, hi * 6)
    ax_train.set_yticks(y, names)
    ax_train.invert_yaxis()
    fig.tight_layout()
    return _save(fig, path)


def _duration(seconds: float) -> str:
    if seconds >= 60:
        return f"{int(seconds // 60)} min {seconds % 60:02.0f} s"
    if seconds >= 1:
        return f"{seconds:.1f} s"
    return f"{1000 * seconds:.0f} ms"


def confusion_figure(models: list[dict[str, Any]], path: Path) -> Path:
    cols = min(3, len(models))
    rows = (len(models) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 4.9 * rows), squeeze=False)
    worst = 2
    for m in models:
        off = np.array(m["confusion_matrix"])
        np.fill_diagonal(off, 0)
        worst = max(worst, int(off.max()))
    norm = LogNorm(vmin=1, vmax=worst)  # one colour scale for all models, so cells compare across panels
    for ax, m in zip(axes.flat, models, strict=False):
        cm = np.array(m["confusion_matrix"])
        off = cm.astype(float)
        np.fill_diagonal(off, np.nan)
        image = ax.imshow(np.where(off > 0, off, np.nan), cmap="Reds", norm=norm)
        for (r, c), count in np.ndenumerate(cm):
            if r == c:
                ax.text(c, r, str(count), ha="center", va="center", fontsize=6, color="#1a5e1a")
            elif count:
                dark = np.log(count) > 0.6 * np.log(worst)
                ax.text(c, r, str(count), ha="center", va="center", fontsize=7, color="white" if dark else "black")
        ax.set_xticks(range(10))
        ax.set_yticks(range(10))
        ax.set_xlabel("predicted digit")
        ax.set_ylabel("true digit")
        ax.set_title(f"{m['name']}: {m['errors']} errors", fontsize=10)
        bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="errors in cell (log colour)")
        bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
        bar.ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _pos: ""))
    for ax in list(axes.flat)[len(models) :]:
        ax.axis("off")
    fig.suptitle("Confusion matrices (green: correct counts on the diagonal; red: errors)", fontsize=12)
    fig.tight_layout()
    return _save(fig, path)


def per_class_figure(models: list[dict[str, Any]], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(12, 4.2))
    width = 0.8 / len(models)
    digits = np.arange(10)
    lowest = 100.0
    for i, m in enumerate(models):
        acc = 100 * np.array(m["per_class_accuracy"])
        lowest = min(lowest, acc.min())
        ax.bar(digits + (i - (len(models) - 1) / 2) * width, acc, width, color=_color(m), label=m["name"])
    ax.set_ylim(max(lowest - 0.5, 0), 100.2)
    ax.set_xticks(digits)
    ax.set_xlabel("true digit")
    ax.set_ylabel("accuracy on that digit's test images (%)")
    ax.set_title("Per-class test accuracy")
    ax.legend(ncol=len(models), fontsize=8, loc="lower center", bbox_to_anchor=(0.5, -0.32))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


def gallery_figure(model: dict[str, Any], test_images: np.ndarray, path: Path) -> Path:
    wrong = model["misclassified"][:GALLERY_MAX]
    cols = 10
    rows = max(1, (len(wrong) + cols - 1) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.15, rows * 1.35 + 0.6), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, (index, predicted, true) in zip(axes.flat, wrong, strict=False):
        ax.imshow(test_images[index], cmap="gray_r", vmin=0, vmax=255)
        ax.set_title(f"{predicted} (true {true})", fontsize=9, color="#b00020")
    shown = f"first {len(wrong)} of {model['errors']}" if model["errors"] > len(wrong) else f"all {model['errors']}"
    fig.suptitle(f"{model['name']}: misclassified test digits ({shown}, by test index); label: predicted (true)",
                 fontsize=11)  # fmt: skip
    fig.tight_layout()
    return _save(fig, path)


def learning_curves_figure(models: list[dict[str, Any]], path: Path) -> Path:
    trained = [m for m in models if m.get("history")]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(12, 4.3))
    for m in trained:
        epochs = [h["epoch"] for h in m["history"]]
        ax_loss.plot(epochs, [h["loss"] for h in m["history"]], "o-", ms=3, color=_color(m), label=m["name"])
        ax_acc.plot(epochs, [100 * h["test_accuracy"] for h in m["history"]], "o-", ms=3, color=_color(m),
                    label=f"{m['name']}: test")  # fmt: skip
        ax_acc.plot(epochs, [100 * h["train_accuracy"] for h in m["history"]], "--", color=_color(m), alpha=0.7,
                    label=f"{m['name']}: training batches")  # fmt: skip
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("training loss (cross-entropy, log scale)")
    ax_loss.set_title("Training loss per epoch")
    ax_loss.legend(fontsize=8)
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("accuracy (%)")
    ax_acc.set_title("Accuracy per epoch (solid: test set; dashed: training batches as trained)")
    finals = [100 * h["test_accuracy"] for m in trained for h in m["history"][len(m["history"]) // 3 :]]
    ax_acc.set_ylim(max(min(finals) - 1.5, 0) if finals else 90, 100)
    ax_acc.legend(fontsize=7, loc="lower right")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    return _save(fig, path)


def size_accuracy_figure(models: list[dict[str, Any]], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    for m in models:
        size_kb = m["onnx"]["bytes"] / 1024
        ax.scatter(size_kb, 100 * m["accuracy"], s=70, color=_color(m), label=m["name"], zorder=3)
        ax.annotate(f"{m['name']}\n{m['parameters']:,} parameters", (size_kb, 100 * m["accuracy"]),
                    textcoords="offset points", xytext=(8, -4), fontsize=8)  # fmt: skip
    ax.set_xscale("log")
    lo, hi = ax.get_xlim()
    ax.set_xlim(lo / 1.5, hi * 8)
    ax.set_xlabel("ONNX model file size (KiB, log scale)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("Model size vs accuracy")
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return _save(fig, path)


def schedule_figure(models: list[dict[str, Any]], wall_seconds: float, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(10, 2.6))
    lanes = sorted({m["schedule"]["process"] for m in models if "schedule" in m}, reverse=True)
    for m in models:
        s = m.get("schedule")
        if not s:
            continue
        lane = lanes.index(s["process"])
        ax.barh(lane, (s["end_s"] - s["start_s"]) / 60, left=s["start_s"] / 60, color=_color(m), edgecolor="white")
        narrow = (s["end_s"] - s["start_s"]) < 0.06 * wall_seconds
        label = m["name"].replace(", ", "\n") if not narrow else m["family"]
        ax.text((s["start_s"] + s["end_s"]) / 120, lane, label, ha="center", va="center", fontsize=7,
                rotation=90 if narrow else 0)  # fmt: skip
    ax.axvline(wall_seconds / 60, color="black", ls="--", lw=1, label=f"all models done: {wall_seconds / 60:.1f} min")
    ax.set_xlim(0, wall_seconds / 60 * 1.03)
    ax.set_yticks(range(len(lanes)), [f"{lane} process" for lane in lanes])
    ax.set_xlabel("minutes since the start of the run (train + test + ONNX export and timing)")
    ax.set_title("Schedule: two single-threaded processes on the two cores")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


def draw_all(results: dict[str, Any], test_images: np.ndarray, out: Path) -> dict[str, Path]:
    models = results["models"]
    figures = out / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    paths = {
        "accuracy": accuracy_figure(models, figures / "accuracy.png"),
        "times": time_figure(models, figures / "times.png"),
        "confusion": confusion_figure(models, figures / "confusion.png"),
        "per_class": per_class_figure(models, figures / "per_class.png"),
        "learning_curves": learning_curves_figure(models, figures / "learning_curves.png"),
        "size_accuracy": size_accuracy_figure(models, figures / "size_accuracy.png"),
        "schedule": schedule_figure(models, results["wall_seconds_training_and_evaluation"], figures / "schedule.png"),
    }
    for m in models:
        paths[f"misclassified_{m['key']}"] = gallery_figure(m, test_images, figures / f"misclassified_{m['key']}.png")
    return paths
