"""The study's multilayer perceptron: fully connected layers on the 784 pixels.

It is trained like the CNN (AdamW, one-cycle learning rate, the same batched
random affine augmentation from digitkit.train.augment, the same input
normalisation), so the comparison isolates the architecture. With
``augment=False`` it is the classic MLP baseline. The per-epoch history has the
same keys as trainer.train's, so the learning-curve figure treats both alike.
"""

from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from digitkit.train.augment import random_affine
from digitkit.train.config import TrainConfig
from digitkit.train.study.data import Split
from digitkit.train.trainer import predict_logits, run_epoch


@dataclass(frozen=True)
class MlpConfig:
    hidden: tuple[int, ...] = (800, 800)
    dropout: float = 0.2
    epochs: int = 15
    batch_size: int = 128
    max_lr: float = 2e-3
    weight_decay: float = 1e-4
    augment: bool = True
    # augmentation strength: the CNN's quick preset values, milder where an MLP (no translation invariance) suffers
    rotate_deg: float = 10.0
    scale: tuple[float, float] = (0.9, 1.1)
    shift_px: float = 1.5
    shear_deg: float = 8.0
    seed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    def with_(self, **changes: Any) -> MlpConfig:
        return replace(self, **changes)


class Mlp(nn.Module):
    """Input: (N, 1, 28, 28) normalised pixels, as the CNN. Output: (N, 10) logits."""

    def __init__(self, hidden: tuple[int, ...], dropout: float):
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = 28 * 28
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU(inplace=True), nn.Dropout(dropout)]
            width = h
        layers.append(nn.Linear(width, 10))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def _augment_config(cfg: MlpConfig) -> TrainConfig:
    return TrainConfig(rotate_deg=cfg.rotate_deg, scale=cfg.scale, shift_px=cfg.shift_px, shear_deg=cfg.shear_deg)


def train_mlp(
    cfg: MlpConfig,
    train_images: np.ndarray,
    train_labels: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    progress: bool = True,
    desc: str = "MLP",
) -> tuple[Mlp, dict[str, Any]]:
    """Train on uint8 (N, 28, 28) images; returns the model and {train_seconds, history}."""
    torch.manual_seed(cfg.seed)
    generator = torch.Generator().manual_seed(cfg.seed)
    images = torch.from_numpy(np.array(train_images))  # a writable copy
    labels = torch.from_numpy(np.asarray(train_labels, dtype=np.int64))
    test_x = torch.from_numpy(np.array(test_images))
    test_y = np.asarray(test_labels, dtype=np.int64)
    model = Mlp(cfg.hidden, cfg.dropout)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.max_lr, weight_decay=cfg.weight_decay)
    steps = (len(images) + cfg.batch_size - 1) // cfg.batch_size
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, cfg.max_lr, epochs=cfg.epochs, steps_per_epoch=steps)
    aug = _augment_config(cfg)
    history: list[dict[str, float]] = []
    train_seconds = 0.0
    bar = tqdm(range(cfg.epochs), desc=desc, unit="epoch", disable=not progress, file=sys.stderr)
    for epoch in bar:
        started = time.perf_counter()
        order = torch.randperm(len(images), generator=generator)
        augment = partial(random_affine, cfg=aug, generator=generator) if cfg.augment else None
        loss, accuracy = run_epoch(model, images, labels, order, cfg.batch_size, optimizer, scheduler, augment)
        seconds = time.perf_counter() - started
        train_seconds += seconds
        test_accuracy = float((predict_logits(model, test_x).argmax(1).numpy() == test_y).mean())
        history.append({"epoch": epoch + 1, "loss": loss, "train_accuracy": accuracy,
                        "test_accuracy": test_accuracy, "seconds": seconds})  # fmt: skip
        bar.set_postfix(loss=f"{loss:.4f}", test=f"{test_accuracy:.4f}")
    model.eval()
    return model, {"train_seconds": train_seconds, "history": history}


def run_mlp(
    key: str, name: str, cfg: MlpConfig, split: Split, work: Path, threads: int = 1, progress: bool = True
) -> dict[str, Any]:
    """Train, evaluate, export to ONNX and time one MLP; returns its result record."""
    from digitkit.train.study import onnx_timing
    from digitkit.train.study.timing import Stopwatch, evaluation

    torch.set_num_threads(threads)
    model, trained = train_mlp(
        cfg, split.train_images, split.train_labels, split.test_images, split.test_labels, progress, name
    )
    clock = Stopwatch()
    with clock:
        predicted = predict_logits(model, torch.from_numpy(split.test_images)).argmax(1).numpy()
    parameters = sum(p.numel() for p in model.parameters())
    record = {
        "key": key, "name": name, "family": "MLP", "config": cfg.to_dict(),
        "description": f"784-{'-'.join(map(str, cfg.hidden))}-10 ReLU, dropout {cfg.dropout:g}, {cfg.epochs} epochs"
        + (", random affine augmentation" if cfg.augment else ", no augmentation"),
        **trained, **evaluation(predicted, split.test_labels, clock.seconds),
        "parameters": parameters, "native_bytes": 4 * parameters,
    }  # fmt: skip
    path = onnx_timing.export_torch(model, work / f"{key}.onnx", record["description"])
    timing = onnx_timing.time_torch_onnx(path, split.onnx_images(), threads)
    onnx_predicted = timing.pop("predicted")
    timing["agreement"] = float((onnx_predicted == predicted[: len(onnx_predicted)]).mean())
    record["onnx"] = timing
    return record
