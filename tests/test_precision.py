"""engine.device: which precision a run gets (the device, `amp`, COLORIZE_CPU_BF16), and its layout."""

import pytest
import torch

from colorize_lib.engine import device
from colorize_lib.engine.checkpoint import run_dir_for
from colorize_lib.engine.config import make_config
from colorize_lib.engine.device import precision_of

CPU, CUDA, MPS = torch.device("cpu"), torch.device("cuda"), torch.device("mps")


@pytest.fixture
def native(monkeypatch):
    """Pretend the CPU has bf16 instructions (or not): set the detection's answer."""

    answer = {}
    monkeypatch.setattr(device, "_detect_cpu_bf16", lambda: answer["native"])
    return lambda value: answer.update(native=value)


@pytest.mark.parametrize("setting", ["", "1"])
def test_detection_decides_unless_the_environment_says_0(monkeypatch, native, setting):
    monkeypatch.setenv("COLORIZE_CPU_BF16", setting)
    native(True)
    assert device.precision(CPU, amp=True) == "bf16"
    assert "the CPU computes bf16" in device.describe_precision(CPU, True)
    native(False)
    assert device.precision(CPU, amp=True) == "float32"
    assert device.describe_precision(CPU, True) == "float32 (no bf16 instructions)"


def test_0_makes_any_cpu_float32_and_says_so(monkeypatch, native):
    native(True)
    monkeypatch.setenv("COLORIZE_CPU_BF16", "0")
    assert device.precision(CPU, amp=True) == "float32"
    assert device.describe_precision(CPU, True) == "float32 (COLORIZE_CPU_BF16=0)"
    assert precision_of(make_config("baseline", "cpu", device="cpu")) == "float32"


def test_emulate_takes_bf16_anywhere_and_amp_false_forces_float32(monkeypatch, native):
    native(False)
    monkeypatch.setenv("COLORIZE_CPU_BF16", "emulate")
    assert device.precision(CPU, amp=True) == "bf16"
    assert device.precision(CPU, amp=False) == "float32"
    assert device.describe_precision(CPU, False) == "float32 (amp=False)"


def test_a_bad_setting_is_named_with_what_is_expected(monkeypatch):
    monkeypatch.setenv("COLORIZE_CPU_BF16", "yes")
    with pytest.raises(ValueError, match=r"COLORIZE_CPU_BF16='yes' is invalid: expected 0 .* 1 .* emulate"):
        device.precision(CPU, amp=True)


def test_cuda_takes_bf16_and_other_devices_float32(monkeypatch):
    monkeypatch.setenv("COLORIZE_CPU_BF16", "0")  # says nothing about GPUs
    assert device.precision(CUDA, amp=True) == "bf16"
    assert device.precision(CUDA, amp=False) == "float32"
    assert device.precision(MPS, amp=True) == "float32"


def test_detection_reads_the_cpu_flags(monkeypatch):
    """Where torch.cpu has no capabilities table (older PyTorch, Arm), /proc/cpuinfo's flags decide."""
    device._detect_cpu_bf16.cache_clear()
    monkeypatch.delattr(torch.cpu, "get_capabilities", raising=False)
    for flags, expected in [({"avx512f", "avx512_bf16"}, True), ({"amx_bf16"}, True), ({"asimd", "bf16"}, True)]:
        monkeypatch.setattr(device, "_cpuinfo_flags", lambda flags=flags: flags)
        device._detect_cpu_bf16.cache_clear()
        assert device._detect_cpu_bf16() is expected, flags
    monkeypatch.setattr(device, "_cpuinfo_flags", lambda: {"avx2", "avx512f"})
    monkeypatch.setattr(device, "_mac_bf16", lambda: False)
    device._detect_cpu_bf16.cache_clear()
    assert device._detect_cpu_bf16() is False
    device._detect_cpu_bf16.cache_clear()


def test_layout_channels_last_on_cuda_and_for_wide_bf16_models_on_cpu():
    assert device.memory_format(CUDA, "float32", 4) == torch.channels_last
    assert device.memory_format(CPU, "bf16", 16) == torch.channels_last
    assert device.memory_format(CPU, "bf16", 12) == torch.contiguous_format  # measured slower narrow
    assert device.memory_format(CPU, "float32", 64) == torch.contiguous_format  # float32 runs as before


def test_autocast_runs_convolutions_in_bf16_only_for_a_bf16_run():
    conv = torch.nn.Conv2d(1, 2, 3)
    x = torch.rand(1, 1, 8, 8)
    with device.autocast(CPU, "bf16"):
        assert conv(x).dtype == torch.bfloat16
    with device.autocast(CPU, "float32"):
        assert conv(x).dtype == torch.float32
    with pytest.raises(ValueError, match="precision must be one of"):
        device.autocast(CPU, "fp16")


def test_a_bf16_run_and_a_float32_run_are_two_run_folders(tmp_path, monkeypatch, native):
    config = make_config("unet_rgb", "smoke", device="cpu")
    monkeypatch.setenv("COLORIZE_CPU_BF16", "emulate")
    bf16 = run_dir_for(config, tmp_path)
    monkeypatch.setenv("COLORIZE_CPU_BF16", "0")
    assert run_dir_for(config, tmp_path) != bf16
    assert run_dir_for(config, tmp_path) == run_dir_for(config, tmp_path, numerics="float32")
