"""Run-time setup, called explicitly by notebooks and entry points (never at import time)."""

import datetime as dt
import math
import os
import random
import time
from pathlib import Path

import numpy as np
import torch


def pick_device(name: str = "auto") -> torch.device:
    """`auto` picks CUDA, then Apple MPS, then CPU."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r} was asked for but CUDA is not available; use device='auto' or 'cpu'")
    return device


# When the notebook (or script) began: `setup()` sets it the first time it runs in a process, so a
# report can say when it started and how long it took (a notebook that calls `setup()` again, e.g. a
# rerun cell, must not move the start). `started()` reads it.
_STARTED: tuple[dt.datetime, float] | None = None


def started() -> tuple[dt.datetime, float] | None:
    """(UTC wall-clock time, `time.monotonic()` value) of the first `setup()` call, or None before it."""
    return _STARTED


def setup(seed: int = 0, deterministic: bool = True, device: str = "auto") -> torch.device:
    """Seed every RNG, make kernels deterministic if asked, and return the device to train on.

    On CPU, seeded runs are bit-identical. On CUDA, deterministic mode needs a fixed cuBLAS
    workspace (set here) and costs some speed; bf16 autocast results still vary across GPU models.
    """
    global _STARTED
    if _STARTED is None:
        _STARTED = (dt.datetime.now(dt.UTC), time.monotonic())
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
    else:
        torch.backends.cudnn.benchmark = True
    dev = pick_device(device)
    if dev.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    return dev


def usable_cores() -> int:
    """CPU cores this process may use: its affinity mask, capped by a cgroup v2 CPU quota if one is set.

    `os.cpu_count()` counts the host's cores, which oversubscribes a container limited to fewer.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            cores = min(cores, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cores)


def configure_threads(processes_per_node: int = 1) -> int:
    """Give torch's CPU kernels one thread per usable core, shared among the processes on this node.

    `OMP_NUM_THREADS`, when set (torchrun sets it to 1 for several processes per node), wins: set it
    to 1 on a machine shared with other busy processes, where OpenMP threads waiting for a
    descheduled sibling can make small kernels many times slower. Results are bit-identical between
    runs with the same thread count; another count changes the order of float additions, hence the
    last bits. Returns the thread count in use. `fit` calls this.
    """
    if os.environ.get("OMP_NUM_THREADS"):
        return torch.get_num_threads()
    threads = max(1, usable_cores() // max(1, processes_per_node))
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        return f"cpu ({os.cpu_count()} cores, {torch.get_num_threads()} threads)"
    return device.type
