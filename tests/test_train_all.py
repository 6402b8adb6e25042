"""`make train` (colorize_tools.train_all): the plan (shards, order, labels), and end to end on the smoke
profile: two workers, Ctrl-C and the rerun, `make reproduce` training nothing after it, two shards at once."""

import re

import pandas as pd
import pytest

from colorize_lib.engine.checkpoint import run_dir_for
from colorize_lib.engine.experiments import study_configs
from colorize_tools.train_all import Job, makespan, parse_shard, photos_key, plan

STARTED = re.compile(r"^start (\S+) on ", re.M)
EPOCH_LINE = re.compile(r"epoch \d+/\d+")


def test_shards_are_k_of_k_and_bad_ones_name_the_parameter():
    assert parse_shard(None) == (1, 1) and parse_shard("2/3") == (2, 3)
    for bad in ("0/2", "3/2", "a/b", "1"):
        with pytest.raises(ValueError, match=f"parameter 'shard' = '{bad}' is invalid"):
            parse_shard(bad)


def test_the_makespan_of_longest_first_on_free_workers():
    assert makespan([5, 4, 3, 3], 2) == 8  # 5 | 4; a 3 joins the 4 (free first), the other the 5
    assert makespan([5, 1, 1], 3) == 5 and makespan([2, 2], 1) == 4


def test_shards_split_the_study_once_and_seeds_get_labels_of_their_own(tmp_path, monkeypatch):
    configs = study_configs("cpu")
    photos = {photos_key(c): 7 for c in configs}
    everything, finished = plan(configs, None, tmp_path, photos)
    assert finished == 0 and len(everything) == len(configs)
    labels = [j.label for j in everything]
    assert len(set(labels)) == len(labels) and {"baseline", "baseline-seed1", "baseline-seed2"} <= set(labels)
    assert [j.seconds for j in everything] == sorted((j.seconds for j in everything), reverse=True)  # longest first
    shards = [plan(configs, f"{k}/3", tmp_path, photos)[0] for k in (1, 2, 3)]
    assert sorted(j.label for s in shards for j in s) == sorted(labels)
    # A machine that has trained part of a run deals the same shards: the deal ignores progress.
    monkeypatch.setattr("colorize_tools.estimate.run_progress", lambda c: (1, 0.001, 1.0))
    again = [plan(configs, f"{k}/3", tmp_path, photos)[0] for k in (1, 2, 3)]
    assert [sorted(j.label for j in s) for s in again] == [sorted(j.label for j in s) for s in shards]
    assert all(isinstance(j, Job) and j.log == tmp_path / f"{j.label}.log" for j in everything)


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


@pytest.mark.slow
def test_two_shards_at_once_train_each_run_once(shard_runs, monkeypatch):
    r = shard_runs
    assert r["rcs"] == [0, 0], "\n".join(o[-2000:] for o in r["outputs"])
    started = [set(STARTED.findall(out)) for out in r["outputs"]]
    assert started[0] and started[1] and not started[0] & started[1]
    configs = study_configs("smoke")
    assert len(started[0] | started[1]) == len(configs)
    monkeypatch.setenv("COLORIZE_CHECKPOINT_DIR", str(r["root"] / "data" / "checkpoints"))
    assert _trained_once(configs) == {}


@pytest.mark.slow  # two training processes
def test_a_failed_run_is_named_with_its_log_and_the_others_finish(tmp_path, monkeypatch):
    from colorize_lib.engine.experiments import make_config
    from colorize_tools.train_all import train_all

    monkeypatch.setenv("COLORIZE_CHECKPOINT_DIR", str(tmp_path / "checkpoints"))
    bad = make_config("baseline", "smoke", f"folder:{tmp_path / 'no-such-folder'}", epochs=1)
    good = make_config("baseline", "smoke", epochs=1)
    jobs = [Job(name, c, 1.0, tmp_path / f"{name}.log") for name, c in (("bad", bad), ("good", good))]
    said = []
    failed = train_all(jobs, workers=2, gpus=0, say=said.append)
    assert [j.label for j in failed] == ["bad"]
    assert any(line.startswith("FAILED bad (exit 1)") and str(tmp_path / "bad.log") in line for line in said), said
    assert "no-such-folder does not exist" in (tmp_path / "bad.log").read_text()
    assert any(line.startswith("done  good") for line in said) and (run_dir_for(good) / "selected.pt").exists()
