"""The notebook runner's parts that need no kernel: stream splitting, estimates, the final summary."""

import io
import os
import time

import pandas as pd
import pytest

from colorize_tools import estimate
from colorize_tools.notebook_runner import KernelStream, print_summary, resume_command


def test_kernel_stream_logs_every_line_and_shows_epoch_lines_with_the_notebook_name(capsys):
    log, seen = io.StringIO(), []
    stream = KernelStream("04_unet_lab", log, seen)
    stream.write("cpu (2 cores)\nunet_lab epo")  # a line split across two chunks
    stream.write("ch 1/2  train 0.1\n")
    stream.write("\runet_lab epoch 2/2: 1/4 steps")  # a progress refresh: complete without a newline
    stream.write("\runet_lab epoch 2/2: 4/4 steps")
    stream.write("\runet_lab epoch 2/2: 4/4 steps\n")  # tqdm repeats the last refresh on close
    stream.write("resuming unet_lab from x/last.pt after epoch 1/2\nother\n")
    stream.close()
    assert log.getvalue().splitlines() == [
        "cpu (2 cores)",
        "unet_lab epoch 1/2  train 0.1",
        "unet_lab epoch 2/2: 1/4 steps",
        "unet_lab epoch 2/2: 4/4 steps",
        "resuming unet_lab from x/last.pt after epoch 1/2",
        "other",
    ]
    shown = capsys.readouterr().out.splitlines()
    assert shown == ["04_unet_lab │ " + line for line in log.getvalue().splitlines()[1:5]]
    assert seen == log.getvalue().splitlines()[1:5]


@pytest.fixture
def no_runs(tmp_path, monkeypatch):
    """An empty checkpoint folder: no run has trained yet."""
    monkeypatch.setenv("COLORIZE_CHECKPOINT_DIR", str(tmp_path / "checkpoints"))
    return tmp_path / "checkpoints"


def test_reference_work_follows_images_epochs_and_bins(no_runs):
    smoke = estimate.reference_work("02_baseline_cnn", "smoke", "bundled", 10)
    cpu = estimate.reference_work("02_baseline_cnn", "cpu", "bundled", 10)
    assert 0 < smoke < cpu
    assert estimate.reference_work("01_data", "cpu", "bundled", 10) == 0
    # Every profile fixes the crops per epoch (the paper's: 5,882 images), so the photo count does not matter.
    assert (
        estimate.reference_work("04_unet_lab", "paper", "bundled", 200)
        == estimate.reference_work("04_unet_lab", "paper", "bundled", 100)
        > 0
    )
    # More bins, more work: notebook 07's b = 5 classifier costs more than 05's b = 10 per image.
    assert estimate.reference_work("05_classification", "cpu", "bundled", 10) > cpu
    # The training-budget runs are notebook 06's work too.
    assert estimate.reference_work("06_alpha_ablation", "cpu", "bundled", 10) > 5 * cpu / 3


def write_history(config, epochs: int, ms_per_image: float, train_images: int = 10, when: float | None = None):
    """A run folder of `config` holding `epochs` epochs trained at `ms_per_image`, written at `when`."""
    from colorize_lib.engine.checkpoint import run_dir_for

    folder = run_dir_for(config)
    folder.mkdir(parents=True, exist_ok=True)
    images = config.samples_per_epoch or train_images
    rows = {"epoch": range(1, epochs + 1), "seconds": [images * ms_per_image / 1000] * epochs}
    pd.DataFrame(dict(rows, images_per_s=[1000 / ms_per_image] * epochs)).to_csv(folder / "history.csv", index=False)
    if when is not None:
        os.utime(folder / "history.csv", (when, when))


def test_nothing_measured_on_this_machine_means_measuring_not_a_borrowed_speed(no_runs):
    """Before any run has trained during this make, the time left is unknown: neither the reference CPU's
    speed nor a run another machine trained earlier into the same folder (its history older than the make)
    stands in for this machine's."""
    from colorize_lib.engine.config import make_config

    names = ["02_baseline_cnn", "03_unet_rgb"]
    started = time.time()
    assert estimate.study_work(names, "cpu", "bundled", 10, since=started) == {n: None for n in names}
    assert estimate.expected_seconds(names, {n: None for n in names}, {}) is None
    assert estimate.about(None) == "time left: measuring"
    baseline = make_config("baseline", "cpu")
    write_history(baseline, 1, 0.01, when=started - 3600)  # trained an hour ago, maybe elsewhere
    assert estimate.study_work(names, "cpu", "bundled", 10, since=started) == {n: None for n in names}
    write_history(baseline, 2, 0.01)  # an epoch trained now, here
    work = estimate.study_work(names, "cpu", "bundled", 10, since=started)
    assert all(w is not None and w > 0 for w in work.values())


def test_runs_measured_under_a_seed_and_test_fraction_of_the_users_calibrate_the_time_left(no_runs):
    """`make reproduce SEED=3 TEST_FRACTION=0.45` trains runs whose folders carry that seed and fraction: the
    estimate looks for those runs (it looked for the defaults' and said 'measuring' to the end)."""
    from colorize_lib.engine.config import make_config

    names, started = ["02_baseline_cnn", "03_unet_rgb"], time.time()
    write_history(make_config("baseline", "cpu", seed=3, test_fraction=0.45), 1, 0.01)
    assert estimate.study_work(names, "cpu", "bundled", 10, since=started) == {n: None for n in names}
    work = estimate.study_work(names, "cpu", "bundled", 10, since=started, seed=3, test_fraction=0.45)
    assert all(w is not None and w > 0 for w in work.values())


def test_the_first_trained_epoch_calibrates_every_run_still_to_train(no_runs):
    """One epoch of the first baseline run, measured at a third of the reference speed: that run's 11 epochs
    left and the other seeds' runs take its measured speed; other models take the reference scaled alike."""
    from colorize_lib.engine.config import make_config
    from colorize_lib.engine.device import precision_of

    first = make_config("baseline", "cpu")
    numerics = precision_of(first)
    measured_ms = 3 * estimate.reference_ms(first, numerics)
    write_history(first, 1, measured_ms)
    after = estimate.study_work(["02_baseline_cnn", "03_unet_rgb"], "cpu", "bundled", 10)
    images = first.samples_per_epoch * first.epochs
    assert after["02_baseline_cnn"] == pytest.approx((images * 3 - first.samples_per_epoch) * measured_ms / 1000)
    assert after["03_unet_rgb"] == pytest.approx(
        3 * estimate.reference_work("03_unet_rgb", "cpu", "bundled", 10, numerics)
    )


# A simulated device: each model's speed-up over the reference CPU differs from the others', as a GPU's does
# (small models use it less well), by up to 20% either way.
SHAPE_SPREAD = {"baseline": 1.0, "unet_rgb": 1.2, "unet_lab": 0.9, "unet_classif": 1.1}


@pytest.mark.parametrize("speedup, overhead_s", [(100.0, 12.0), (0.1, 30.0)], ids=["100x faster", "10x slower"])
def test_the_time_left_on_a_simulated_device_is_measured_not_borrowed(no_runs, tmp_path, speedup, overhead_s):
    """The paper profile's eight notebooks on a device `speedup` times the reference CPU's speed (each model
    off by SHAPE_SPREAD), each notebook taking `overhead_s` beyond its training: before the first training
    notebook has trained, the time left is 'measuring'; the first figure is within 3x of the truth, and every
    figure after the first training notebook within 1.5x. The reference speed alone would be 100x off."""
    from colorize_lib.engine.device import precision_of

    names = [
        f"0{k}_{n}"
        for k, n in enumerate(
            [
                "data",
                "baseline_cnn",
                "unet_rgb",
                "unet_lab",
                "classification",
                "alpha_ablation",
                "bin_ablation",
                "summary",
            ],
            start=1,
        )
    ]
    runs = estimate.notebook_runs("paper", "paper")
    numerics = precision_of(next(iter(runs.values()))[0])

    def true_ms(c):
        return estimate.reference_ms(c, numerics) / speedup * SHAPE_SPREAD[c.model]

    def training(name):
        return sum(c.epochs * c.samples_per_epoch * true_ms(c) / 1000 for c in runs.get(name, []))

    started, said, reports = time.time() - 1, [], tmp_path / "reports"
    for k, name in enumerate(names):
        truth = sum(overhead_s + training(n) for n in names[k:])
        recorded = estimate.load_timings(reports).get("sim", {})
        work = estimate.study_work(names, "paper", "paper", 5882, since=started)
        said.append((name, estimate.expected_seconds(names[k:], work, recorded), truth))
        for c in runs.get(name, []):  # the notebook runs: its runs train, its overhead is recorded
            write_history(c, c.epochs, true_ms(c))
        estimate.record_timing(reports, "sim", name, overhead_s + training(name), overhead_s)
    assert [s for _, s, _ in said[:2]] == [None, None]  # 01 and 02 start before anything trained
    first = said[2]
    assert first[1] is not None and 1 / 3 <= first[1] / first[2] <= 3, first
    for name, estimate_s, truth in said[2:]:
        assert 1 / 1.5 <= estimate_s / truth <= 1.5, (name, estimate_s, truth)


def test_overheads_are_recorded_and_added_to_the_training_left():
    work = {"a": 100.0, "b": 200.0, "c": 0.0}
    assert estimate.expected_seconds(["b"], work, {}) == estimate.OVERHEAD_S + 200
    recorded = {"b": {"seconds": 260.0, "overhead": 45.0}}
    # A notebook with no record of its own takes the median of the others' (here b's): this machine's.
    assert estimate.expected_seconds(["b", "c"], work, recorded) == 45 + 200 + 45


def test_timings_survive_a_round_trip_and_a_damaged_file(tmp_path):
    estimate.record_timing(tmp_path, "profile=cpu data=bundled", "02_baseline_cnn", 61.23, 12.34)
    assert estimate.load_timings(tmp_path) == {
        "profile=cpu data=bundled": {"02_baseline_cnn": {"seconds": 61.2, "overhead": 12.3}}
    }
    (tmp_path / estimate.TIMINGS_FILE).write_text("{not json")
    assert estimate.load_timings(tmp_path) == {}


def test_train_images_come_from_notebook_01s_table(tmp_path):
    assert estimate.train_images(tmp_path) == estimate.DEFAULT_TRAIN_IMAGES
    (tmp_path / "tables").mkdir()
    pd.DataFrame({"split": ["train", "test"], "n_images": [37, 9]}).to_csv(tmp_path / "tables" / "01_split.csv")
    assert estimate.train_images(tmp_path) == 37


@pytest.mark.parametrize(
    "seconds, clock, about",
    [
        (5, "0:05", "under a minute left"),
        (372, "6:12", "about 7 min left"),
        (3723, "1:02:03", "about 63 min left"),
        (7200, "2:00:00", "about 2.0 h left"),
    ],
)
def test_durations_read_as_a_person_would_say_them(seconds, clock, about):
    assert estimate.clock(seconds) == clock and estimate.about(seconds) == about


def test_resume_command_names_profile_data_and_a_moved_reports_folder(tmp_path):
    from colorize_lib.paths import PROJECT_ROOT

    assert resume_command("cpu", "bundled", PROJECT_ROOT / "reports") == "make reproduce PROFILE=cpu DATA=bundled"
    cmd = resume_command("smoke", "folder:/my photos", tmp_path)
    assert cmd == f"make reproduce PROFILE=smoke DATA='folder:/my photos' REPORTS={tmp_path}"
    cmd = resume_command("cpu", "folder:/p", PROJECT_ROOT / "reports", seed=1, test_fraction=0.45)
    assert cmd == "make reproduce PROFILE=cpu DATA=folder:/p SEED=1 TEST_FRACTION=0.45"


def test_summary_prints_table1_and_the_index_path(tmp_path, capsys):
    (tmp_path / "tables").mkdir()
    pd.DataFrame(
        {
            "model": ["U-Net LAB", "Gray (a=b=0)"],
            "psnr_db": [22.5, 21.0],
            "gray_psnr_db": [21.0, 21.0],
            "delta_vs_gray_db": [1.5, 0.0],
            "paper_psnr_db": [19.0, None],
        }
    ).to_csv(tmp_path / "tables" / "table1.csv", index=False)
    print_summary(tmp_path)
    out = capsys.readouterr().out
    assert "ours" in out and "Δ vs gray" in out and "paper" in out
    assert any(line.split() == ["U-Net", "LAB", "22.50", "21.00", "+1.50", "19.00"] for line in out.splitlines())
    assert f"reports: {(tmp_path / 'index.html').resolve()}" in out


def test_summary_says_when_nothing_reran(tmp_path, capsys, monkeypatch):
    (tmp_path / "tables").mkdir()
    (tmp_path / "notebooks").mkdir()
    pd.DataFrame({c: [1.0] for c in ("psnr_db", "gray_psnr_db", "delta_vs_gray_db", "paper_psnr_db")}).assign(
        model="m"
    ).to_csv(tmp_path / "tables" / "table1.csv", index=False)
    executed = tmp_path / "notebooks" / "02_baseline_cnn.ipynb"
    executed.write_text("{}")
    monkeypatch.setenv("COLORIZE_RUN_STARTED", str(executed.stat().st_mtime + 10))  # make started after it
    print_summary(tmp_path)
    assert "every notebook was up to date: nothing reran" in capsys.readouterr().out
    monkeypatch.setenv("COLORIZE_RUN_STARTED", str(executed.stat().st_mtime - 10))  # it ran in this make
    print_summary(tmp_path)
    assert "nothing reran" not in capsys.readouterr().out


def test_summary_without_table1_says_which_notebook_writes_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="table1.csv.*08_summary"):
        print_summary(tmp_path)
