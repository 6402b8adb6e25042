"""`make train EXECUTOR=slurm` against a real one-node Slurm with accounting (tests/local_slurm.py): every
distinct run of the smoke study trained exactly once as tasks of job arrays, through a Ctrl-C that leaves
the array running, a second make train that follows it, a cancel, and a third that finishes what is left;
then `make reproduce` trains nothing (the run folders are those the notebooks ask for)."""

import re

import pytest
from test_train_all import _trained_once

from colorize_lib.engine.config import study_configs

ARRAY = re.compile(r"submitted Slurm array (\d+): (\d+) task\(s\)")
STARTED = re.compile(r"^start (\S+) on Slurm task (\d+_\d+) ", re.M)
DONE = re.compile(r"^done  (\S+)", re.M)
COUNTS = re.compile(r"(\d+) run\(s\) to train, (\d+) finished")


@pytest.fixture(scope="module")
def slurm(slurm_runs):
    if "unavailable" in slurm_runs:
        pytest.skip(slurm_runs["unavailable"])
    return slurm_runs


@pytest.mark.slow
def test_ctrl_c_leaves_the_array_running_and_make_train_follows_it_again(slurm):
    first = "\n".join(slurm["interrupted"]["lines"])
    submitted = ARRAY.search(first)
    assert submitted and int(submitted[2]) == len(study_configs("smoke")), first
    array = submitted[1]
    assert slurm["interrupted"]["rc"] != 0 and f"Slurm array {array} keeps running" in first, first
    assert "make train EXECUTOR=slurm CANCEL=1" in first  # and says how to cancel it
    assert any(task.startswith(f"{array}_") for task in slurm["queued"][0]), slurm["queued"]  # still queued or running
    followed = "\n".join(slurm["followed"]["lines"])
    assert f"following Slurm array {array}: " in followed and not ARRAY.search(followed), followed


@pytest.mark.slow
def test_a_cancelled_array_is_finished_by_a_second_make_train(slurm):
    cancel, followed = slurm["cancel"], "\n".join(slurm["followed"]["lines"])
    assert cancel.returncode == 0 and "cancelled Slurm array" in cancel.stdout, cancel.stdout + cancel.stderr
    assert slurm["queued"][1] == []  # nothing of it left on the cluster
    assert slurm["followed"]["rc"] != 0 and re.search(r"^CANCELLED \S+ \(cancelled; ", followed, re.M), followed
    third = slurm["third"]
    assert third.returncode == 0, third.stdout[-3000:] + third.stderr[-3000:]
    resubmitted, counts = ARRAY.search(third.stdout), COUNTS.search(third.stdout)
    todo, finished = int(counts[1]), int(counts[2])
    # What the first two saw done (and what ended unseen between them) is finished; only the rest goes to a
    # new array, and every task of it starts and ends.
    done_before = len(DONE.findall("\n".join(slurm["interrupted"]["lines"]) + "\n" + followed))
    assert todo + finished == len(study_configs("smoke")) and finished >= done_before and todo >= 1, third.stdout
    assert resubmitted and int(resubmitted[2]) == todo == len(DONE.findall(third.stdout)), third.stdout
    assert "0 run(s) to train" in slurm["fourth"].stdout and "nothing to train" in slurm["fourth"].stdout


@pytest.mark.slow
def test_every_run_is_trained_once_and_make_reproduce_then_trains_nothing(slurm, smoke_run, monkeypatch):
    monkeypatch.setenv("COLORIZE_CHECKPOINT_DIR", str(slurm["root"] / "data" / "checkpoints"))
    configs = study_configs("smoke")
    assert _trained_once(configs) == {}  # no epoch twice, none missing, through Ctrl-C and the cancel

    def run_folders(root):
        return {p.parent.name for p in (root / "data" / "checkpoints").glob("*/selected.pt")}

    # The notebooks of the smoke make reproduce asked for exactly these run folders (names are identity
    # hashes): after make train EXECUTOR=slurm, make reproduce finds each finished and reloads it.
    assert run_folders(slurm["root"]) == run_folders(smoke_run) and len(run_folders(smoke_run)) == len(configs)
    logs = slurm["logs"]
    assert all("# Slurm task " in (logs / f"{label}.log").read_text() for label in ("baseline", "unet_lab"))
