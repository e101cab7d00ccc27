"""The training set of a preset: MNIST's training digits plus, when the preset asks, the style digits.

One function, called by the trainer where it builds its tensors, so every
training path (one process or several) sees the same seeded set. The style
digits (``styles.py``, drawn from ``strokes.py``) and MNIST digits given a flag,
a crossbar or a slash (``mnist_styles.py``) are made here from nothing but code
and MNIST's training set, so the set regenerates offline; nothing evaluated
(MNIST test, USPS, Semeion, photos) ever enters it.
"""

from __future__ import annotations

import numpy as np
import torch

from digitkit.train.config import TrainConfig
from digitkit.train.mnist_styles import mnist_style_variants
from digitkit.train.styles import style_digits


def with_style_digits(
    images: torch.Tensor, labels: torch.Tensor, cfg: TrainConfig
) -> tuple[torch.Tensor, torch.Tensor]:
    """``images`` (uint8 (N, 28, 28) MNIST training digits) and ``labels``, extended per ``cfg``'s style fields."""
    if cfg.style_per_variant <= 0 and cfg.mnist_style_per_digit <= 0:
        return images, labels
    parts, part_labels = [images.cpu().numpy()], [labels.cpu().numpy()]
    if cfg.style_per_variant > 0:
        drawn = style_digits(cfg.style_per_variant, seed=cfg.style_seed)
        parts.append(drawn.images)
        part_labels.append(drawn.labels)
    if cfg.mnist_style_per_digit > 0:
        varied, varied_labels = mnist_style_variants(
            parts[0], part_labels[0], cfg.mnist_style_per_digit, cfg.style_seed
        )
        parts.append(varied)
        part_labels.append(varied_labels)
    return (
        torch.from_numpy(np.concatenate(parts)).to(images.device),
        torch.from_numpy(np.concatenate(part_labels)).to(labels.device),
    )
