"""The train/test split every model of one study run sees.

The full run uses all 60,000 training and 10,000 test images; ``--quick``
takes the first N of each so the whole study runs in seconds (tests).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from digitkit.train.mnist import load_mnist


@dataclass(frozen=True)
class Split:
    train_images: np.ndarray  # (N, 28, 28) uint8
    train_labels: np.ndarray  # (N,) int64
    test_images: np.ndarray
    test_labels: np.ndarray
    onnx_limit: int | None = None  # time ONNX on the first N test images only (None: all)

    def onnx_images(self) -> np.ndarray:
        return self.test_images[: self.onnx_limit] if self.onnx_limit else self.test_images


def load_split(
    train_size: int | None = None, test_size: int | None = None, onnx_limit: int | None = None, data_dir=None
) -> Split:
    data = load_mnist(data_dir, log=lambda _msg: None)
    return Split(
        np.array(data.train_images[:train_size]),  # writable copies: torch.from_numpy warns on read-only arrays
        np.asarray(data.train_labels[:train_size], dtype=np.int64),
        np.array(data.test_images[:test_size]),
        np.asarray(data.test_labels[:test_size], dtype=np.int64),
        onnx_limit,
    )
