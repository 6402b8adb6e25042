"""The GPU check's CPU form: the same three stages end to end (the per-shape measurements, the rehearsal
through the Makefile's system path, colorizing) at smoke sizes, and the summary it prints in every case.
`gpu_check_run` (scenarios.py) runs it in the background from the end of collection: once stopped with
Ctrl-C after its first measurement, once to its end."""

import pytest

pytestmark = pytest.mark.slow

STUDY_SHAPES = [
    "baseline (paper)",
    "unet_rgb (paper)",
    "unet_lab (paper)",
    "unet_classif b=10 (paper)",
    "unet_classif b=5 (paper)",
    "unet_classif b=15 (paper)",
    "unet_classif b=10 field (paper)",
    "unet_rgb (authors)",
]


def summary_of(lines: list[str]) -> list[str]:
    starts = [i for i, line in enumerate(lines) if line.startswith("== summary of the GPU check")]
    assert starts, "no summary:\n" + "\n".join(lines[-40:])
    return lines[starts[-1] :]


def test_a_stopped_check_has_printed_what_it_measured_and_closes_with_the_summary(gpu_check_run):
    before, after = gpu_check_run["before"], gpu_check_run["after"]
    measured = [line for line in before if " img/s " in line]
    assert measured and measured[-1].lstrip().startswith("baseline (paper)")  # streamed as soon as measured
    summary = summary_of(after)
    stage = next(line for line in summary if line.startswith("measure "))
    assert "stopped" in stage, stage
    assert any(line.startswith("rehearsal") and "not run" in line for line in summary)
    assert measured[-1] in summary  # the summary repeats what was measured before the stop
    assert gpu_check_run["stopped_rc"] == 130


def test_the_whole_check_measures_every_shape_rehearses_and_projects(gpu_check_run):
    proc = gpu_check_run["whole"]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = summary_of(proc.stdout.splitlines())
    for stage in ("measure", "rehearsal", "colorize"):
        line = next(line for line in summary if line.startswith(stage + " "))
        assert " ok " in line, line
    for label in STUDY_SHAPES:
        row = next((line for line in summary if line.lstrip().startswith(label + " ")), None)
        assert row is not None and " train " in row and " eval " in row and "estimate" in row, label
    text = "\n".join(summary)
    assert "deterministic kernels cost" in text and "U-Net LAB:" in text
    assert "rehearsal, seconds per notebook" in text and "02_baseline_cnn" in text
    for what in (
        "PROFILE=paper DATA=paper, the profile's seeds",
        "PROFILE=paper DATA=paper, SEEDS=1",
        "PROFILE=authors DATA=stl10, the profile's seeds",
    ):
        assert f"projected make reproduce {what}" in text or f"projected {what}" in text, what
    assert "photos/s" in text.split("colorize, photos/s", 1)[1]
