"""Checkpoints that load with `torch.load(weights_only=True)`, written atomically.

A checkpoint is a dict of tensors and plain Python values: `model`, `optimizer` (state dicts),
`rng` (see `capture_rng`), `epoch`, `history` (list of per-epoch dicts), `best_val_psnr`, `selected_by`
(`validation` or `final epoch`), `photos` (fingerprint of the training and validation photos), `config`
(the ExperimentConfig as a dict), `format`, and `class_weights` for the classifier.

One trainer per run on a machine: a process that trains a run holds an OS lock on its folder. A second
process that asks for the same run (a reader in JupyterLab while `make reproduce` trains it) says who holds
it, waits, and then reloads the finished run instead of training it at the same time. The kernel releases
the lock on any exit of the holder, SIGKILL included, so a killed trainer never leaves a run locked. Across
machines the scheduler (`make train EXECUTOR=slurm`) decides who trains a run: `flock` on a network file
system is not reliable, so nothing here counts on it.
"""

import datetime as dt
import fcntl
import hashlib
import json
import os
import random
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from ..files import atomic_path
from ..paths import checkpoint_root
from .config import LABELS, RESUMABLE, ExperimentConfig
from .device import precision_of

FORMAT = 1


def run_dir_for(config: ExperimentConfig, root: Path | None = None, numerics: str | None = None) -> Path:
    """<root>/<model>-<hash of config.identity() and the precision>; root defaults to
    $COLORIZE_CHECKPOINT_DIR, else data/checkpoints. The name and profile are labels, not identity: the same
    experiment asked for by two notebooks (05's classifier and 07's b = 10) is one folder, trained once.
    The precision (`numerics`; default: what the config's device gives, `precision_of`) is identity: a bf16
    run is another folder than the float32 run of the same config."""
    root = Path(root) if root is not None else checkpoint_root()
    identity = dict(config.identity(), precision=numerics or precision_of(config))
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:10]
    return root / f"{config.model}-{digest}"


def save_checkpoint(path: Path, state: dict) -> None:
    """Write to a temporary file beside `path`, then rename, so a kill never leaves half a checkpoint."""
    with atomic_path(path) as tmp:
        torch.save(dict(state, format=FORMAT), tmp)


def load_checkpoint(path: Path, config: ExperimentConfig | None = None, map_location="cpu") -> dict:
    """Load a checkpoint; refuse it, naming the differences, if it was made with another config."""
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise FileNotFoundError(f"checkpoint {path} does not exist") from None
    except Exception as e:
        raise ValueError(
            f"checkpoint {path} cannot be read ({type(e).__name__}: {e}); delete it to start over"
        ) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"checkpoint {path} is not a colorize_lib checkpoint of format {FORMAT}")
    if config is not None:
        diffs = config_differences(ExperimentConfig.from_dict(state["config"]), config)
        if diffs:
            listed = ", ".join(f"{k}: checkpoint {a!r} vs requested {b!r}" for k, a, b in diffs)
            raise ValueError(f"checkpoint {path} was made for another model or config ({listed})")
    return state


def config_differences(saved: ExperimentConfig, wanted: ExperimentConfig) -> list[tuple[str, object, object]]:
    a, b = saved.to_dict(), wanted.to_dict()
    return [(k, a[k], b[k]) for k in a if k not in LABELS + RESUMABLE and a[k] != b[k]]


def capture_rng() -> dict:
    """Every RNG state a run could touch, as tensors and plain values (numpy's array becomes a tensor)."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        "numpy": (kind, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(cached)),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict) -> None:
    """Inverse of `capture_rng`; CUDA states are restored only where as many devices are visible."""
    torch.set_rng_state(state["torch"])
    random.setstate(_as_tuples(state["python"]))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    cuda = state.get("cuda")
    if cuda is not None and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)


def _as_tuples(x):
    # random.setstate wants the nested tuples back; a round trip through torch.save may keep them as is.
    return tuple(_as_tuples(v) for v in x) if isinstance(x, (list, tuple)) else x


LOCK_FILE = ".lock"


@contextmanager
def run_lock(run_dir: Path, log=print) -> Iterator[None]:
    """Hold the exclusive lock of `run_dir` (its `.lock` file) for the block, waiting for another holder."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"{run_dir.name} is being trained by {_holder(fd)}: waiting for it, then reloading the run")
            fcntl.flock(fd, fcntl.LOCK_EX)
        me = dict(pid=os.getpid(), host=socket.gethostname(), since=dt.datetime.now().isoformat(timespec="seconds"))
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def _holder(fd: int) -> str:
    try:
        who = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return f"process {who['pid']} on {who['host']} (since {who['since']})"
    except (ValueError, KeyError):
        return "another process"
