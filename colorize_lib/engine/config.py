"""Experiment configuration: one frozen, validated dataclass, saved as JSON beside the results and
inside every checkpoint. The study's experiments and the profiles' settings are data in `experiments`,
whose `make_config(experiment, profile, data, **overrides)` turns a notebook's parameters into one."""

import dataclasses
import json
import math
from dataclasses import dataclass, fields
from pathlib import Path

from ..files import atomic_write_text
from ..model.models import list_models, model_entry

PROFILE_NAMES = ("smoke", "cpu", "paper", "rehearsal", "authors")
LOSSES = ("mixed", "weighted_ce")
DECODES = ("argmax", "annealed_mean")
BIN_SETS = ("full", "in_gamut")
TARGETS = ("hard", "soft")


@dataclass(frozen=True)
class ExperimentConfig:
    name: str  # a label for people, e.g. "unet_lab" or "alpha_ablation-a0.5"; not part of the run's identity
    model: str  # registry name in colorize_lib.model.models
    profile: str  # smoke | cpu | paper | rehearsal | authors; a label too (see LABELS)
    data: str = (
        "bundled"  # data source: bundled | paper | stl10[:PATH] | folder:PATH | pexels (see colorize_lib.data.sources)
    )
    resolution: int = 96  # training and test side length in pixels
    image_size: int = 512  # side of the cached square photos that crops are taken from
    width: int = 64  # base channel count of the model
    levels: int = 0  # U-Net resolutions (0 = the model's own: 4 for U-Net RGB, 5 for LAB and the classifier)
    epochs: int = 20
    batch_size: int = 512
    lr: float = 1e-4  # Adam
    loss: str = "mixed"  # mixed (alpha*MSE + (1-alpha)*L1) | weighted_ce
    alpha: float = 0.7  # MSE weight of the mixed loss
    bin_size: int = 10  # AB bin size of the classifier
    class_weight_mix: float = 0.5  # lambda of the class rebalancing (0 = plain 1/p over seen bins)
    decode: str = "argmax"  # classifier decoding: argmax (paper) | annealed_mean (Zhang et al.)
    temperature: float = 0.38  # annealed-mean temperature
    # The classifier as Zhang et al. (2016, §2.2) train it; the defaults are the paper's (§3.5).
    bins: str = "full"  # full (paper: every grid bin) | in_gamut (only bins sRGB reaches; Zhang: 313)
    targets: str = "hard"  # hard (paper: the nearest bin) | soft (Gaussian over the nearest bins; Zhang)
    prior_sigma: float = 0.0  # Gaussian smoothing of the bin prior before rebalancing, AB units (Zhang: 5)
    soft_neighbours: int = 5  # bins a soft target spreads over (Zhang: 5)
    soft_sigma: float = 5.0  # width of the soft target's Gaussian, AB units (Zhang: 5)
    samples_per_epoch: int = 0  # training crops per epoch; 0 = one pass over the training photos
    crop_scale: float = 1.0  # smallest random crop side as a fraction of image_size (1 = whole photo)
    test_views: int = 1  # 1 = whole test photo; 5 adds the four corner crops at half size
    test_fraction: float = 0.25  # share of photo groups held out for test (sources without a split)
    # Share of the training side's groups that choose the checkpoint (split.validation_groups: none where
    # the training side has under 10 groups, e.g. the bundled photos, which report the final epoch).
    val_fraction: float = 0.15
    upscale_small: bool = False  # photos smaller than image_size: upscale them (Lanczos) instead of skipping
    max_test_images: int = 0  # evaluate on the first N test photos only; 0 = all (the rehearsal uses a few)
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | mps
    # bf16 autocast where the device computes bf16 natively (CUDA; CPUs with AVX512-BF16, AMX or Arm BF16),
    # float32 elsewhere; False forces float32. What a run got is part of its identity (engine/precision.py).
    amp: bool = True
    compile: bool = False  # torch.compile the model (about 20 s extra on first call)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            kind = f.type.__name__
            ok = isinstance(value, (int, float) if f.type is float else f.type)
            if not ok or (isinstance(value, bool) and f.type is not bool):
                raise TypeError(f"config parameter '{f.name}' must be {kind}, got {type(value).__name__} {value!r}")
            if f.type is float:
                object.__setattr__(self, f.name, float(value))  # 1 and 1.0 save and compare alike
        _check(self.model in list_models(), "model", self.model, f"one of {list_models()}")
        _check(self.profile in PROFILE_NAMES, "profile", self.profile, f"one of {PROFILE_NAMES}")
        _check(self.loss in LOSSES, "loss", self.loss, f"one of {LOSSES}")
        _check(
            (self.loss == "weighted_ce") == (self.model == "unet_classif"),
            "loss",
            self.loss,
            "'weighted_ce' for unet_classif and 'mixed' for the regression models",
        )
        _check(self.decode in DECODES, "decode", self.decode, f"one of {DECODES}")
        _check(
            self.device in ("auto", "cpu", "cuda", "mps") or self.device.startswith("cuda:"),
            "device",
            self.device,
            "auto, cpu, cuda[:N] or mps",
        )
        _check(
            self.resolution >= 16 and self.resolution % 16 == 0,
            "resolution",
            self.resolution,
            "a multiple of 16, at least 16 (the networks halve it four times)",
        )
        _check(self.image_size >= self.resolution, "image_size", self.image_size, f">= resolution ({self.resolution})")
        _check(self.width >= 1, "width", self.width, "a positive channel count")
        _check(
            self.levels == 0 or (self.model != "baseline" and 2 <= self.levels <= 6),
            "levels",
            self.levels,
            "0 (the model's own), or 2 to 6 for a U-Net (the baseline has no levels setting)",
        )
        halvings = max(self.levels - 1, 0)
        _check(
            self.resolution % 2**halvings == 0,
            "resolution",
            self.resolution,
            f"a multiple of {2**halvings} (a {self.levels}-level U-Net halves it {halvings} times)",
        )
        _check(self.epochs >= 1, "epochs", self.epochs, ">= 1")
        _check(self.batch_size >= 1, "batch_size", self.batch_size, ">= 1")
        _check(0 < self.lr < 1, "lr", self.lr, "in (0, 1)")
        _check(0 <= self.alpha <= 1, "alpha", self.alpha, "in [0, 1]")
        _check(1 <= self.bin_size <= 128, "bin_size", self.bin_size, "in [1, 128]")
        _check(0 <= self.class_weight_mix <= 1, "class_weight_mix", self.class_weight_mix, "in [0, 1]")
        _check(self.temperature > 0, "temperature", self.temperature, "> 0")
        _check(self.bins in BIN_SETS, "bins", self.bins, f"one of {BIN_SETS}")
        _check(self.targets in TARGETS, "targets", self.targets, f"one of {TARGETS}")
        _check(self.prior_sigma >= 0, "prior_sigma", self.prior_sigma, ">= 0 (0 = no smoothing)")
        _check(1 <= self.soft_neighbours <= 25, "soft_neighbours", self.soft_neighbours, "in [1, 25]")
        _check(self.soft_sigma > 0, "soft_sigma", self.soft_sigma, "> 0")
        classifier_only = {
            k: getattr(self, k) for k in ("bins", "targets", "prior_sigma") if getattr(self, k) != _default(k)
        }
        _check(
            self.model == "unet_classif" or not classifier_only,
            "model",
            self.model,
            f"'unet_classif' for the classifier settings {classifier_only}",
        )
        _check(self.samples_per_epoch >= 0, "samples_per_epoch", self.samples_per_epoch, ">= 0")
        _check(0 < self.crop_scale <= 1, "crop_scale", self.crop_scale, "in (0, 1]")
        _check(self.test_views in (1, 5), "test_views", self.test_views, "1 or 5")
        _check(0 < self.test_fraction < 1, "test_fraction", self.test_fraction, "in (0, 1)")
        _check(0 <= self.val_fraction < 1, "val_fraction", self.val_fraction, "in [0, 1) (0 = no validation split)")
        _check(self.max_test_images >= 0, "max_test_images", self.max_test_images, ">= 0 (0 = all)")

    @property
    def output_kind(self) -> str:
        return model_entry(self.model).output

    @property
    def adam_steps(self) -> int | None:
        """Optimiser steps of the whole run (None when an epoch is one pass over photos not yet counted)."""
        if not self.samples_per_epoch:
            return None
        return self.epochs * math.ceil(self.samples_per_epoch / self.batch_size)

    def replace(self, **changes) -> "ExperimentConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def identity(self) -> dict:
        """What the run learns from: every setting but the labels and the ones a resumed run may change.
        Two configs with the same identity are the same experiment and share one run."""
        return {
            k: v
            for k, v in self.to_dict().items()
            if k not in LABELS + RESUMABLE and not (k in ADDED_LATER and v == _default(k))
        }

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        atomic_write_text(path, json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")
        return path

    @classmethod
    def from_dict(cls, d: dict) -> "ExperimentConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown config parameters {unknown}; expected a subset of {sorted(known)}")
        return cls(**d)

    @classmethod
    def load(cls, path: str | Path) -> "ExperimentConfig":
        path = Path(path)
        try:
            d = json.loads(path.read_text())
        except FileNotFoundError:
            raise FileNotFoundError(f"config file {path} does not exist") from None
        except json.JSONDecodeError as e:
            raise ValueError(f"config file {path} is not valid JSON: {e}") from None
        if not isinstance(d, dict):
            raise ValueError(f"config file {path} must hold a JSON object, got {type(d).__name__}")
        return cls.from_dict(d)


# Settings that name a run for people: two notebooks asking for the same experiment under different
# names (05's classifier and 07's b = 10) get one run.
LABELS = ("name", "profile")
# Settings that may change between a run and its resumption without changing what is learned.
RESUMABLE = ("device", "compile")
# Settings added after runs were made: at their defaults they are left out of the identity, so a run
# folder (keyed by its hash) made before they existed is still found; any other value is part of it.
ADDED_LATER = ("bins", "targets", "prior_sigma", "soft_neighbours", "soft_sigma", "val_fraction", "levels")


def _default(name: str):
    return ExperimentConfig.__dataclass_fields__[name].default


def _check(ok: bool, name: str, value, expected: str) -> None:
    if not ok:
        raise ValueError(f"config parameter '{name}' = {value!r} is invalid: expected {expected}")
