"""The pictures a benchmark feeds: digits drawn with OpenCV, no data set needed.

A CNN's latency does not depend on what the pixels show, but the backends'
outputs are compared with each other, so the inputs are real-looking digits
(strokes, varied position, size and slant) rather than noise. They are drawn
here so that `digitkit bench` runs with the runtime install alone (MNIST
loading lives in the train extra).
"""

from __future__ import annotations

import cv2
import numpy as np

from digitkit.runtime.app.canvas import pen_width

FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, cv2.FONT_HERSHEY_PLAIN)


def _draw_digit(
    digit: int, size: int, rng: np.random.Generator, pen: int | None = None, fonts: tuple[int, ...] = FONTS
) -> np.ndarray:
    """One digit, white ink on black, on a size×size uint8 canvas; ``pen``: the stroke's width in pixels."""
    canvas = np.zeros((size, size), np.uint8)
    font = fonts[int(rng.integers(len(fonts)))]
    scale = size / 30 * (0.8 if font != cv2.FONT_HERSHEY_PLAIN else 1.6)
    # MNIST strokes: about a tenth of the height
    thickness = pen or max(1, int(round(size * 0.6 * rng.uniform(0.07, 0.11))))
    text = str(digit)
    (w, h), _ = cv2.getTextSize(text, font, scale, thickness)
    x = (size - w) // 2 + int(rng.integers(-size // 10, size // 10 + 1))
    y = (size + h) // 2 + int(rng.integers(-size // 10, size // 10 + 1))
    cv2.putText(canvas, text, (x, y), font, scale, 255, thickness, cv2.LINE_AA)
    angle = rng.uniform(-12, 12)
    shear = rng.uniform(-0.2, 0.2)
    m = cv2.getRotationMatrix2D((size / 2, size / 2), angle, 1.0)
    m[0, 1] += shear
    return cv2.warpAffine(canvas, m, (size, size))


def digit_batch(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n MNIST-like (28,28) float32 digits in [0,1] and their labels."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    images = np.empty((n, 28, 28), np.float32)
    for i, d in enumerate(labels):
        big = _draw_digit(int(d), 112, rng)
        # MNIST layout: the digit fits a 20×20 box in the middle of 28×28
        ys, xs = np.nonzero(big)
        crop = big[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1] if len(ys) else big
        h, w = crop.shape
        k = 20 / max(h, w)
        small = cv2.resize(crop, (max(1, round(w * k)), max(1, round(h * k))), interpolation=cv2.INTER_AREA)
        y0, x0 = (28 - small.shape[0]) // 2, (28 - small.shape[1]) // 2
        out = np.zeros((28, 28), np.uint8)
        out[y0 : y0 + small.shape[0], x0 : x0 + small.shape[1]] = small
        images[i] = out / 255.0
    return images, labels


def drawing(digit: int = 7, size: int = 280, seed: int = 0) -> np.ndarray:
    """A size×size drawing-app canvas: white strokes on black of the app's pen (``runtime/app/canvas.py``: 1/18 of
    the canvas), in a single-stroke font, as a mouse draws. (The MNIST-like batches keep their bolder pens and
    double-stroke fonts: a 280-px DUPLEX 7 of those is a fifth of the canvas wide, a marker no draw window has.)"""
    single_stroke = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX)
    return _draw_digit(digit, size, np.random.default_rng(seed), pen=pen_width(size), fonts=single_stroke)


def camera_frame(digit: int = 3, width: int = 640, height: int = 480, seed: int = 0) -> np.ndarray:
    """A BGR camera frame: dark pen on uneven grey paper with sensor noise, the digit about a third of the height."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    light = 170 + 50 * (xx / width) - 30 * (yy / height)  # uneven lighting across the sheet
    ink = _draw_digit(digit, height // 3, rng).astype(np.float32) / 255.0
    y0, x0 = height // 3, width // 2 - height // 6
    paper = light.copy()
    paper[y0 : y0 + ink.shape[0], x0 : x0 + ink.shape[1]] *= 1.0 - 0.8 * ink
    grey = np.clip(paper + rng.normal(0, 6, paper.shape), 0, 255).astype(np.uint8)
    frame = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    frame[..., 0] = cv2.add(frame[..., 0], 12)  # a slight blue cast, as white balance leaves it
    return frame
