"""Confidence that means what it says: temperature scaling and its measures.

Temperature scaling (Guo et al., "On Calibration of Modern Neural Networks", ICML 2017) divides the
logits by one number T, fitted by maximum likelihood on held-out data; the predicted digit never
changes, only how sure the model says it is. The runtime reads T from the model's metadata
(``digitkit.temperature``). The expected calibration error (ECE, 15 equal-width bins of the top
probability) and a reliability diagram show the result.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

BINS = 15  # the usual ECE bins (Guo et al. 2017)
T_RANGE = (0.05, 20.0)


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = np.asarray(logits, np.float64) / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def negative_log_likelihood(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    p = softmax(logits, temperature)[np.arange(len(labels)), labels]
    return float(-np.mean(np.log(np.maximum(p, 1e-300))))


def fit_temperature(logits: np.ndarray, labels: np.ndarray, tol: float = 1e-4) -> float:
    """The T minimising the mean negative log-likelihood (convex in 1/T), by golden-section search on log T."""
    lo, hi = np.log(T_RANGE[0]), np.log(T_RANGE[1])
    g = (np.sqrt(5) - 1) / 2
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = (negative_log_likelihood(logits, labels, np.exp(x)) for x in (a, b))
    while hi - lo > tol:
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = negative_log_likelihood(logits, labels, np.exp(a))
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = negative_log_likelihood(logits, labels, np.exp(b))
    return float(np.exp((lo + hi) / 2))


def reliability(probabilities: np.ndarray, labels: np.ndarray, bins: int = BINS) -> dict[str, list[float]]:
    """Per bin of the top probability: its mean confidence, its accuracy and its share of the digits."""
    confidence = probabilities.max(axis=1)
    right = probabilities.argmax(axis=1) == labels
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    rows: dict[str, list[float]] = {"confidence": [], "accuracy": [], "share": []}
    for b in range(bins):
        inside = which == b
        rows["share"].append(float(inside.mean()))
        rows["confidence"].append(float(confidence[inside].mean()) if inside.any() else float("nan"))
        rows["accuracy"].append(float(right[inside].mean()) if inside.any() else float("nan"))
    return rows


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = BINS) -> float:
    """Sum over bins of |accuracy - confidence| weighted by the bin's share of the digits."""
    r = reliability(probabilities, labels, bins)
    return float(
        sum(s * abs(a - c) for s, a, c in zip(r["share"], r["accuracy"], r["confidence"], strict=True) if s > 0)
    )


def draw_reliability(sets: dict[str, tuple[np.ndarray, np.ndarray]], path: Path, title: str) -> None:
    """One panel per set ({name: (probabilities, labels)}): accuracy against confidence per bin, ECE in the title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from digitkit.runtime.files import atomic_write_bytes

    fig, axes = plt.subplots(1, len(sets), figsize=(4.2 * len(sets), 4.2), squeeze=False)
    for ax, (name, (probs, labels)) in zip(axes[0], sets.items(), strict=True):
        r = reliability(probs, labels)
        centres = (np.arange(BINS) + 0.5) / BINS
        ax.bar(centres, np.nan_to_num(r["accuracy"]), width=1 / BINS, edgecolor="black", label="accuracy in the bin")
        ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
        ax.plot(centres, np.array(r["confidence"]), "o", color="darkorange", label="mean confidence in the bin")
        ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence (top probability)", ylabel="accuracy")
        ece = expected_calibration_error(probs, labels)
        ax.set_title(f"{name}: ECE {ece:.2%} ({len(labels):,} digits)", fontsize=10)
        ax.legend(loc="upper left", fontsize=8)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())
