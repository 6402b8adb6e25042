"""`make reproduce` says what it does while it does it, and Ctrl-C stops it cleanly for a rerun to finish.

One smoke run with slowed training steps is interrupted (SIGINT to make's process group) after the
first epoch of notebook 04, then a second run completes it; the tests read both runs' output.
"""

import json
import re

import pytest
from scenarios import STEP_DELAY_S

pytestmark = pytest.mark.slow

BAR_LINE = re.compile(r"epoch \d+/\d+: \d+/\d+ steps")

# `reproduce_runs` (conftest.py, scenarios.py): the two runs, started in the background when collection ends.


def test_epoch_lines_stream_while_the_notebook_runs(reproduce_runs):
    first = reproduce_runs["first"]
    epoch1 = next(t for t, text in first if text.startswith("02_baseline_cnn │ baseline epoch 1/2  train"))
    done = next(t for t, text in first if text.startswith("02_baseline_cnn │ done in"))
    # Epoch 2's two slowed steps come after epoch 1's line: read after the notebook ended, the two
    # lines would arrive together.
    assert done - epoch1 > STEP_DELAY_S
    headers = [text for _, text in first if text.startswith("[")]
    assert [h.split()[1] for h in headers] == ["01_data", "02_baseline_cnn", "03_unet_rgb", "04_unet_lab"]
    for h in headers:
        # The format only: the slowed steps (test hook) make the measured speed, hence the time left, absurd.
        left = r"((about \d+ min|about [\d.]+ h|under a minute) left|time left: measuring)"
        assert re.fullmatch(r"\[\d/8\] \d\d_\w+ · elapsed \d+:\d\d · " + left, h), h
    # Nothing has trained on this machine before 02's first epoch: no time left borrowed from elsewhere.
    assert headers[0].endswith("time left: measuring") and headers[1].endswith("time left: measuring")
    assert not headers[2].endswith("measuring")


def test_sigint_stops_everything_and_leaves_no_partial_file(reproduce_runs):
    state, text = reproduce_runs["interrupted"], "\n".join(t for _, t in reproduce_runs["first"])
    assert state["rc"] != 0
    assert "interrupted: 04_unet_lab stopped" in text and "make reproduce PROFILE=smoke" in text
    assert state["left_running"] == []  # no kernel training on after make stopped
    files = state["files"]
    for name in ("01_data", "02_baseline_cnn", "03_unet_rgb"):
        assert f"{name}.ipynb" in files and f"{name}.html" in files
    assert "04_unet_lab.ipynb" not in files and "04_unet_lab.html" not in files
    assert not [f for f in files if f.endswith(".partial")]
    assert "last.pt" in state["checkpoints"]


def test_rerun_skips_finished_notebooks_resumes_training_and_completes(reproduce_runs):
    second, root = reproduce_runs["second"], reproduce_runs["root"]
    out = second.stdout
    assert second.returncode == 0, out[-3000:] + second.stderr[-3000:]
    executed = root / "reports" / "notebooks"
    for name in ("01_data", "02_baseline_cnn", "03_unet_rgb"):
        assert f"{name} ·" not in out  # no run-level line: make did not run it again
        assert (executed / f"{name}.ipynb").stat().st_mtime_ns == reproduce_runs["mtimes"][f"{name}.ipynb"]
    assert re.search(r"^04_unet_lab │ resuming unet_lab from .*last\.pt after epoch 1/2$", out, re.MULTILINE)
    assert "04_unet_lab │ unet_lab epoch 2/2  train" in out
    assert "04_unet_lab │ unet_lab epoch 1/2  train" not in out
    assert re.search(r"^\[8/8\] 08_summary ·", out, re.MULTILINE)
    # Table 1 and where the reports are, at the end.
    table = out[out.index("Table 1") :]
    for model in ("CNN baseline", "U-Net RGB", "U-Net LAB", "U-Net classification", "Gray (a=b=0)"):
        assert model in table
    assert f"reports: {(root / 'reports' / 'index.html').resolve()}" in table
    assert len(list((root / "reports").glob("0[1-8]_*.html"))) == 8 and (root / "reports" / "index.html").exists()


def test_progress_goes_to_the_terminal_and_the_log_not_into_the_notebooks(reproduce_runs):
    terminal = [text for _, text in reproduce_runs["first"]]
    executed = reproduce_runs["root"] / "reports" / "notebooks"
    for name in ("02_baseline_cnn", "03_unet_rgb"):  # run with progress lines from the first step
        assert any(t.startswith(f"{name} │ ") and BAR_LINE.search(t) for t in terminal), terminal
        log = (executed / f"{name}.ipynb.log").read_text().splitlines()
        assert any(BAR_LINE.search(line) for line in log)
        nb = json.loads((executed / f"{name}.ipynb").read_text())
        streams = [o for cell in nb["cells"] for o in cell.get("outputs", []) if o["output_type"] == "stream"]
        text = "".join("".join(o["text"]) for o in streams)
        assert not BAR_LINE.search(text), text  # only the per-epoch lines stay in the report
        assert "epoch 2/2  train" in text
