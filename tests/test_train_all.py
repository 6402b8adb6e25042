"""`make train` (colorize_tools.train_all) on this machine: the plan (order, labels), and end to end on the
smoke profile: two workers, Ctrl-C and the rerun, `make reproduce` training nothing after it; a failed run
named with its log, locally and as a task of a Slurm array (tests/test_train_slurm.py has the rest)."""

import re

import pandas as pd
import pytest

from colorize_lib.engine.checkpoint import run_dir_for
from colorize_lib.engine.config import study_configs
from colorize_tools.executors import Job, LocalPool, SlurmArray, SlurmSettings
from colorize_tools.train_all import follow, makespan, photos_key, plan

STARTED = re.compile(r"^start (\S+) on ", re.M)
EPOCH_LINE = re.compile(r"epoch \d+/\d+")


def test_the_makespan_of_longest_first_on_free_workers():
    assert makespan([5, 4, 3, 3], 2) == 8  # 5 | 4; a 3 joins the 4 (free first), the other the 5
    assert makespan([5, 1, 1], 3) == 5 and makespan([2, 2], 1) == 4


def test_the_plan_has_each_run_once_longest_first_and_seeds_get_labels_of_their_own(tmp_path):
    configs = study_configs("cpu")
    photos = {photos_key(c): 7 for c in configs}
    everything, finished = plan(configs, tmp_path, photos)
    assert finished == 0 and len(everything) == len(configs)
    labels = [j.label for j in everything]
    assert len(set(labels)) == len(labels) and {"baseline", "baseline-seed1", "baseline-seed2"} <= set(labels)
    assert [j.seconds for j in everything] == sorted((j.seconds for j in everything), reverse=True)  # longest first
    assert all(isinstance(j, Job) and j.log == tmp_path / f"{j.label}.log" and j.photos == 7 for j in everything)


def _trained_once(configs) -> dict[str, int]:
    """Run name -> rows of its history where that differs from its epochs (an epoch trained twice, or missing)."""
    off = {}
    for c in configs:
        history = pd.read_csv(run_dir_for(c) / "history.csv")
        if list(history["epoch"]) != list(range(1, c.epochs + 1)):
            off[c.name] = len(history)
    return off


@pytest.mark.slow
def test_make_train_interrupted_then_rerun_trains_each_run_once_and_reproduce_trains_nothing(
    train_runs, smoke_run, monkeypatch
):
    r = train_runs
    first = "\n".join(r["first"])
    assert "on worker 1" in first and "on worker 2" in first, first  # two processes at a time
    assert "stopping" in first and r["first_rc"] != 0 and r["left_running"] == [], first
    second = r["second"]
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    todo = r["runs"] - len(r["finished"])
    assert f"{todo} run(s) to train, {len(r['finished'])} finished" in second.stdout
    assert len(STARTED.findall(second.stdout)) == todo >= 1  # only the unfinished runs
    monkeypatch.setenv("COLORIZE_CHECKPOINT_DIR", str(r["root"] / "data" / "checkpoints"))
    assert _trained_once(study_configs("smoke")) == {}

    # make reproduce trains nothing after make train: the notebooks ask for exactly these run folders (the
    # smoke make reproduce made them; names are identity hashes), and a notebook reloads its run, saying so.
    def run_folders(root):
        return {p.parent.name for p in (root / "data" / "checkpoints").glob("*/selected.pt")}

    assert run_folders(r["root"]) == run_folders(smoke_run) and len(run_folders(smoke_run)) == r["runs"]
    assert r["reload"].returncode == 0, r["reload"].stderr[-3000:]
    assert "reusing the run trained by make train (baseline)" in r["notebook"]
    assert not EPOCH_LINE.search(r["notebook"])  # no training epoch in the notebook's output


@pytest.mark.slow  # two training processes
@pytest.mark.parametrize("where", ["local", "slurm"])
def test_a_failed_run_is_named_with_its_log_and_the_others_finish(where, tmp_path, monkeypatch, request):
    from colorize_lib.engine.config import make_config

    monkeypatch.setenv("COLORIZE_CHECKPOINT_DIR", str(tmp_path / "checkpoints"))
    if where == "slurm":
        cluster = request.getfixturevalue("slurm_cluster")
        monkeypatch.setenv("SLURM_CONF", cluster.env()["SLURM_CONF"])  # sbatch passes this environment on
        executor = SlurmArray(SlurmSettings(cpus=1, poll_s=1), tmp_path)
    else:
        executor = LocalPool(workers=2, gpus=0)
    bad = make_config("baseline", "smoke", f"folder:{tmp_path / 'no-such-folder'}", epochs=1)
    good = make_config("baseline", "smoke", epochs=1)
    jobs = [Job(name, c, 1.0, tmp_path / f"{name}.log", 7) for name, c in (("bad", bad), ("good", good))]
    said = []
    failed = follow(executor, jobs, say=said.append)
    assert [j.label for j in failed] == ["bad"]
    named = [line for line in said if line.startswith("FAILED bad (")]
    assert len(named) == 1 and str(tmp_path / "bad.log") in named[0], said
    assert "no-such-folder does not exist" in (tmp_path / "bad.log").read_text()
    assert any(line.startswith("done  good") for line in said) and (run_dir_for(good) / "selected.pt").exists()
    if where == "slurm":  # the task failed for Slurm too, and submitit's own log of it is named
        assert "FAILED bad (failed; Slurm's log " in named[0], named
