"""Data-parallel training across processes: the same experiment, the same global batch, W processes.

Under `torchrun` (WORLD_SIZE > 1) every process draws the same global batch of `config.batch_size`
crops from the same seeded sampler and trains on its contiguous chunk (`shard`); DDP averages the
gradients. Each local loss is scaled by (local rows x W / global rows) so that the averaged gradient
is the gradient of the global batch mean even when the batch does not split evenly.

BatchNorm statistics are computed over the global batch (`nn.SyncBatchNorm` on CUDA, `GlobalBatchNorm2d`
elsewhere), so W processes compute what one process computes, up to the order of float additions.
With per-rank statistics the forward pass itself would differ from one process (each rank
normalising its half batch with its own mean and variance), and the runs would diverge beyond rounding.

Outside torchrun everything here is a no-op, so `fit` has one code path.
"""

import gc
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
import torch.distributed._functional_collectives as funcol
from torch import nn
from torch.nn.parallel import DistributedDataParallel


@dataclass(frozen=True)
class Context:
    """Where this process sits: rank among `world` processes, `local_world` of them on this node."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    local_world: int = 1

    @property
    def is_main(self) -> bool:
        """Rank 0 writes checkpoints and history and logs; the others only train."""
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world > 1


def init(device: torch.device) -> tuple[Context, torch.device]:
    """Join the process group torchrun describes (nccl on CUDA, gloo on CPU); return the context and
    this process's device (cuda:LOCAL_RANK on CUDA). Without torchrun: one process, device unchanged."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Context(), device
    ctx = Context(
        int(os.environ["RANK"]),
        world,
        int(os.environ.get("LOCAL_RANK", "0")),
        int(os.environ.get("LOCAL_WORLD_SIZE", str(world))),
    )
    if device.type == "cuda":
        device = torch.device("cuda", ctx.local_rank)
        torch.cuda.set_device(device)
    elif device.type != "cpu":
        raise RuntimeError(f"multi-process training supports cuda (nccl) and cpu (gloo), not {device.type}")
    if not dist.is_initialized():
        dist.init_process_group(
            "nccl" if device.type == "cuda" else "gloo", device_id=device if device.type == "cuda" else None
        )
    return ctx, device


def check_batches(ctx: Context, batch_size: int, samples_per_epoch: int) -> None:
    """Every rank needs at least one row of every global batch, the last (possibly short) one included."""
    last = samples_per_epoch % batch_size or batch_size
    if ctx.active and min(batch_size, last) < ctx.world:
        raise ValueError(
            f"config parameter 'batch_size' = {batch_size} with {samples_per_epoch} samples per epoch "
            f"leaves a batch of {min(batch_size, last)} rows for {ctx.world} processes: expected every "
            f"batch to have at least one row per process (raise batch_size or samples_per_epoch)"
        )


def sync_batchnorm(model: nn.Module, ctx: Context, device: torch.device) -> nn.Module:
    """Make BatchNorm use global-batch statistics across ranks (before moving to the device)."""
    if not ctx.active:
        return model
    if device.type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(model)
    return GlobalBatchNorm2d.convert(model)


def wrap(model: nn.Module, ctx: Context, device: torch.device) -> nn.Module:
    """DistributedDataParallel around `model` under torchrun; `model` itself otherwise."""
    if not ctx.active:
        return model
    return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)


def shard(batch: torch.Tensor, ctx: Context) -> torch.Tensor:
    """This rank's contiguous chunk of a global batch (chunks differ by at most one row)."""
    return batch.tensor_split(ctx.world)[ctx.rank] if ctx.active else batch


def loss_scale(local_rows: int, global_rows: int, ctx: Context) -> float:
    """Factor that turns DDP's mean over ranks of local means into the global mean."""
    return local_rows * ctx.world / global_rows


def all_sum(value: torch.Tensor, ctx: Context) -> torch.Tensor:
    """Sum of a tensor over ranks (the tensor itself for one process)."""
    if ctx.active:
        value = value.clone()
        dist.all_reduce(value)
    return value


def barrier(ctx: Context) -> None:
    if ctx.active:
        dist.barrier()


def shutdown() -> None:
    """Destroy the process group while the interpreter is alive; call it once the DDP wrappers are gone.
    A group still referenced (a live wrapper holds it) outlives this call, and gloo's worker thread may
    then free its last work during interpreter exit, which aborts the process ("terminate called without
    an active exception") after a successful run. The collection frees wrappers kept in reference cycles."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
        gc.collect()


class GlobalBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d whose training statistics span the global batch of every rank, for backends
    `nn.SyncBatchNorm` does not support (it is CUDA-only). The per-channel sums of x and x² and the
    count are all-reduced with an autograd-aware all_reduce, whose backward sums the gradients of
    those moments over ranks: the same gradient as one process holding the whole batch. Moments are
    accumulated in float64, as PyTorch's CPU batch norm does. Outside training or without a process
    group it is a plain BatchNorm2d, with the same state-dict keys.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(x)
        return self._global_forward(x)

    @torch.compiler.disable
    def _global_forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W)
        c = x.shape[1]
        xd = x.double()
        count = torch.full((1,), x.numel() / c, dtype=torch.float64, device=x.device)
        local = torch.cat([xd.sum((0, 2, 3)), (xd * xd).sum((0, 2, 3)), count])  # (2C + 1,)
        moments = funcol.wait_tensor(funcol.all_reduce(local, "sum", dist.group.WORLD))
        n = moments[-1]
        mean = moments[:c] / n  # (C,)
        var = (moments[c : 2 * c] / n - mean * mean).clamp(min=0.0)  # biased, as used to normalise
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked += 1
                factor = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
                self.running_mean.lerp_(mean.to(self.running_mean.dtype), factor)
                self.running_var.lerp_((var * n / (n - 1)).to(self.running_var.dtype), factor)
        scale = torch.rsqrt(var + self.eps).to(x.dtype)
        y = (x - mean.to(x.dtype)[:, None, None]) * scale[:, None, None]
        if self.affine:
            y = y * self.weight[:, None, None] + self.bias[:, None, None]
        return y

    @classmethod
    def convert(cls, module: nn.Module) -> nn.Module:
        """Replace every BatchNorm2d in `module` (in place, parameters and buffers kept)."""
        if isinstance(module, nn.BatchNorm2d) and not isinstance(module, cls):
            new = cls(module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats)
            new.load_state_dict(module.state_dict())
            if module.affine:
                new.weight, new.bias = module.weight, module.bias
            new.train(module.training)
            return new
        for name, child in module.named_children():
            module.add_module(name, cls.convert(child))
        return module
