"""Style-varied digits, drawn with varied pens and normalised the way the runtime normalises a picture.

The runtime never feeds the model a raw picture: ``vision.to_mnist`` binarises,
crops, re-pens and centres it. So the style digits (``train/strokes.py``) are
drawn as a person would (dark ink on light paper, a pen of some width, a slant,
a size) and then passed through ``to_mnist`` itself: the model trains on what it
will be given. Everything is seeded; the same call gives the same digits.

``TRAINING_PENS`` are for training; ``HELD_OUT_PENS`` (other widths, sizes and
blur, used with another seed) draw the per-style evaluation set
(``train/style_table.py``) and the held-out set model selection may use.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from digitkit.runtime.vision import to_mnist
from digitkit.train.strokes import VARIANTS, Stroke

SUBPIXEL = 4  # cv2 fixed-point bits for polyline coordinates


@dataclass(frozen=True)
class Pen:
    """How a digit is put on paper: stroke width as a share of the digit's height, its height in pixels, blur."""

    width: tuple[float, float]
    height_px: tuple[int, int]
    blur: tuple[float, float]


TRAINING_PENS: tuple[Pen, ...] = (
    Pen(width=(0.03, 0.06), height_px=(40, 120), blur=(0.0, 1.0)),  # ballpoint
    Pen(width=(0.06, 0.10), height_px=(40, 120), blur=(0.0, 1.0)),  # fineliner
    Pen(width=(0.10, 0.17), height_px=(40, 120), blur=(0.0, 1.5)),  # felt tip
)
HELD_OUT_PENS: tuple[Pen, ...] = (
    Pen(width=(0.045, 0.05), height_px=(56, 60), blur=(0.5, 0.6)),
    Pen(width=(0.12, 0.13), height_px=(90, 96), blur=(1.0, 1.1)),
)
TRAINING_SEED = 12
HELD_OUT_SEED = 1012


@dataclass(frozen=True)
class StyleSet:
    """Style digits as the model is fed them: uint8 (N, 28, 28) white on black, labels, variant index per digit."""

    images: np.ndarray
    labels: np.ndarray
    variants: np.ndarray
    names: tuple[str, ...]


def _pose(strokes: list[Stroke], rng: np.random.Generator) -> list[Stroke]:
    """A writer's hand: aspect, slant and a small rotation, the same for every stroke of the digit."""
    aspect = rng.uniform(0.7, 1.35)
    slant = rng.uniform(-0.35, 0.2)  # x shift per unit of height above the middle (right-leaning writing: < 0)
    angle = np.radians(rng.uniform(-8, 8))
    rotate = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    out = []
    for s in strokes:
        x, y = (s[:, 0] - 0.3) * aspect, s[:, 1] - 0.5
        out.append(np.stack([x + slant * y, y], axis=1) @ rotate.T)
    return out


def draw(strokes: list[Stroke], pen: Pen, rng: np.random.Generator) -> np.ndarray:
    """The strokes on paper: a grey uint8 picture, dark ink on light paper, the digit ``pen.height_px`` tall."""
    strokes = _pose(strokes, rng)
    height = rng.uniform(*pen.height_px)
    width = max(1, round(rng.uniform(*pen.width) * height))
    points = np.concatenate(strokes)
    low, high = points.min(axis=0), points.max(axis=0)
    scale = height / max(high[1] - low[1], 1e-6)
    margin = height * rng.uniform(0.3, 0.8)
    size = np.ceil((high - low) * scale + 2 * margin).astype(int)
    ink = np.zeros((size[1], size[0]), np.uint8)
    polylines = [np.round(((s - low) * scale + margin) * (1 << SUBPIXEL)).astype(np.int32) for s in strokes]
    cv2.polylines(ink, polylines, False, 255, width, cv2.LINE_AA, SUBPIXEL)
    sigma = rng.uniform(*pen.blur)
    if sigma > 0.05:
        ink = cv2.GaussianBlur(ink, (0, 0), sigma)
    paper, dark = rng.uniform(180, 250), rng.uniform(0, 90)
    picture = paper - (paper - dark) * (ink.astype(np.float32) / 255.0) + rng.normal(0, 3, ink.shape)
    return np.clip(picture, 0, 255).astype(np.uint8)


def as_model_input(picture: np.ndarray) -> np.ndarray | None:
    """``to_mnist`` as uint8 (28, 28), as MNIST is stored; None when the runtime finds no digit."""
    mnist = to_mnist(picture)
    return None if mnist is None else np.round(mnist * 255).astype(np.uint8)


def iter_style_digits(
    per_variant: int, seed: int = TRAINING_SEED, pens: tuple[Pen, ...] = TRAINING_PENS, variants: tuple[str, ...] = ()
) -> Iterator[tuple[np.ndarray, int, str]]:
    """Yield (28×28 uint8 as the runtime would normalise it, digit, variant name), ``per_variant`` of each.

    Pens cycle; a drawing the runtime reads as no digit is skipped (not replaced).
    """
    rng = np.random.default_rng(seed)
    for name in variants or tuple(VARIANTS):
        digit, draw_variant = VARIANTS[name]
        for i in range(per_variant):
            image = as_model_input(draw(draw_variant(rng), pens[i % len(pens)], rng))
            if image is not None:
                yield image, digit, name


def style_digits(
    per_variant: int, seed: int = TRAINING_SEED, pens: tuple[Pen, ...] = TRAINING_PENS, variants: tuple[str, ...] = ()
) -> StyleSet:
    """``iter_style_digits`` gathered into arrays."""
    names = variants or tuple(VARIANTS)
    images, labels, which = [], [], []
    for image, digit, name in iter_style_digits(per_variant, seed, pens, names):
        images.append(image)
        labels.append(digit)
        which.append(names.index(name))
    return StyleSet(
        np.stack(images) if images else np.zeros((0, 28, 28), np.uint8),
        np.array(labels, dtype=np.int64),
        np.array(which, dtype=np.int64),
        names,
    )
