"""bench/memory_budget.py on the smoke profile: every experiment traced, peaks sane and ordered."""

import importlib.util
import math
from pathlib import Path

import pytest
import torch

from colorize_lib.engine.config import make_config

_PATH = Path(__file__).resolve().parents[1] / "bench" / "memory_budget.py"


pytestmark = pytest.mark.slow  # traces whole training steps


@pytest.fixture(scope="module")
def mb():
    spec = importlib.util.spec_from_file_location("memory_budget", _PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rows(mb):
    return mb.budget_table("smoke", "bf16")


def test_every_experiment_has_positive_finite_peaks(mb, rows):
    labels = [r["experiment"] for r in rows]
    assert labels == [label for label, _ in mb.experiments("smoke")]
    assert {"baseline", "unet_rgb", "unet_lab", "unet_classif"} <= set(labels)
    assert any(label.startswith("alpha_ablation") for label in labels)
    assert {f"bin_ablation b={b}" for b in (5, 10, 15)} <= set(labels)
    for r in rows:
        for key in ("train_gib", "eval_gib", "need_gib"):
            assert math.isfinite(r[key]) and r[key] > 0, (r["experiment"], key, r[key])
        assert r["params"] > 0


def test_classifier_train_peak_grows_with_the_number_of_bins(rows):
    peak = {r["experiment"]: r["train_gib"] for r in rows}
    assert peak["bin_ablation b=5"] > peak["bin_ablation b=10"] > peak["bin_ablation b=15"]


def test_summary_line_names_the_largest_experiment(mb, rows):
    report = mb.format_report(rows, "smoke", "bf16")
    top = max(rows, key=lambda r: max(r["train_gib"], r["eval_gib"]))
    summary = [line for line in report.splitlines() if line.startswith("smoke profile peak:")]
    assert len(summary) == 1
    assert f"({top['experiment']})" in summary[0]
    assert f"{max(top['train_gib'], top['eval_gib']):.2f} GiB" in summary[0]
    for r in rows:
        assert any(line.startswith(r["experiment"]) for line in report.splitlines())


def test_bf16_keeps_fewer_bytes_than_fp32_for_a_regression_model(mb):
    config = make_config("unet_lab", "smoke")
    bf16 = mb.trace_experiment(config, "bf16")
    fp32 = mb.trace_experiment(config, "fp32")
    assert bf16.params == fp32.params
    assert bf16.train_peak < fp32.train_peak


def test_autocast_emulation_casts_like_cpu_autocast(mb):
    # CPU autocast applies to these models' modules as CUDA autocast does; the emulation must agree.
    config = make_config("unet_classif", "smoke")
    dtypes = {}
    for device, autocast in (("cpu", mb._cpu_autocast), ("meta", mb.CudaAutocastOnMeta)):
        _, model = mb.build_task_model(config, device)
        seen = []
        for module in model.modules():
            module.register_forward_hook(lambda m, i, o, seen=seen: seen.append((type(m).__name__, o.dtype)))
        with autocast():
            model(torch.rand(2, 1, 32, 32, device=device))
        dtypes[device] = seen
    assert dtypes["meta"] == dtypes["cpu"]
    assert ("Conv2d", torch.bfloat16) in dtypes["meta"]


def test_bad_arguments_name_the_parameter(mb):
    config = make_config("baseline", "smoke")
    with pytest.raises(ValueError, match="dtype"):
        mb.trace_experiment(config, "fp16")
    with pytest.raises(ValueError, match="eval_batch_size"):
        mb.trace_experiment(config, "fp32", eval_batch_size=0)
    with pytest.raises(ValueError, match="profile"):
        mb.experiments("huge")
