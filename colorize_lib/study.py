"""The frame of every training notebook (02–07): `start` (config, seed, device, photos), `train` (one run
per training seed) and `finish` (the provenance table that ends the report). Each chapter's own steps are
in its module: `table1` (the four models, 02–05), `classifier` (05's read-outs), `ablation` (06, 07),
`budget` (06's training budget) and `summary` (08).

Every step returns what it made, and the notebook shows it in its own cell; nothing is hidden.
"""

from .data import load_images
from .data.cache import ImageSet
from .engine.config import ExperimentConfig, make_config, training_seeds
from .engine.device import describe_device, describe_precision, pick_device, setup
from .engine.inference import Run
from .engine.train import fit
from .reports import write_run_info


def start(
    experiment: str, profile: str, data: str, seed: int = 0, device: str = "auto", **overrides
) -> tuple[ExperimentConfig, ImageSet]:
    """The profile's config for `experiment` with the notebook's overrides (None keeps the profile's),
    every RNG seeded, the device picked (printed), and the photos it trains and tests on."""
    config = make_config(experiment, profile, data, seed=seed, device=device, **overrides)
    device = setup(config.seed, device=config.device)
    print(f"{describe_device(device)}; {describe_precision(device, config.amp)}")
    return config, load_images(config)


def train(config: ExperimentConfig, images: ImageSet, seeds: list[int] | None = None) -> list[Run]:
    """One run per training seed (`seeds`, or the profile's: three from the config's on the cpu profile, see
    `experiments.training_seeds`); the photo split stays the config's. A run that exists is resumed or
    reloaded, never trained twice."""
    return [fit(config.replace(seed=s), images) for s in training_seeds(config, seeds)]


def finish(notebook: str, config: ExperimentConfig, images: ImageSet, seeds: list[int] | None = None) -> None:
    """The provenance table that ends every report (see reports.write_run_info): seeds as `train` took them."""
    device = pick_device(config.device)
    write_run_info(
        notebook,
        config.profile,
        config.data,
        describe_device(device),
        images=images,
        seeds=training_seeds(config, seeds),
        precision=describe_precision(device, config.amp),
    )
