"""Batched random augmentation: one affine_grid + grid_sample per batch.

Handwriting varies by slant, size and position; MNIST centres and sizes its
digits, so small random rotations, scalings, shears and shifts are what the
model needs to see, and hands wobble along a stroke (``elastic_px``: Simard et
al. 2003's elastic distortion). Doing it for the whole batch at once keeps it
off the Python per-sample path. Other writers' styles come from real writing
(CVL, ``cvl.py``), not from distortions: docs/styles.md says what was tried.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from digitkit.train.config import TrainConfig

ELASTIC_SIGMA_PX = 4.0  # smoothing of the displacement field; Simard et al.'s value for 28x28 digits


def random_affine(images: torch.Tensor, cfg: TrainConfig, generator: torch.Generator | None = None) -> torch.Tensor:
    """images: (N, 1, H, W) float, background 0. Returns a transformed copy."""
    grid = _affine_grid(images, cfg, generator)
    if cfg.elastic_px > 0:
        grid = grid + _elastic_field(images, cfg.elastic_px, generator)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def augment_batch(images: torch.Tensor, cfg: TrainConfig, generator: torch.Generator | None = None) -> torch.Tensor:
    """The training batch's augmentation (the trainer's hook): ``random_affine``."""
    return random_affine(images, cfg, generator)


def _elastic_field(images: torch.Tensor, pixels: float, generator: torch.Generator | None) -> torch.Tensor:
    """(N, H, W, 2) smooth random offsets in grid_sample's normalised coordinates, about ``pixels`` at their largest."""
    n, _, height, width = images.shape
    noise = torch.rand(n, 2, height, width, generator=generator, device=images.device) * 2 - 1
    radius = int(2 * ELASTIC_SIGMA_PX)
    taps = torch.arange(-radius, radius + 1, device=images.device, dtype=images.dtype)
    kernel = torch.exp(-(taps**2) / (2 * ELASTIC_SIGMA_PX**2))
    kernel = kernel / kernel.sum()
    # separable Gaussian blur of both offset channels
    field = F.conv2d(
        F.pad(noise, (radius, radius, 0, 0), mode="reflect"), kernel.view(1, 1, 1, -1).repeat(2, 1, 1, 1), groups=2
    )
    field = F.conv2d(
        F.pad(field, (0, 0, radius, radius), mode="reflect"), kernel.view(1, 1, -1, 1).repeat(2, 1, 1, 1), groups=2
    )
    field = field / field.abs().amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-6) * pixels
    return (field * 2 / torch.tensor([width, height], device=images.device).view(1, 2, 1, 1)).permute(0, 2, 3, 1)


def _affine_grid(
    images: torch.Tensor,
    cfg: TrainConfig,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """The sampling grid of a random rotation, shear, scale and shift per image."""
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
    return F.affine_grid(theta, list(images.shape), align_corners=False)
