"""Data-parallel training under ``torchrun``: process-group setup and small collective helpers.

``torchrun --nproc_per_node=N -m upgan train ...`` starts N processes with ``RANK``,
``LOCAL_RANK`` and ``WORLD_SIZE`` set; without them training runs in one process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

__all__ = ["Context", "setup", "teardown", "all_true", "gather_objects", "barrier"]


@dataclass
class Context:
    """Where this process runs: ``rank`` of ``world_size`` processes, on ``device``."""

    rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        """Rank 0 alone writes files and shows progress."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def _pick_device(device: str, local_rank: int) -> torch.device:
    if device == "cuda" or (device == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise ValueError("The `device` setting is 'cuda' but CUDA is not available. Received device='cuda'")
        return torch.device("cuda", local_rank)
    return torch.device("cpu")


def setup(device: str) -> Context:
    """Join the process group when started by ``torchrun`` (gloo on CPU, NCCL on CUDA)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    torch_device = _pick_device(device, local_rank)
    if world_size > 1 and not dist.is_initialized():
        if torch_device.type == "cuda":
            torch.cuda.set_device(torch_device)
        dist.init_process_group("nccl" if torch_device.type == "cuda" else "gloo")
    return Context(rank, world_size, torch_device)


def teardown(ctx: Context) -> None:
    """Leave the process group (a no-op in a single process)."""
    if ctx.distributed and dist.is_initialized():
        dist.destroy_process_group()


def barrier(ctx: Context) -> None:
    """Wait for every process (a no-op in a single process)."""
    if ctx.distributed:
        dist.barrier()


def all_true(ctx: Context, *flags: bool) -> list[bool]:
    """For each flag, whether it is true on every process (one all-reduce for all flags)."""
    if not ctx.distributed:
        return list(flags)
    t = torch.tensor([float(f) for f in flags], device=ctx.device)
    dist.all_reduce(t, op=dist.ReduceOp.MIN)
    return [bool(v) for v in t.tolist()]


def broadcast_buffers(ctx: Context, *modules: torch.nn.Module | None) -> None:
    """Give every process rank 0's buffers (BatchNorm statistics, ...) of ``modules`` (None skipped).

    DDP sends them before each forward, but the last forward's own update leaves each rank's
    copy different; this makes the processes identical, parameters and buffers, at a checkpoint.
    """
    if not ctx.distributed:
        return
    for module in modules:
        if module is not None:
            for buffer in module.buffers():
                dist.broadcast(buffer, src=0)


def gather_objects(ctx: Context, obj: object) -> list:
    """Every process's ``obj``, in rank order, on every process."""
    if not ctx.distributed:
        return [obj]
    out = [None] * ctx.world_size
    dist.all_gather_object(out, obj)
    return out
