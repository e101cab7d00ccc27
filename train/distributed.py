"""Data-parallel training on PyTorch's own machinery: torchrun, torch.distributed, DDP.

``digitkit train`` needs no launcher of its own: started by ``torchrun`` (or by
``digitkit train --nproc N``, which runs torchrun's elastic agent in-process
for one machine) each worker finds ``RANK``/``WORLD_SIZE``/``LOCAL_RANK`` in its
environment and joins the process group here: gloo on the CPU, NCCL on CUDA.

The recipe does not change with the process count. ``batch_size`` and
``max_lr`` are *global*: every rank draws the same permutation from the shared
seed, each global batch of ``batch_size`` images is split across the ranks
(``batch_size / N`` each), and each rank's loss is weighted by its share so that
DDP's gradient average is exactly the mean over the global batch. The
one-cycle schedule therefore has the same steps per epoch as one process.
What differs by rank is the augmentation (and dropout) stream, seeded from
(seed, rank, epoch), and BatchNorm's batch statistics, which are per rank
(``batch_size / N`` images) unless SyncBatchNorm is asked for on CUDA.
"""

from __future__ import annotations

import logging
import os
import signal
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from digitkit.runtime.errors import DigitkitError

# environment variables torchrun (torch.distributed.run) sets for every worker
LAUNCHED_BY_TORCHRUN = ("RANK", "WORLD_SIZE", "LOCAL_RANK")


class GroupError(DigitkitError):
    """An error every rank meets at once (a checkpoint that cannot be resumed): rank 0 alone says it."""


@dataclass(frozen=True)
class DistContext:
    """Where this process stands in the run; one process without torchrun is rank 0 of 1."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1
    backend: str | None = None  # None: no process group (plain single-process run)

    @property
    def is_main(self) -> bool:
        """Rank 0 alone writes checkpoints, metrics, logs and the progress bar."""
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.backend is not None


def launched_by_torchrun() -> bool:
    return all(name in os.environ for name in LAUNCHED_BY_TORCHRUN)


def backend_for(device: torch.device) -> str:
    """NCCL for CUDA tensors, gloo for CPU ones: the backends PyTorch supports for each."""
    return "nccl" if device.type == "cuda" else "gloo"


def init_distributed(device: torch.device) -> tuple[DistContext, torch.device]:
    """Join torchrun's process group if this process was launched by it; else a 1-process context.

    On CUDA each worker takes the GPU of its local rank. Returns the context and
    the device this rank trains on.
    """
    if not launched_by_torchrun():
        return DistContext(), device
    rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ["LOCAL_RANK"])
    local_world_size = int(os.environ.get("LOCAL_WORLD_SIZE", world_size))
    if device.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise DigitkitError(
                f"local rank {local_rank} has no GPU: this machine has {torch.cuda.device_count()}; "
                "start at most that many processes per node"
            )
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    backend = backend_for(device)
    if not dist.is_initialized():
        dist.init_process_group(backend, device_id=device if device.type == "cuda" else None)
    return DistContext(rank, world_size, local_rank, local_world_size, backend), device


def shutdown(ctx: DistContext) -> None:
    if ctx.active and dist.is_initialized():
        # every rank reaches the teardown before any closes its connections: a rank whose peer had already gone
        # was aborted by gloo at exit once ("terminate called without an active exception", a finished run)
        dist.barrier()
        dist.destroy_process_group()


def threads_per_process(ctx: DistContext, asked: int | None) -> int:
    """CPU threads for this rank: ``--threads`` if given, else this machine's cores split evenly.

    Two ranks on two cores get one thread each, so they do not oversubscribe.
    """
    if asked:
        return asked
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cores // ctx.local_world_size)


def rank_seed(seed: int, rank: int, epoch: int, stream: int) -> int:
    """A well-mixed seed per (run seed, rank, epoch, stream): each rank augments (stream 0) and drops
    out (stream 1) differently, and a resumed epoch replays exactly the draws it would have had."""
    return int(np.random.SeedSequence([seed, rank, epoch, stream]).generate_state(1)[0])


def local_share(global_idx: torch.Tensor, order: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """This rank's part of one global batch: every N-th index from its rank on.

    A last batch smaller than N is topped up from the start of the epoch's
    order, so no rank ever runs an empty batch (BatchNorm cannot).
    """
    if len(global_idx) < ctx.world_size:
        global_idx = torch.cat([global_idx, order[: ctx.world_size - len(global_idx)]])
    return global_idx[ctx.rank :: ctx.world_size]


def sum_over_ranks(values: Sequence[float], device: torch.device) -> list[float]:
    totals = torch.tensor(list(values), dtype=torch.float64, device=device)
    dist.all_reduce(totals)
    return totals.tolist()


def wrap_model(model: torch.nn.Module, ctx: DistContext, device: torch.device, sync_bn: bool) -> torch.nn.Module:
    """DistributedDataParallel around the model (parameters broadcast from rank 0, gradients all-reduced)."""
    if sync_bn:
        if device.type != "cuda":
            raise DigitkitError("--sync-bn needs CUDA GPUs (PyTorch's SyncBatchNorm does not run on the CPU)")
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    device_ids = [device.index] if device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=device_ids)


def broadcast_buffers(model: torch.nn.Module) -> None:
    """Give every rank rank 0's BatchNorm running statistics (each rank updated its own in its last
    forward pass), so a sharded evaluation scores exactly the model rank 0 checkpoints."""
    for buffer in model.buffers():
        dist.broadcast(buffer, src=0)


def gather_in_rank_order(part: np.ndarray) -> np.ndarray:
    parts: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(parts, part)
    return np.concatenate(parts)


def broadcast_from_main(value: Any, ctx: DistContext) -> Any:
    """Rank 0's value on every rank (the resume state: only rank 0's disk needs the checkpoint)."""
    if not ctx.active:
        return value
    box = [value if ctx.is_main else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def barrier(ctx: DistContext) -> None:
    if ctx.active:
        dist.barrier()


def lost_peer(exc: BaseException) -> DigitkitError | None:
    """A collective that failed because another process of the group died, as one line; None otherwise.

    gloo and NCCL raise a RuntimeError whose text names the backend; any other
    RuntimeError is a bug and stays one.
    """
    text = str(exc)
    if not (launched_by_torchrun() and isinstance(exc, RuntimeError) and ("gloo" in text or "NCCL" in text)):
        return None
    first_line = (text.strip().splitlines() or [""])[0]
    return DigitkitError(f"rank {os.environ['RANK']} lost another process of the group ({first_line[:200]}); stopping")


def launch_on_this_machine(nproc: int, worker_argv: list[str], threads: int | None = None) -> None:
    """Run ``python -m digitkit <worker_argv>`` in ``nproc`` processes under torchrun's elastic agent.

    The same as ``torchrun --standalone --nproc-per-node N -m digitkit ...``:
    torch.distributed.run's own argument parser and launcher, with a local
    rendezvous on a free port. A failed worker stops the group (no restarts:
    ``--resume`` continues from the last checkpoint).
    """
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import elastic_launch
    from torch.distributed.run import config_from_args, get_args_parser

    if launched_by_torchrun():
        raise DigitkitError("--nproc inside a torchrun worker: drop --nproc (torchrun already started the processes)")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    # torchrun would set 1 and print a banner about it; one share of the cores each is what we want
    os.environ.setdefault("OMP_NUM_THREADS", str(threads or max(1, cores // nproc)))
    args = get_args_parser().parse_args(
        ["--nproc-per-node", str(nproc), "--max-restarts", "0", "-m", "digitkit", *worker_argv]
    )
    args.rdzv_backend, args.rdzv_endpoint, args.rdzv_id = "c10d", "localhost:0", str(uuid.uuid4())  # --standalone
    config, command, command_args = config_from_args(args)
    logging.getLogger("torch.distributed.elastic").setLevel(logging.CRITICAL)  # the one line below says it
    try:
        elastic_launch(config=config, entrypoint=command)(*command_args)
    except ChildFailedError as exc:
        rank, failure = first_stop(exc.failures)
        stopped = f"{len(exc.failures)} of {nproc} training processes stopped"
        if failure.exitcode < 0:  # killed from outside: what was saved is good
            raise DigitkitError(
                f"{stopped} (rank {rank} first: killed by {failure.signal_name()}); "
                "--resume continues from the last checkpoint"
            ) from None
        raise DigitkitError(f"{stopped} with an error (said above)") from None


def first_stop(failures: dict[int, Any]) -> tuple[int, Any]:
    """(rank, torchrun's ProcessFailure) of the process that stopped the group.

    The earliest names the cause, the others were stopped because of it; but the agent notices ends in its own
    order, so the two ends that are consequences come last: a SIGABRT (what a peer does when the group breaks
    under it; seen in CI: rank 1 killed by SIGKILL, rank 0's abort noticed first), then a SIGTERM (the agent
    stopping the survivors; seen: rank 1 aborted at teardown, rank 0 named for the SIGTERM it was sent).
    """

    def consequence(failure: Any) -> int:
        return {-signal.SIGABRT: 1, -signal.SIGTERM: 2}.get(failure.exitcode, 0)

    return min(failures.items(), key=lambda item: (consequence(item[1]), item[1].timestamp))
