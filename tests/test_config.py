import json

import pytest

from colorize_lib.config import EXPERIMENTS, PROFILES, ExperimentConfig, make_config


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


@pytest.mark.parametrize("override, message", [
    (dict(alpha=1.5), "'alpha' = 1.5"), (dict(resolution=100), "'resolution' = 100"),
    (dict(epochs="3"), "'epochs' must be int"), (dict(batch_size=True), "'batch_size' must be int"),
    (dict(profile="gpu"), "'profile'"), (dict(device="tpu"), "'device'"),
])
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
