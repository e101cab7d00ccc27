"""Elastic distortion (Simard, Steinkraus & Platt 2003), batched for PyTorch's grid_sample.

A random displacement field, smoothed by a Gaussian of ``sigma`` pixels and
scaled by ``alpha`` pixels, bends strokes the way different hands do, which an
affine map cannot. Simard et al. found alpha 34, sigma 4 best on 28×28 MNIST;
``augment.augment_batch`` adds this field to the affine sampling grid, so both
cost one resampling.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def gaussian_kernel(sigma: float) -> torch.Tensor:
    """1-D Gaussian, radius 2 sigma, summing to 1."""
    radius = max(1, round(2 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-(x**2) / (2 * sigma**2))
    return kernel / kernel.sum()


def displacement(
    n: int, size: int, alpha: float, sigma: float, generator: torch.Generator | None = None, device=None
) -> torch.Tensor:
    """(n, size, size, 2) displacements in pixels (x, y): uniform noise in [-1, 1], smoothed, times alpha."""
    field = torch.rand(n * 2, 1, size, size, generator=generator, device=device) * 2 - 1
    kernel = gaussian_kernel(sigma).to(field.device)
    pad = len(kernel) // 2
    field = F.conv2d(field, kernel.view(1, 1, 1, -1), padding=(0, pad))
    field = F.conv2d(field, kernel.view(1, 1, -1, 1), padding=(pad, 0))
    return (alpha * field).view(n, 2, size, size).permute(0, 2, 3, 1)
