"""The seed paper's published numbers, which the report puts beside ours.

Only what the paper states is recorded here: test accuracy per model family
and the training times it gives (MLP 2 min 32 s, CNN about 44 min).
"""

from __future__ import annotations

PAPER: dict[str, dict[str, float | str]] = {
    "SVM": {"accuracy": 97.91},
    "MLP": {"accuracy": 98.85, "train_seconds": 152.0, "train_time": "2 min 32 s"},
    "CNN": {"accuracy": 99.31, "train_seconds": 44 * 60.0, "train_time": "about 44 min"},
}
