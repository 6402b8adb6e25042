"""The one inference path: training-time evaluation, the results tables and colorizing photos all go
through `infer`, so the epoch picked as best and the PSNR reported for it come from the same
numerics: the run's precision (bf16 autocast where the device computes it and the config's `amp` asks for
it, float32 elsewhere; see precision.py) and memory format.

`Run` is a trained experiment as the rest of the library uses it: what `train.fit` and
`train.load_run` return, what `evaluate` scores and `photos` applies to your photos.
"""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from ..engine.tasks import Task
from .config import ExperimentConfig
from .device import FLOAT32, autocast, memory_format

SELECTED_BY = ("validation", "final epoch")  # how the reported checkpoint of a run was chosen


@dataclass
class Run:
    """A trained experiment: the model at its selected checkpoint (eval mode, on `device`), its task,
    history and folder, and how (`selected_by`, one of SELECTED_BY) and at which epoch that checkpoint
    was chosen, and the precision it trained in."""

    config: ExperimentConfig
    model: torch.nn.Module
    task: Task
    history: pd.DataFrame
    run_dir: Path | None
    device: torch.device
    selected_by: str = "final epoch"
    selected_epoch: int = 0
    precision: str = "float32"  # what it trained in and is evaluated in: bf16 or float32 (precision.py)


@dataclass
class Colorized:
    rgb: torch.Tensor  # (N, 3, H, W) float32 in [0, 1], on the device of the input
    loss: float | None  # mean test loss over the images, when asked for


def eval_batch_size(config) -> int:
    """Images per evaluation batch: the training batch. A training step of that batch fits (see
    bench/memory_budget.py) and holds activations for backward and optimiser state that evaluation
    does not, so evaluation at the same batch fits with room to spare."""
    return config.batch_size


@torch.no_grad()
def infer(
    model: torch.nn.Module,
    task: Task,
    rgb: torch.Tensor,
    batch_size: int,
    precision: str = FLOAT32,
    with_loss: bool = False,
) -> Colorized:
    """Colorize the luminance of RGB images (N, 3, H, W) in [0, 1] with `model`, `batch_size` at a time
    on the model's device, in `precision` (the run's). The output keeps the input's device, in float32."""
    model.eval()
    device = next(model.parameters()).device
    layout = memory_format(device, precision, task.config.width)
    outputs, loss_sum = [], 0.0
    for i in range(0, len(rgb), batch_size):
        batch = rgb[i : i + batch_size].to(device)
        x, target = task.inputs_targets(batch)
        x = x.contiguous(memory_format=layout)
        with autocast(device, precision):
            out = model(x)
        # Outside autocast, as in training: the loss and the colour conversion run in float32 (autocast
        # would run the Lab -> RGB matrix products in bf16); the classifier's head runs in its features' dtype.
        if with_loss:
            loss_sum += float(task.loss(out, target)) * len(batch)
        outputs.append(task.to_rgb(out, x).to(rgb.device))
    return Colorized(torch.cat(outputs), loss_sum / len(rgb) if with_loss else None)
