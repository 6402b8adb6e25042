"""The one inference path: training-time evaluation, the results tables and colorizing photos all go
through `colorize`, so the epoch picked as best and the PSNR reported for it come from the same
numerics (bf16 autocast on CUDA when the config asks for it, float32 elsewhere)."""

from dataclasses import dataclass

import torch

from ..model.tasks import Task


@dataclass
class Colorized:
    rgb: torch.Tensor  # (N, 3, H, W) float32 in [0, 1], on the device of the input
    loss: float | None  # mean test loss over the images, when asked for


def autocast(device: torch.device, enabled: bool):
    """bf16 autocast on CUDA when `enabled` (the config's `amp`); a no-op on other devices."""
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=enabled and device.type == "cuda")


def eval_batch_size(config) -> int:
    """Images per evaluation batch: the training batch. A training step of that batch fits (see
    bench/memory_budget.py) and holds activations for backward and optimiser state that evaluation
    does not, so evaluation at the same batch fits with room to spare."""
    return config.batch_size


@torch.no_grad()
def colorize(
    model: torch.nn.Module, task: Task, rgb: torch.Tensor, batch_size: int, amp: bool, with_loss: bool = False
) -> Colorized:
    """Colorize the luminance of RGB images (N, 3, H, W) in [0, 1] with `model`, `batch_size` at a time
    on the model's device. The output keeps the input's device."""
    model.eval()
    device = next(model.parameters()).device
    outputs, loss_sum = [], 0.0
    for i in range(0, len(rgb), batch_size):
        batch = rgb[i : i + batch_size].to(device)
        x, target = task.inputs_targets(batch)
        if device.type == "cuda":
            x = x.contiguous(memory_format=torch.channels_last)
        with autocast(device, amp):
            out = model(x)
            if with_loss:
                loss_sum += float(task.loss(out, target)) * len(batch)
            outputs.append(task.to_rgb(out, x).to(rgb.device))
    return Colorized(torch.cat(outputs), loss_sum / len(rgb) if with_loss else None)
