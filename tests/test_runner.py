"""The notebook runner's parts that need no kernel: stream splitting, estimates, the final summary."""

import io

import pandas as pd
import pytest

from colorize_tools import estimate
from colorize_tools.runner import KernelStream, print_summary, resume_command


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
    """An empty checkpoint folder: no run has trained yet, every speed is the reference's."""
    monkeypatch.setenv("COLORIZE_CHECKPOINT_DIR", str(tmp_path / "checkpoints"))
    return tmp_path / "checkpoints"


def test_work_follows_images_epochs_and_bins(no_runs):
    smoke = estimate.notebook_work("02_baseline_cnn", "smoke", "bundled", 10)
    cpu = estimate.notebook_work("02_baseline_cnn", "cpu", "bundled", 10)
    assert 0 < smoke < cpu
    assert estimate.notebook_work("01_data", "cpu", "bundled", 10) == 0
    # Every profile fixes the crops per epoch (the paper's: 5,882 images), so the photo count does not matter.
    assert (
        estimate.notebook_work("04_unet_lab", "paper", "bundled", 200)
        == estimate.notebook_work("04_unet_lab", "paper", "bundled", 100)
        > 0
    )
    # More bins, more work: notebook 07's b = 5 classifier costs more than 05's b = 10 per image.
    assert estimate.notebook_work("05_classification", "cpu", "bundled", 10) > cpu
    # The training-budget runs are notebook 06's work too.
    assert estimate.notebook_work("06_alpha_ablation", "cpu", "bundled", 10) > 5 * cpu / 3


def test_the_first_trained_epoch_calibrates_every_run_still_to_train(no_runs):
    """One epoch of the first baseline run, measured at a third of the reference speed: that run's 11 epochs
    left and the other seeds' runs take its measured speed; other models take the reference scaled alike."""
    from colorize_lib.engine.experiments import make_config
    from colorize_lib.engine.train import precision_of, run_dir_for

    before = estimate.study_work(["02_baseline_cnn", "03_unet_rgb"], "cpu", "bundled", 10)
    first = make_config("baseline", "cpu")
    numerics = precision_of(first)
    measured_ms = 3 * estimate.reference_ms(first, numerics)
    folder = run_dir_for(first)
    folder.mkdir(parents=True)
    pd.DataFrame({"epoch": [1], "seconds": [7.0], "images_per_s": [1000 / measured_ms]}).to_csv(
        folder / "history.csv", index=False
    )
    after = estimate.study_work(["02_baseline_cnn", "03_unet_rgb"], "cpu", "bundled", 10)
    images = first.samples_per_epoch * first.epochs
    assert after["02_baseline_cnn"] == pytest.approx((images * 3 - first.samples_per_epoch) * measured_ms / 1000)
    assert after["03_unet_rgb"] == pytest.approx(3 * before["03_unet_rgb"])
    assert estimate.trained_seconds("02_baseline_cnn", "cpu", "bundled") == 7.0


def test_overheads_are_recorded_and_added_to_the_training_left():
    work = {"a": 100.0, "b": 200.0, "c": 0.0}
    assert estimate.expected_seconds(["b"], work, {}) == estimate.OVERHEAD_S + 200
    recorded = {"b": {"seconds": 260.0, "overhead": 45.0}}
    assert estimate.expected_seconds(["b", "c"], work, recorded) == 45 + 200 + estimate.OVERHEAD_S


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
