"""The device a run computes on, and in which numerics: set up explicitly by notebooks and entry points
(never at import time).

The numerics a run trains and evaluates in: bf16 where the device computes it natively, float32 elsewhere.

The config's `amp` asks for bf16; `precision(device, amp)` answers what the device gives:
- CUDA: bf16 autocast (every GPU the study targets computes it);
- CPU: bf16 autocast only where the cores have bf16 instructions (x86 AVX512-BF16 or AMX-BF16, Arm
  BF16). Elsewhere PyTorch emulates bf16 and runs slower than float32, so the run stays float32. The
  environment variable COLORIZE_CPU_BF16=0 makes any CPU count as one without them (1, or unset, lets
  detection decide);
- Apple MPS and the rest: float32.

The memory format follows what `bench/cpu_precision.py` measured. On CUDA, channels_last. On a bf16 CPU,
channels_last from a base width of 16 channels up (1.2-1.4x faster than contiguous bf16 at widths 16-64,
64² and 96² crops); contiguous below (width 12: 0.9-1.0x, oneDNN's channels_last kernels want more
channels). A float32 CPU run stays contiguous, as every float32 run before it, so its numbers are
unchanged to the bit.

The precision is part of a run's identity (`checkpoint.run_dir_for`): a bf16 run and a float32 run of one
config are two runs, and each records its precision (history, checkpoint, provenance).
"""

import datetime as dt
import math
import os
import platform
import random
import subprocess
import time
from contextlib import nullcontext
from functools import lru_cache
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


BF16, FLOAT32 = "bf16", "float32"
PRECISIONS = (BF16, FLOAT32)
CPU_BF16_ENV = "COLORIZE_CPU_BF16"
CHANNELS_LAST_MIN_WIDTH = 16  # CPU bf16: narrower models run faster contiguous (module docstring)


def cpu_bf16_native() -> bool:
    """Whether this CPU computes bf16 in hardware (and COLORIZE_CPU_BF16 does not say 0)."""
    setting = os.environ.get(CPU_BF16_ENV, "").strip()
    if setting not in ("", "0", "1", "emulate"):
        raise ValueError(
            f"environment variable {CPU_BF16_ENV}={setting!r} is invalid: expected 0 (float32 on CPU), 1 (bf16 "
            "where the CPU computes it; the default) or emulate (bf16 on any CPU, slow where emulated)"
        )
    return setting == "emulate" or (setting != "0" and _detect_cpu_bf16())


@lru_cache(maxsize=1)
def _detect_cpu_bf16() -> bool:
    capabilities = getattr(torch.cpu, "get_capabilities", None)  # PyTorch >= 2.8 on x86
    if capabilities is not None:
        try:
            found = capabilities()
        except RuntimeError:
            found = {}
        if found.get("avx512_bf16") or found.get("amx_bf16"):
            return True
    return bool(_cpuinfo_flags() & {"avx512_bf16", "amx_bf16", "bf16"}) or _mac_bf16()


def _cpuinfo_flags() -> set[str]:
    """Linux: the `flags` (x86) or `Features` (Arm, where BF16 shows as `bf16`) of the first CPU."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return set(value.split())
    return set()


def _mac_bf16() -> bool:
    if platform.system() != "Darwin":
        return False
    try:
        out = subprocess.run(["sysctl", "-n", "hw.optional.arm.FEAT_BF16"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.stdout.strip() == "1"


def precision(device: torch.device, amp: bool) -> str:
    """`bf16` when `amp` asks for it and the device computes it natively, else `float32`."""
    device = torch.device(device)
    if not amp:
        return FLOAT32
    if device.type == "cuda":
        return BF16
    if device.type == "cpu":
        return BF16 if cpu_bf16_native() else FLOAT32
    return FLOAT32


def precision_of(config) -> str:
    """The precision a run of `config` (an ExperimentConfig) trains in on this machine."""
    return precision(pick_device(config.device), config.amp)


def describe_precision(device: torch.device, amp: bool) -> str:
    """The precision a run of this device and `amp` gets, and why, for the notebook and its provenance."""
    device = torch.device(device)
    chosen = precision(device, amp)
    if not amp:
        return f"{chosen} (amp=False)"
    if device.type == "cpu":
        setting = os.environ.get(CPU_BF16_ENV, "").strip()
        if setting == "0":
            return f"{chosen} ({CPU_BF16_ENV}=0)"
        if setting == "emulate":
            return f"{chosen} autocast, emulated ({CPU_BF16_ENV}=emulate)"
        return f"{chosen} autocast (the CPU computes bf16)" if chosen == BF16 else f"{chosen} (no bf16 instructions)"
    return f"{chosen} autocast" if chosen == BF16 else f"{chosen} ({device.type})"


def autocast(device: torch.device, precision: str):
    """The forward pass's context: bf16 autocast for a bf16 run, nothing for float32."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    device = torch.device(device)
    if precision == FLOAT32 or device.type not in ("cuda", "cpu"):
        return nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def channels_last(device: torch.device, precision: str, width: int) -> bool:
    """Whether model and inputs use channels_last (see the module docstring for the measurements)."""
    device = torch.device(device)
    if device.type == "cuda":
        return True
    return device.type == "cpu" and precision == BF16 and width >= CHANNELS_LAST_MIN_WIDTH


def memory_format(device: torch.device, precision: str, width: int) -> torch.memory_format:
    return torch.channels_last if channels_last(device, precision, width) else torch.contiguous_format
