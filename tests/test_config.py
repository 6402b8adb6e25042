import json

import pytest
import torch

from colorize_lib.engine.config import (
    ALPHAS,
    BIN_SIZES,
    EXPERIMENTS,
    PROFILES,
    ExperimentConfig,
    field_classifier_config,
    make_config,
    notebook_of,
    study_configs,
)
from colorize_lib.reference import PAPER_TRAIN_IMAGES


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_profile_builds_every_experiment(profile, experiment):
    cfg = make_config(experiment, profile)
    assert cfg.profile == profile and cfg.name == experiment


def test_paper_profile_is_the_papers_settings():
    b, u, lab, cl = (make_config(e, "paper") for e in ("baseline", "unet_rgb", "unet_lab", "unet_classif"))
    assert (b.resolution, b.batch_size, b.epochs, b.alpha, b.lr) == (96, 512, 20, 0.7, 1e-4)
    assert (u.resolution, u.batch_size, u.epochs, u.alpha) == (96, 512, 20, 0.7)
    assert (lab.resolution, lab.batch_size, lab.epochs, lab.alpha) == (512, 16, 15, 0.5)
    assert (cl.resolution, cl.batch_size, cl.epochs, cl.bin_size, cl.loss) == (512, 16, 20, 10, "weighted_ce")


def test_save_load_round_trip(tmp_path):
    cfg = make_config("unet_lab", "smoke", alpha=1)
    assert isinstance(cfg.alpha, float)
    path = cfg.save(tmp_path / "c.json")
    assert ExperimentConfig.load(path) == cfg
    assert json.loads(path.read_text())["model"] == "unet_lab"


@pytest.mark.parametrize(
    "override, message",
    [
        (dict(alpha=1.5), "'alpha' = 1.5"),
        (dict(resolution=100), "'resolution' = 100"),
        (dict(epochs="3"), "'epochs' must be int"),
        (dict(batch_size=True), "'batch_size' must be int"),
        (dict(profile="gpu"), "'profile'"),
        (dict(device="tpu"), "'device'"),
        (dict(levels=7), "'levels' = 7 is invalid: expected 0 .the model's own., or 2 to 6"),
        (dict(levels=6, resolution=48), "'resolution' = 48 is invalid: expected a multiple of 32"),
    ],
)
def test_bad_parameters_name_themselves(override, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make_config("unet_rgb", "smoke", **override)


def test_unknown_keys_and_bad_files(tmp_path):
    with pytest.raises(ValueError, match="unknown config parameters \\['colour'\\]"):
        ExperimentConfig.from_dict(dict(make_config("unet_rgb", "smoke").to_dict(), colour=1))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="bad.json"):
        ExperimentConfig.load(bad)
    with pytest.raises(FileNotFoundError, match="missing.json"):
        ExperimentConfig.load(tmp_path / "missing.json")


def test_rehearsal_has_the_papers_shapes_with_two_steps_and_a_few_test_photos():
    for experiment in EXPERIMENTS:
        paper, rehearsal = make_config(experiment, "paper"), make_config(experiment, "rehearsal")
        for field in ("model", "resolution", "image_size", "width", "batch_size", "bin_size", "amp", "lr", "loss"):
            assert getattr(rehearsal, field) == getattr(paper, field), (experiment, field)
        assert rehearsal.epochs == 1 and rehearsal.samples_per_epoch == 2 * paper.batch_size
        assert rehearsal.upscale_small and 0 < rehearsal.max_test_images <= 4


def test_identity_leaves_out_labels_only():
    config = make_config("bin_ablation", "smoke", name="bin_ablation-b10")
    assert config.identity() == make_config("unet_classif", "smoke").identity()
    assert config.identity() != make_config("unet_classif", "smoke", seed=1).identity()
    assert "name" not in config.identity() and "profile" not in config.identity()


def test_study_counts_each_distinct_experiment_once():
    names = [c.name for c in study_configs("smoke")]
    # alpha 0.7 is 03's U-Net RGB and b = 10 is 05's classifier in the smoke and paper profiles.
    # + 2 budget arms x 2 models: the third arm of each model is its Table 1 run (smoke: lr 1e-3).
    # + notebook 05's field classifier (in-gamut bins, soft targets, smoothed prior).
    assert len(names) == 15 and "alpha_ablation-a0.7" not in names and "bin_ablation-b10" not in names
    assert names[-1] == "unet_classif-field"
    assert sum(not n.startswith("budget-") for n in names) == 11  # 12 table rows + the field run, 11 runs
    # paper: the stated arm is Table 1's run (20 epochs of 5,882 images, batch 512, lr 1e-4): 15 distinct
    # configs, and every one a verdict compares (all but b = 5, 15 and the field run) trains three seeds.
    paper = study_configs("paper")
    assert len(study_configs("paper", seeds=1)) == 15 and len(paper) == 12 * 3 + 3
    assert "budget-baseline-stated" not in [c.name for c in paper]
    assert sorted(c.seed for c in paper if c.name == "alpha_ablation-a0.5") == [0, 1, 2]
    assert [c.seed for c in paper if c.name == "bin_ablation-b5"] == [0]
    # cpu: the ablations and arms are their own runs; Table 1's models and the five α train three seeds, the
    # budget arms one (their three would add about 18 minutes on 2 cores).
    assert len(study_configs("cpu")) == 4 * 3 + 5 * 3 + 3 + 6 + 1
    assert len(study_configs("smoke", seeds=3)) == 12 * 3 + 3  # SEEDS=3 on any profile


def test_notebook_ablation_defaults_are_the_configs():
    import papermill

    from colorize_lib.paths import NOTEBOOKS_DIR

    alphas = papermill.inspect_notebook(str(NOTEBOOKS_DIR / "06_alpha_ablation.ipynb"))["alphas"]["default"]
    bins = papermill.inspect_notebook(str(NOTEBOOKS_DIR / "07_bin_ablation.ipynb"))["bin_sizes"]["default"]
    assert tuple(eval(alphas)) == ALPHAS and tuple(eval(bins)) == BIN_SIZES


def test_levels_belong_to_the_unets_and_are_part_of_the_identity():
    with pytest.raises(ValueError, match="'levels' = 5 .*the baseline has no levels setting"):
        make_config("baseline", "smoke", levels=5)
    assert make_config("unet_rgb", "paper").identity()["levels"] == 0  # 0: the paper's depth
    assert make_config("unet_rgb", "authors").identity()["levels"] == 5


@pytest.mark.parametrize("profile", ["paper", "cpu", "authors"])
def test_stated_budget_arm_is_exactly_the_papers_240_steps(profile):
    from colorize_lib.data.crops import CropSampler
    from colorize_lib.engine.config import budget_configs
    from colorize_lib.reference import PAPER_STEPS

    arms = budget_configs(profile)
    assert {c.model for _, c in arms} == {"baseline", "unet_rgb"}
    for arm, c in arms:
        steps = c.epochs * CropSampler(torch.zeros(1, 3, 8, 8), 8, 1.0, c.samples_per_epoch, 0).steps(c.batch_size)
        if arm == "stated (paper)":
            assert steps == PAPER_STEPS and c.lr == 1e-4
        elif arm == "long":
            assert steps > PAPER_STEPS and c.lr == 1e-4
    paper = dict((c.name, c) for _, c in budget_configs("paper"))
    stated = paper["budget-unet_rgb-stated"]
    assert (stated.batch_size, stated.epochs, stated.samples_per_epoch, stated.resolution) == (
        512,
        20,
        PAPER_TRAIN_IMAGES,
        96,
    )


# Run folders are keyed by the hash of the identity (every setting but the labels, and the precision): a
# change that moves these names retrains every run, so it must be made on purpose.
KNOWN_RUN_DIRS = {
    "smoke": "unet_classif-44a1c98872",
    "cpu": "unet_classif-d150cd8729",
    "paper": "unet_classif-0ed4008c5f",
}


@pytest.mark.parametrize("profile", sorted(KNOWN_RUN_DIRS))
def test_paper_classifier_keeps_its_run_folder(profile, tmp_path):
    from colorize_lib.engine.checkpoint import run_dir_for

    config = make_config("unet_classif", profile)
    assert run_dir_for(config, tmp_path, numerics="float32").name == KNOWN_RUN_DIRS[profile]
    bf16 = run_dir_for(config, tmp_path, numerics="bf16").name  # another run: the precision is identity
    assert bf16.startswith("unet_classif-") and bf16 != KNOWN_RUN_DIRS[profile]


def test_the_fields_classifier_differs_from_the_papers_by_its_bins_targets_and_prior_only():
    paper = make_config("unet_classif", "cpu")
    assert paper.identity()["bins"] == "full" and paper.identity()["targets"] == "hard"
    field = field_classifier_config("cpu")
    assert field.identity() == dict(paper.identity(), bins="in_gamut", targets="soft", prior_sigma=5.0)
    assert field.name == "unet_classif-field" and notebook_of(field.name) == "05_classification"
    assert make_config("unet_classif", "cpu", soft_sigma=3.0).identity()["soft_sigma"] == 3.0


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("bins", "gamut", "one of"),
        ("targets", "fuzzy", "one of"),
        ("prior_sigma", -1.0, ">= 0"),
        ("soft_neighbours", 0, r"in \[1, 25\]"),
        ("soft_sigma", 0.0, "> 0"),
    ],
)
def test_field_settings_are_checked(key, value, message):
    with pytest.raises(ValueError, match=f"'{key}' = .*{message}"):
        make_config("unet_classif", "smoke", **{key: value})


def test_field_settings_belong_to_the_classifier():
    with pytest.raises(ValueError, match="'unet_classif' for the classifier settings"):
        make_config("unet_lab", "smoke", targets="soft")
