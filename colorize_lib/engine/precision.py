"""The numerics a run trains and evaluates in: bf16 where the device computes it natively, float32 elsewhere.

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

import os
import platform
import subprocess
from contextlib import nullcontext
from functools import lru_cache
from pathlib import Path

import torch

from .runtime import pick_device

BF16, FLOAT32 = "bf16", "float32"
PRECISIONS = (BF16, FLOAT32)
ENV = "COLORIZE_CPU_BF16"
CHANNELS_LAST_MIN_WIDTH = 16  # CPU bf16: narrower models run faster contiguous (module docstring)


def cpu_bf16_native() -> bool:
    """Whether this CPU computes bf16 in hardware (and COLORIZE_CPU_BF16 does not say 0)."""
    setting = os.environ.get(ENV, "").strip()
    if setting not in ("", "0", "1", "emulate"):
        raise ValueError(
            f"environment variable {ENV}={setting!r} is invalid: expected 0 (float32 on CPU), 1 (bf16 where the "
            f"CPU computes it; the default) or emulate (bf16 on any CPU, slow where emulated)"
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


def describe(device: torch.device, amp: bool) -> str:
    """The precision a run of this device and `amp` gets, and why, for the notebook and its provenance."""
    device = torch.device(device)
    chosen = precision(device, amp)
    if not amp:
        return f"{chosen} (amp=False)"
    if device.type == "cpu":
        setting = os.environ.get(ENV, "").strip()
        if setting == "0":
            return f"{chosen} ({ENV}=0)"
        if setting == "emulate":
            return f"{chosen} autocast, emulated ({ENV}=emulate)"
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
