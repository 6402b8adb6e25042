"""Checkpoints that load with `torch.load(weights_only=True)`, written atomically."""

import os
import tempfile
from pathlib import Path

import torch

from .config import ExperimentConfig

FORMAT = 1


def save_checkpoint(path: Path, state: dict) -> None:
    """Write to a temporary file beside `path`, then rename, so a kill never leaves half a checkpoint."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        torch.save(dict(state, format=FORMAT), tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_checkpoint(path: Path, config: ExperimentConfig | None = None, map_location="cpu") -> dict:
    """Load a checkpoint; refuse it, naming the differences, if it was made with another config."""
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise FileNotFoundError(f"checkpoint {path} does not exist") from None
    except Exception as e:
        raise ValueError(f"checkpoint {path} cannot be read ({type(e).__name__}: {e}); delete it to start over") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"checkpoint {path} is not a colorize_lib checkpoint of format {FORMAT}")
    if config is not None:
        diffs = config_differences(ExperimentConfig.from_dict(state["config"]), config)
        if diffs:
            listed = ", ".join(f"{k}: checkpoint {a!r} vs requested {b!r}" for k, a, b in diffs)
            raise ValueError(f"checkpoint {path} was made for another model or config ({listed})")
    return state


# Settings that may change between a run and its resumption without changing what is learned.
RESUMABLE = ("device", "compile")


def config_differences(saved: ExperimentConfig, wanted: ExperimentConfig) -> list[tuple[str, object, object]]:
    a, b = saved.to_dict(), wanted.to_dict()
    return [(k, a[k], b[k]) for k in a if k not in RESUMABLE and a[k] != b[k]]
