"""A trained experiment as the rest of the library uses it: what `train.fit` and `train.load_run` return,
what `evaluate` scores and `colorize` applies to photos."""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from ..model.tasks import Task
from .config import ExperimentConfig

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
