"""The CNNs digitkit trains: one family, sized by a width and a head.

VGG-style stacks of 3×3 conv + BatchNorm + ReLU, two max-pools (28 → 14 → 7),
then either global average pooling (small and robust to where the digit sits)
or a flatten + dropout + linear head (a few tenths of a point more accurate).
BatchNorm folds into the convolutions at export, so it costs nothing at
inference time.
"""

from __future__ import annotations

import torch
from torch import nn

from digitkit.train.config import ARCH_ALIASES


def _conv(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]


class DigitCNN(nn.Module):
    """Input: (N, 1, 28, 28) normalised pixels. Output: (N, 10) logits."""

    def __init__(self, widths: tuple[int, int, int] = (16, 32, 64), head: str = "gap", dropout: float = 0.0):
        super().__init__()
        w1, w2, w3 = widths
        self.features = nn.Sequential(
            *_conv(1, w1), *_conv(w1, w1), nn.MaxPool2d(2),
            *_conv(w1, w2), *_conv(w2, w2), nn.MaxPool2d(2),
            *_conv(w2, w3),
        )  # fmt: skip
        if head == "gap":
            self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout), nn.Linear(w3, 10))
        elif head == "flat":
            self.head = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(w3 * 7 * 7, 10))
        else:
            raise ValueError(f"unknown head {head!r} (expected 'gap' or 'flat')")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class SeparableCNN(nn.Module):
    """Depthwise-separable CNN (architecture ``separable``): the shipped CNN at widths (32, 64, 128), the tiny model at
    (16, 32, 48), under 10k parameters, for microcontroller-class devices.

    Depthwise-separable convolutions keep the parameter count and the
    multiply-adds low while the receptive field still covers the whole digit;
    onnxruntime fuses each into two cheap kernels, where PyTorch eager pays
    its per-layer overhead on twice the layers.
    """

    def __init__(self, widths: tuple[int, int, int] = (16, 32, 48), head: str = "gap", dropout: float = 0.0):
        super().__init__()
        w1, w2, w3 = widths

        def separable(c_in: int, c_out: int) -> list[nn.Module]:
            return [
                nn.Conv2d(c_in, c_in, 3, padding=1, groups=c_in, bias=False), nn.BatchNorm2d(c_in), nn.ReLU(inplace=True),
                nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
            ]  # fmt: skip

        self.features = nn.Sequential(
            *_conv(1, w1), *separable(w1, w1), nn.MaxPool2d(2),
            *separable(w1, w2), *separable(w2, w2), nn.MaxPool2d(2),
            *separable(w2, w3), *separable(w3, w3),
        )  # fmt: skip
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout), nn.Linear(w3, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


ARCHITECTURES = {"cnn": DigitCNN, "separable": SeparableCNN}


def build_model(arch: str, widths: tuple[int, int, int], head: str = "gap", dropout: float = 0.0) -> nn.Module:
    arch = ARCH_ALIASES.get(arch, arch)
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r} (expected one of {sorted(ARCHITECTURES)})")
    return ARCHITECTURES[arch](tuple(widths), head=head, dropout=dropout)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
