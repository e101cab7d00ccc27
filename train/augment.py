"""Batched random affine augmentation: one affine_grid + grid_sample per batch.

Handwriting varies by slant, size and position; MNIST centres and sizes its
digits, so small random rotations, scalings, shears and shifts are what the
model needs to see. Doing it for the whole batch at once keeps it off the
Python per-sample path.

``stretch`` adds what MNIST's own normalisation never shows: digits whose
box was stretched to a square, as other collections normalise them (Semeion
fills its 16×16 box, so its 1s are as wide as its 8s) and as some people
write. It is folded into the same affine map, so the batch is resampled once.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from digitkit.train.config import TrainConfig


def random_affine(images: torch.Tensor, cfg: TrainConfig, generator: torch.Generator | None = None) -> torch.Tensor:
    """images: (N, 1, H, W) float, background 0. Returns a transformed copy."""
    n, _, height, _ = images.shape
    dev = images.device

    def uniform(low: float, high: float) -> torch.Tensor:
        return torch.rand(n, generator=generator, device=dev) * (high - low) + low

    angle = uniform(-cfg.rotate_deg, cfg.rotate_deg) * math.pi / 180
    shear = uniform(-cfg.shear_deg, cfg.shear_deg) * math.pi / 180
    scale = uniform(*cfg.scale)
    shift = cfg.shift_px * 2 / height  # pixels -> normalised coordinates
    tx, ty = uniform(-shift, shift), uniform(-shift, shift)
    cos, sin, tan = torch.cos(angle), torch.sin(angle), torch.tan(shear)
    # inverse map (output -> input coordinates): rotation · shear, divided by scale
    theta = torch.stack(
        [
            torch.stack([cos / scale, (cos * tan - sin) / scale, tx], dim=1),
            torch.stack([sin / scale, (sin * tan + cos) / scale, ty], dim=1),
        ],
        dim=1,
    )
    if cfg.stretch > 0:
        theta = _stretched(images, theta, cfg.stretch, cfg.stretch_max, generator)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def _stretched(
    images: torch.Tensor, theta: torch.Tensor, share: float, most: float, generator: torch.Generator | None
) -> torch.Tensor:
    """Compose with a stretch of the ink's shorter side towards the longer, for ``share`` of the batch.

    The stretch is applied first (in input space) and centres the ink's box;
    its strength is drawn between halfway and all the way to a square, at most
    ``most`` times.
    """
    n, _, height, width = images.shape
    dev = images.device
    ink = images[:, 0] > 0.2
    rows, cols = ink.any(dim=2), ink.any(dim=1)
    chosen = (torch.rand(n, generator=generator, device=dev) < share) & rows.any(dim=1)

    def extent(mask: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        first = mask.float().argmax(dim=1)
        last = size - 1 - mask.flip(1).float().argmax(dim=1)
        centre = (first + last + 1).float() / size - 1  # normalised coordinates, align_corners=False
        return (last - first + 1).float(), centre

    h, cy = extent(rows, height)
    w, cx = extent(cols, width)
    full = (torch.maximum(h, w) / torch.minimum(h, w)).clamp(max=most)
    strength = full ** (torch.rand(n, generator=generator, device=dev) * 0.5 + 0.5)
    one = torch.ones(n, device=dev)
    sx = torch.where(chosen & (w < h), strength, one)
    sy = torch.where(chosen & (h < w), strength, one)
    zero = torch.zeros(n, device=dev)
    # input <- stretched: x_in = c + x / s; then input <- output is that after theta (output -> stretched)
    inverse = torch.stack(
        [
            torch.stack([1 / sx, zero, torch.where(chosen, cx, zero)], dim=1),
            torch.stack([zero, 1 / sy, torch.where(chosen, cy, zero)], dim=1),
        ],
        dim=1,
    )
    return inverse[:, :, :2] @ theta + torch.cat([torch.zeros(n, 2, 2, device=dev), inverse[:, :, 2:]], dim=2)
