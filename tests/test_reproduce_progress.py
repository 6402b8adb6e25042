"""`make reproduce` says what it does while it does it, and Ctrl-C stops it cleanly for a rerun to finish.

One smoke run with slowed training steps is interrupted (SIGINT to make's process group) after the
first epoch of notebook 04, then a second run completes it; the tests read both runs' output.
"""

import json
import os
import queue
import re
import signal
import subprocess
import threading
import time

import psutil
import pytest

from colorize_lib.paths import PROJECT_ROOT

pytestmark = pytest.mark.slow

STEP_DELAY_S = 1.5  # per training step of the first run: 2 steps an epoch on the smoke profile
INTERRUPT_AFTER = "04_unet_lab │ unet_lab epoch 1/2  train"  # the epoch line: epoch 1 is checkpointed
BAR_LINE = re.compile(r"epoch \d+/\d+: \d+/\d+ steps")


def _make_command(root) -> list[str]:
    return ["make", "-C", str(PROJECT_ROOT), "reproduce", "PROFILE=smoke", f"REPORTS={root / 'reports'}"]


def _make_env(root, **env) -> dict:
    full_env = dict(os.environ, COLORIZE_DATA_DIR=str(root / "data"), MPLBACKEND="Agg", **env)
    full_env.pop("COLORIZE_RUN_STARTED", None)
    return full_env


def _start_make(root, **env) -> subprocess.Popen:
    # Its own process group, as a terminal gives it: Ctrl-C reaches make and everything it started.
    return subprocess.Popen(
        _make_command(root),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_make_env(root, **env),
        start_new_session=True,
    )


def _read_lines(proc: subprocess.Popen) -> queue.Queue:
    """(arrival time, line) for each output line, then None at the end of the output."""
    lines: queue.Queue = queue.Queue()

    def pump():
        for line in proc.stdout:
            lines.put((time.monotonic(), line.rstrip("\n")))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _collect(lines: queue.Queue, until: str | None, deadline_s: float) -> list[tuple[float, str]]:
    got, end = [], time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            item = lines.get(timeout=max(0.1, end - time.monotonic()))
        except queue.Empty:
            break
        if item is None:
            return got
        got.append(item)
        if until is not None and until in item[1]:
            return got
    raise AssertionError(
        f"no {until or 'end of output'!r} within {deadline_s} s; output so far:\n" + "\n".join(t for _, t in got[-40:])
    )


def _processes_using(data_dir) -> list[psutil.Process]:
    found = []
    for p in psutil.process_iter():
        try:
            if p.environ().get("COLORIZE_DATA_DIR") == str(data_dir):
                found.append(p)
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            pass
    return found


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("reproduce")
    first = _start_make(root, COLORIZE_STEP_DELAY_S=str(STEP_DELAY_S), COLORIZE_PROGRESS_AFTER_S="0")
    try:
        lines = _read_lines(first)
        before = _collect(lines, INTERRUPT_AFTER, deadline_s=900)
        os.killpg(first.pid, signal.SIGINT)
        first.wait(timeout=60)  # a bound against hanging, not a speed figure
        before += _collect(lines, None, deadline_s=30)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    executed = root / "reports" / "notebooks"
    left_running = _processes_using(root / "data")
    mtimes = {p.name: p.stat().st_mtime_ns for p in executed.glob("*.ipynb")}
    interrupted_state = dict(
        rc=first.returncode,
        left_running=[p.cmdline() for p in left_running],
        files=sorted(p.name for p in (root / "reports").rglob("*") if p.is_file()),
        checkpoints=sorted(p.name for p in (root / "data" / "checkpoints").rglob("*.pt")),
    )

    second = subprocess.run(_make_command(root), capture_output=True, text=True, timeout=900, env=_make_env(root))
    return dict(root=root, first=before, interrupted=interrupted_state, mtimes=mtimes, second=second)


def test_epoch_lines_stream_while_the_notebook_runs(runs):
    first = runs["first"]
    epoch1 = next(t for t, text in first if text.startswith("02_baseline_cnn │ baseline epoch 1/2  train"))
    done = next(t for t, text in first if text.startswith("02_baseline_cnn │ done in"))
    # Epoch 2's two slowed steps come after epoch 1's line: read after the notebook ended, the two
    # lines would arrive together.
    assert done - epoch1 > STEP_DELAY_S
    headers = [text for _, text in first if text.startswith("[")]
    assert [h.split()[1] for h in headers] == ["01_data", "02_baseline_cnn", "03_unet_rgb", "04_unet_lab"]
    for h in headers:
        assert re.fullmatch(r"\[\d/8\] \d\d_\w+ · elapsed \d+:\d\d · (about \d+ min|under a minute) left", h), h


def test_sigint_stops_everything_and_leaves_no_partial_file(runs):
    state, text = runs["interrupted"], "\n".join(t for _, t in runs["first"])
    assert state["rc"] != 0
    assert "interrupted: 04_unet_lab stopped" in text and "make reproduce PROFILE=smoke" in text
    assert state["left_running"] == []  # no kernel training on after make stopped
    files = state["files"]
    for name in ("01_data", "02_baseline_cnn", "03_unet_rgb"):
        assert f"{name}.ipynb" in files and f"{name}.html" in files
    assert "04_unet_lab.ipynb" not in files and "04_unet_lab.html" not in files
    assert not [f for f in files if f.endswith(".partial")]
    assert "last.pt" in state["checkpoints"]


def test_rerun_skips_finished_notebooks_resumes_training_and_completes(runs):
    second, root = runs["second"], runs["root"]
    out = second.stdout
    assert second.returncode == 0, out[-3000:] + second.stderr[-3000:]
    executed = root / "reports" / "notebooks"
    for name in ("01_data", "02_baseline_cnn", "03_unet_rgb"):
        assert f"{name} ·" not in out  # no run-level line: make did not run it again
        assert (executed / f"{name}.ipynb").stat().st_mtime_ns == runs["mtimes"][f"{name}.ipynb"]
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


def test_executed_notebooks_keep_one_final_line_per_progress_bar(runs):
    executed = runs["root"] / "reports" / "notebooks"
    for name in ("02_baseline_cnn", "03_unet_rgb"):  # run with progress lines from the first step
        nb = json.loads((executed / f"{name}.ipynb").read_text())
        bar_lines = [
            line
            for cell in nb["cells"]
            for o in cell.get("outputs", [])
            if o["output_type"] == "stream"
            for line in "".join(o["text"]).splitlines()
            if BAR_LINE.search(line)
        ]
        assert len(bar_lines) == 2 and all("2/2 steps (100%)" in line for line in bar_lines), bar_lines
        assert all("\r" not in line for line in bar_lines)
        # The log kept every refresh: without coalescing the notebook would hold these too.
        refreshes = [
            line for line in (executed / f"{name}.ipynb.log").read_text().splitlines() if BAR_LINE.search(line)
        ]
        assert len(refreshes) > len(bar_lines)
