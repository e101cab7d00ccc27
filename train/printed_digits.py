"""Printed digits beside the handwriting: Hershey-font digits as ``to_mnist`` makes them, for fine-tuning runs.

    images, labels = printed_digits(5000)

CVL's 2s stand on a flat foot and its 1s have none, so a model fine-tuned on CVL without print reads the foot
of a printed 1 (DUPLEX, COMPLEX, TRIPLEX...) as a 2's. Digits in four of OpenCV's eight Hershey fonts keep
print in the training set; the other four (``nondigits.CALIBRATION_FONTS``) stay out, so the tests and checks
that print digits in them see fonts the classifier never trained on.
"""

from __future__ import annotations

import numpy as np

from digitkit.train import nondigits

TRAINING_FONTS = tuple(f for f in nondigits.FONTS if f not in nondigits.CALIBRATION_FONTS)
SEED = 2718
SIZES = (28, 56, 112)  # pixels: the sizes font_digit draws at, as the guard's printed digits


def printed_digits(n: int, seed: int = SEED, fonts: tuple[str, ...] = TRAINING_FONTS) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``n`` printed digits, 0-9 in turn, at random size, slant and paper: uint8 (N, 28, 28) white on black, and
    their labels (N <= n: a digit too faint for ``to_mnist`` to find is left out)."""
    from digitkit.runtime.vision import to_mnist

    rng = np.random.default_rng(seed)
    images, labels = [], []
    for i in range(n):
        digit = i % 10
        mnist = to_mnist(nondigits.font_digit(digit, rng, int(rng.choice(SIZES)), fonts))
        if mnist is not None:
            images.append(np.round(mnist * 255).astype(np.uint8))
            labels.append(digit)
    return np.stack(images), np.array(labels, np.int64)
