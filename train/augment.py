"""Batched random augmentation: one affine_grid + grid_sample per batch.

Handwriting varies by slant, size and position; MNIST centres and sizes its
digits, so small random rotations, scalings, shears and shifts are what the
model needs to see. Doing it for the whole batch at once keeps it off the
Python per-sample path. ``augment_batch`` adds what the full preset uses
beyond that: elastic distortion (``elastic.py``) in the same resampling, and
bolder strokes (a 3×3 max filter) or thinner ones (the mean with a 3×3 min filter:
a full erosion would erase MNIST's two-pixel strokes).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from digitkit.train.config import TrainConfig
from digitkit.train.elastic import displacement

# a 3-px upright 1 stretched further is a blurred slab no pen draws (seen on MNIST's 1s by eye)
MAX_WIDEN = 3.0


def random_affine(images: torch.Tensor, cfg: TrainConfig, generator: torch.Generator | None = None) -> torch.Tensor:
    """images: (N, 1, H, W) float, background 0. Returns a transformed copy."""
    grid = _affine_grid(images, cfg, generator)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def augment_batch(images: torch.Tensor, cfg: TrainConfig, generator: torch.Generator | None = None) -> torch.Tensor:
    """Affine, then (per ``cfg``) elastic distortion and stroke width; with those off, exactly ``random_affine``."""
    if cfg.elastic_share <= 0 and cfg.stroke_share <= 0 and cfg.widen_share <= 0:
        return random_affine(images, cfg, generator)
    n, _, size, _ = images.shape
    dev = images.device
    grid = _affine_grid(images, cfg, generator, widen(images, cfg.widen_share, generator))
    if cfg.elastic_share > 0:
        chosen = (torch.rand(n, generator=generator, device=dev) < cfg.elastic_share).float().view(n, 1, 1, 1)
        field = displacement(n, size, cfg.elastic_alpha, cfg.elastic_sigma, generator, dev)
        grid = grid + chosen * field * (2 / size)  # pixels -> normalised coordinates
    out = F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    if cfg.stroke_share > 0:
        pick = torch.rand(n, generator=generator, device=dev)
        bolder = (pick < cfg.stroke_share / 2).view(n, 1, 1, 1)
        thinner = ((pick >= cfg.stroke_share / 2) & (pick < cfg.stroke_share)).view(n, 1, 1, 1)
        dilated = F.max_pool2d(out, 3, stride=1, padding=1)
        eroded = -F.max_pool2d(-out, 3, stride=1, padding=1)
        out = torch.where(bolder, dilated, torch.where(thinner, (out + eroded) / 2, out))
    return out


def widen(
    images: torch.Tensor, share: float, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor] | None:
    """Per image, a stretch of its ink box toward a square, about the box's centre; None when ``share`` is 0.

    MNIST keeps each digit's aspect (longer side 20 px), so its 1s are narrow strokes. People who write
    wide, and forms or scanners that stretch every digit to fill its box, give a 1 as wide as it is tall.
    A chosen image's shorter side is stretched a random part (30-100 %) of the way to its longer side,
    at most ``MAX_WIDEN`` times; the others are left as they are. Returns (scale x, scale y, centre x, centre y), centres in the
    normalised coordinates of ``F.affine_grid``.
    """
    if share <= 0:
        return None
    n, _, height, width = images.shape
    dev = images.device
    ink = images[:, 0] > 0.3

    def extent(mask: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        index = torch.arange(size, device=dev, dtype=torch.float32)
        first = torch.where(mask, index, torch.full_like(index, size)).amin(dim=1)
        last = torch.where(mask, index, torch.full_like(index, -1.0)).amax(dim=1)
        span = (last - first + 1).clamp(min=1.0)
        return span, (first + last + 1) / size - 1  # normalised centre (align_corners=False)

    w, cx = extent(ink.any(dim=1), width)
    h, cy = extent(ink.any(dim=2), height)
    chosen = torch.rand(n, generator=generator, device=dev) < share
    part = torch.rand(n, generator=generator, device=dev) * 0.7 + 0.3
    longer = torch.maximum(w, h)
    sx = torch.where(chosen, ((w + part * (longer - w)) / w).clamp(max=MAX_WIDEN), torch.ones_like(w))
    sy = torch.where(chosen, ((h + part * (longer - h)) / h).clamp(max=MAX_WIDEN), torch.ones_like(h))
    return sx, sy, cx, cy


def _affine_grid(
    images: torch.Tensor,
    cfg: TrainConfig,
    generator: torch.Generator | None,
    stretch: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """The sampling grid of a random rotation, shear, scale and shift per image, after ``stretch`` if given."""
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
    if stretch is not None:  # sample the stretched image: input = D (A p + t - c) + c, D = diag(1/sx, 1/sy)
        sx, sy, cx, cy = stretch
        undo = torch.stack([1 / sx, 1 / sy], dim=1).unsqueeze(2)
        centre = torch.stack([cx, cy], dim=1)
        theta = theta * undo
        theta[:, :, 2] = theta[:, :, 2] + centre - centre * undo[:, :, 0]
    return F.affine_grid(theta, list(images.shape), align_corners=False)
