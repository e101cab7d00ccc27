"""Train a CNN on MNIST: the whole set as tensors, batched augmentation, one-cycle LR.

Shaped like pytorch/examples' mnist: a train loop, a test loop, a main. The
checkpoint written at the end of every epoch holds the optimiser, scheduler
and RNG states, so ``resume=True`` continues exactly where a killed run
stopped. Under torchrun the same function trains data-parallel (DDP): see
``digitkit.train.distributed`` for what the batch size and learning rate mean
there.
"""

from __future__ import annotations

import copy
import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from digitkit.runtime.errors import DigitkitError
from digitkit.runtime.files import atomic_write_json, sha256_file
from digitkit.train import distributed
from digitkit.train.augment import augment_batch
from digitkit.train.checkpoint import MNIST_MEAN, MNIST_STD, load_checkpoint, save_checkpoint
from digitkit.train.config import TrainConfig
from digitkit.train.cvl import held_out_split, load_cvl, with_cvl_digits
from digitkit.train.distributed import DistContext
from digitkit.train.init_weights import check_start, freeze_norm, starting_model
from digitkit.train.mnist import Mnist, load_mnist
from digitkit.train.model import build_model, count_parameters
from digitkit.train.printed_digits import printed_digits
from digitkit.train.progress import progress_bar

CHECKPOINT_NAME = "checkpoint.pt"
METRICS_NAME = "metrics.json"
DISTILL_TEMPERATURE = 2.0  # Hinton et al.'s usual softening; the loss is scaled by its square


@dataclass
class Distillation:
    """Learns the answers of ``teacher`` (the model a fine-tuning run started from, or another trained model) on the
    training rows marked in ``rows``: a KL term toward its softened softmax, weighted by ``weight`` and by the marked
    share of each batch."""

    teacher: torch.nn.Module
    weight: float
    rows: torch.Tensor  # bool, one per training image

    def loss(self, logits: torch.Tensor, x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        marked = self.rows[idx]
        if not marked.any():
            return logits.new_zeros(())
        with torch.no_grad():
            target = F.log_softmax(self.teacher(x[marked]) / DISTILL_TEMPERATURE, 1)
        mine = F.log_softmax(logits[marked] / DISTILL_TEMPERATURE, 1)
        kl = F.kl_div(mine, target, log_target=True, reduction="batchmean") * DISTILL_TEMPERATURE**2
        return self.weight * kl * marked.float().mean()


def pick_device(name: str = "cpu") -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise DigitkitError("--device cuda asked for, but PyTorch sees no CUDA GPU")
    return torch.device(name)


def to_input(images_u8: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) -> normalised float (N, 1, 28, 28), as the model is fed."""
    return (images_u8.unsqueeze(1).float() / 255.0 - MNIST_MEAN) / MNIST_STD


@torch.no_grad()
def predict_logits(model: torch.nn.Module, images_u8: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    model.eval()
    device = next(model.parameters()).device
    outs = [
        model(to_input(images_u8[i : i + batch_size].to(device))).cpu() for i in range(0, len(images_u8), batch_size)
    ]
    return torch.cat(outs)


def classification_metrics(predicted: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    confusion = np.zeros((10, 10), dtype=np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    per_class = confusion.diagonal() / np.maximum(confusion.sum(axis=1), 1)
    correct = int(confusion.trace())
    return {
        "accuracy": correct / len(labels),
        "errors": len(labels) - correct,
        "n": len(labels),
        "per_class_accuracy": [round(float(a), 6) for a in per_class],
        "confusion_matrix": confusion.tolist(),
    }


def evaluate_model(model: torch.nn.Module, data: Mnist) -> dict[str, Any]:
    logits = predict_logits(model, torch.from_numpy(np.array(data.test_images)))
    return classification_metrics(logits.argmax(1).numpy(), np.asarray(data.test_labels, dtype=np.int64))


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _quiet(message: str) -> None:
    """The log of ranks other than 0: they train silently."""


def evaluate_sharded(model: torch.nn.Module, data: Mnist, ctx: DistContext) -> dict[str, Any]:
    """The test set split across the ranks, predictions gathered: every rank gets the full metrics."""
    distributed.broadcast_buffers(model)
    images = np.array(data.test_images)
    bounds = np.linspace(0, len(images), ctx.world_size + 1).astype(int)
    part = torch.from_numpy(images[bounds[ctx.rank] : bounds[ctx.rank + 1]])
    predicted = distributed.gather_in_rank_order(predict_logits(model, part).argmax(1).numpy())
    return classification_metrics(predicted, np.asarray(data.test_labels, dtype=np.int64))


def _resume_state(ckpt_path: Path, cfg: TrainConfig, ctx: DistContext) -> dict[str, Any] | None:
    """The checkpoint to continue from, or None when there is none.

    Rank 0 reads it and hands it to every rank, so only rank 0's disk needs it
    (machines need not share a file system); a bad or foreign checkpoint stops
    every rank with the same one-line error.
    """
    outcome: dict[str, Any] | str | None = None
    if ctx.is_main and ckpt_path.exists():
        try:
            outcome = load_checkpoint(ckpt_path)
            if TrainConfig.from_dict(outcome["config"]) != cfg:
                raise DigitkitError(
                    f"{ckpt_path} was trained with a different configuration; use another --out or drop --resume"
                )
        except DigitkitError as exc:
            outcome = str(exc)
    outcome = distributed.broadcast_from_main(outcome, ctx)
    if isinstance(outcome, str):
        raise distributed.GroupError(outcome)
    return outcome


def run_epoch(
    model: torch.nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    order: torch.Tensor,
    batch_size: int,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
    label_smoothing: float = 0.0,
    steps: Iterable[int] | None = None,
    ctx: DistContext | None = None,
    frozen_norm: bool = False,
    distill: Distillation | None = None,
) -> tuple[float, float]:
    """One pass over ``images[order]`` (uint8, (N, 28, 28)); returns (mean loss, train accuracy).

    Shared by every model the project trains (the CNNs, the study's MLP), so
    they see their pixels normalised the same way. ``steps`` may be a tqdm bar
    over the step indices; it then shows the running loss and accuracy.
    Under DDP (``ctx`` of several ranks) each rank trains on its share of every
    global batch and the returned figures are over all ranks. A fine-tuning run
    keeps BatchNorm frozen (``frozen_norm``) and may distill its starting model.
    """
    sharded = ctx is not None and ctx.world_size > 1
    model.train()
    if frozen_norm:
        freeze_norm(model)
    seen = correct = 0
    loss_sum = 0.0
    steps = range((len(order) + batch_size - 1) // batch_size) if steps is None else steps
    for step in steps:
        idx = order[step * batch_size : (step + 1) * batch_size]
        if sharded:
            global_count = len(idx)
            idx = distributed.local_share(idx, order, ctx)
        batch = images[idx].unsqueeze(1).float() / 255.0
        if augment is not None:
            batch = augment(batch)
        x, y = (batch - MNIST_MEAN) / MNIST_STD, labels[idx]
        logits = model(x)
        loss = F.cross_entropy(logits, y, label_smoothing=label_smoothing)
        if distill is not None:
            loss = loss + distill.loss(logits, x, idx)
        optimizer.zero_grad(set_to_none=True)
        # weighted by this rank's share so DDP's average over ranks is the global batch's mean loss
        (loss * (len(y) * ctx.world_size / global_count) if sharded else loss).backward()
        optimizer.step()
        scheduler.step()
        seen += len(y)
        correct += int((logits.argmax(1) == y).sum())
        loss_sum += loss.item() * len(y)
        if step % 20 == 0 and hasattr(steps, "set_postfix"):
            steps.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / seen:.4f}")
    if sharded:
        loss_sum, correct, seen = distributed.sum_over_ranks([loss_sum, correct, seen], images.device)
    return loss_sum / seen, correct / seen


def train(
    cfg: TrainConfig,
    out_dir: str | os.PathLike[str],
    data_dir: str | os.PathLike[str] | None = None,
    device: str = "cpu",
    threads: int | None = None,
    resume: bool = False,
    offline: bool = False,
    progress: bool = True,
    sync_bn: bool = False,
) -> dict[str, Any]:
    """Train, checkpoint every epoch, evaluate on the test set, write metrics.json.

    Started by torchrun, every process calls this: each trains on its share of
    every global batch under DDP, rank 0 alone logs and writes the checkpoint
    and metrics, and every rank returns the same metrics.
    """
    if cfg.init:
        check_start(cfg.init)  # said before anything is written or loaded
    if cfg.teacher and cfg.distill <= 0:
        raise DigitkitError(f"teacher {cfg.teacher} needs a distillation weight above 0 (distill is {cfg.distill})")
    teacher_path = check_start(cfg.teacher, "the run distils its answers") if cfg.teacher else None
    ctx, dev = distributed.init_distributed(pick_device(device))
    log = _log if ctx.is_main else _quiet
    if sync_bn and not ctx.active:
        raise DigitkitError("--sync-bn is for a run of several processes (torchrun or --nproc)")
    out = Path(out_dir)
    ckpt_path = out / CHECKPOINT_NAME
    if ctx.is_main:
        out.mkdir(parents=True, exist_ok=True)
        for stale in out.glob(f".{CHECKPOINT_NAME}.*.tmp"):  # left by a run killed while saving
            stale.unlink()
    torch.set_num_threads(
        distributed.threads_per_process(ctx, threads) if ctx.active else threads or os.cpu_count() or 1
    )
    if ctx.local_rank != 0:  # the first process on each machine fetches MNIST if the cache lacks it
        distributed.barrier(ctx)
    data = load_mnist(data_dir, offline=offline, **({} if ctx.is_main else {"log": _quiet}))
    if ctx.local_rank == 0:
        distributed.barrier(ctx)
    images = torch.from_numpy(np.array(data.train_images))
    labels = torch.from_numpy(np.array(data.train_labels, dtype=np.int64))
    if cfg.subset:
        images, labels = images[: cfg.subset], labels[: cfg.subset]
    n_mnist = len(images)
    if cfg.cvl_splits:  # real European handwriting (train/cvl.py)
        images, labels = (
            torch.from_numpy(a) for a in with_cvl_digits(images.numpy(), labels.numpy(), cfg.cvl_splits, cfg.cvl_repeat)
        )
    if cfg.printed_digits:
        printed, printed_labels = printed_digits(cfg.printed_digits)
        images, labels = (
            torch.cat([images, torch.from_numpy(printed)]),
            torch.cat([labels, torch.from_numpy(printed_labels)]),
        )
    images, labels = images.to(dev), labels.to(dev)

    torch.manual_seed(cfg.seed)
    model, origin = (
        starting_model(cfg.init, cfg) if cfg.init else (build_model(cfg.arch, cfg.widths, cfg.head, cfg.dropout), None)
    )
    model = model.to(dev)
    distill, taught_by = None, None
    if teacher_path is not None:  # another model's answers on every training image
        from digitkit.train.checkpoint import model_from_checkpoint

        teacher, _ = model_from_checkpoint(teacher_path)
        taught_by = {"file": str(cfg.teacher), "sha256": sha256_file(teacher_path)}
        distill = Distillation(
            teacher.to(dev).eval(), cfg.distill, torch.ones(len(images), dtype=torch.bool, device=dev)
        )
    elif cfg.distill:
        if not cfg.init:
            raise DigitkitError("distill needs init (the model whose answers on MNIST the run keeps) or a teacher")
        mnist_rows = torch.arange(len(images), device=dev) < n_mnist  # CVL's and printed digits come after MNIST's
        distill = Distillation(copy.deepcopy(model).eval(), cfg.distill, mnist_rows)
    ddp_model = distributed.wrap_model(model, ctx, dev, sync_bn) if ctx.active else None
    model = ddp_model.module if ddp_model is not None else model  # SyncBatchNorm may have replaced modules
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.max_lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = (len(images) + cfg.batch_size - 1) // cfg.batch_size
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, cfg.max_lr, epochs=cfg.epochs, steps_per_epoch=steps_per_epoch, pct_start=cfg.warmup
    )
    generator = torch.Generator(device=dev).manual_seed(cfg.seed)
    history: list[dict[str, float]] = []
    start_epoch, wall_before = 0, 0.0

    state = _resume_state(ckpt_path, cfg, ctx) if resume else None
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        start_epoch, history, wall_before = state["epoch"], state["history"], state["train_seconds"]
        log(f"resuming from {ckpt_path} after epoch {start_epoch}/{cfg.epochs}")
    elif resume:
        log(f"--resume: no checkpoint in {out}, starting afresh")

    n_params = count_parameters(model)
    log(
        f"training {cfg.arch} {cfg.widths} ({n_params:,} parameters) on {len(images):,} images, {dev}, {torch.get_num_threads()} threads"
        + (
            f" in each of {ctx.world_size} processes ({ctx.backend}), {cfg.batch_size // ctx.world_size} images per batch each"
            if ctx.active
            else ""
        )
    )
    for epoch in range(start_epoch, cfg.epochs):
        started = time.perf_counter()
        order = torch.randperm(len(images), generator=generator, device=dev)
        bar = progress_bar(
            range(steps_per_epoch),
            enabled=progress and ctx.is_main,
            desc=f"epoch {epoch + 1}/{cfg.epochs}",
            leave=False,
        )
        augment_generator = generator  # one process: one generator for the order and the augmentation, as ever
        if ctx.world_size > 1:  # the order stays shared; augmentation and dropout differ by rank
            augment_generator = torch.Generator(device=dev).manual_seed(
                distributed.rank_seed(cfg.seed, ctx.rank, epoch, 0)
            )
            torch.manual_seed(distributed.rank_seed(cfg.seed, ctx.rank, epoch, 1))
        augment = partial(augment_batch, cfg=cfg, generator=augment_generator)
        loss, accuracy = run_epoch(
            ddp_model or model, images, labels, order, cfg.batch_size, optimizer, scheduler, augment,
            cfg.label_smoothing, bar, ctx, frozen_norm=cfg.init is not None, distill=distill,
        )  # fmt: skip
        epoch_seconds = time.perf_counter() - started
        wall_before += epoch_seconds
        test = evaluate_model(model, data) if ctx.world_size == 1 else evaluate_sharded(model, data, ctx)
        record = {
            "epoch": epoch + 1,
            "loss": loss,
            "train_accuracy": accuracy,
            "test_accuracy": test["accuracy"],
            "seconds": epoch_seconds,
        }
        history.append(record)
        log(
            f"epoch {epoch + 1}/{cfg.epochs}: loss {record['loss']:.4f}, train acc {record['train_accuracy']:.4f}, test acc {test['accuracy']:.4f} ({epoch_seconds:.0f} s)"
        )
        if not ctx.is_main:
            continue
        save_checkpoint(
            ckpt_path,
            {
                "model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "generator": generator.get_state(), "torch_rng": torch.get_rng_state(), "epoch": epoch + 1,
                "history": history, "config": cfg.to_dict(), "train_seconds": wall_before,
                "normalization": {"mean": MNIST_MEAN, "std": MNIST_STD}, "parameters": n_params,
                "world_size": ctx.world_size, "backend": ctx.backend, "started_from": origin, "taught_by": taught_by,
            },
        )  # fmt: skip

    model.eval()
    metrics = {
        **(evaluate_model(model.cpu(), data) if ctx.world_size == 1 else evaluate_sharded(model, data, ctx)),
        "checkpoint": str(ckpt_path),
        "checkpoint_sha256": sha256_file(ckpt_path) if ctx.is_main else None,
        "epochs": cfg.epochs,
        "train_seconds": round(wall_before, 1),
        "parameters": n_params,
        "config": cfg.to_dict(),
        "started_from": origin,
        "taught_by": taught_by,
        "history": history,
        "device": str(dev),
        "threads": torch.get_num_threads(),  # per process
        "world_size": ctx.world_size,
        "backend": ctx.backend,  # None: one process, no process group
        "batch_size_per_process": cfg.batch_size / ctx.world_size,  # cfg.batch_size is the global batch
    }
    distributed.shutdown(ctx)
    if not ctx.is_main:
        return metrics
    held_out = held_out_split(cfg.cvl_splits) if cfg.cvl_splits else None
    if held_out is not None:  # writers the run never saw: what the recipe is chosen on
        cvl = load_cvl(held_out)
        logits = predict_logits(model.cpu(), torch.from_numpy(cvl.images))
        metrics["cvl_held_out"] = {"split": held_out, **classification_metrics(logits.argmax(1).numpy(), cvl.labels)}
        log(f"CVL {held_out} (writers not trained on): {metrics['cvl_held_out']['accuracy'] * 100:.2f}%")
    atomic_write_json(out / METRICS_NAME, metrics)
    log(
        f"test accuracy {metrics['accuracy'] * 100:.2f}% ({metrics['errors']} errors of {metrics['n']}); metrics in {out / METRICS_NAME}"
    )
    return metrics


def evaluate_checkpoint(
    ckpt: str | os.PathLike[str], data_dir: str | os.PathLike[str] | None = None, offline: bool = False
) -> dict[str, Any]:
    from digitkit.train.checkpoint import model_from_checkpoint

    model, state = model_from_checkpoint(ckpt)
    metrics = evaluate_model(model, load_mnist(data_dir, offline=offline))
    return {
        **metrics,
        "checkpoint": str(ckpt),
        "checkpoint_sha256": sha256_file(ckpt),
        "epochs": state["epoch"],
        "parameters": count_parameters(model),
    }
