"""How fast the data path is, against what it is compared with (prints figures; not a test).

1. Cache build (validate + resize + hash + split, all cores) against a bare loop of PIL open +
   square resize over the same files, in images/s.
2. Samples/s that `CropSampler` delivers from the cached set against the samples/s that training
   consumes at its fastest: the cpu profile's baseline (64² crops, batch 32, width 32), the
   library's whole step (`train.train_step`) in the precision and layout it takes on this CPU
   (bf16 where the CPU computes it, `engine.device`).

Files: the authors' images when `data/raw/paper/dataset` exists (a subset), else scikit-image's
bundled photos, each saved in several varied copies (flips, crops, colour gains) as JPEG q95.

Run: python bench/data_throughput.py   (about 1-2 minutes on 2 cores)
"""

import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from colorize_lib import paths
from colorize_lib.data.cache import load_cached
from colorize_lib.data.crops import CropSampler
from colorize_lib.data.sources import SourceFiles
from colorize_lib.data.sources.bundled import BUNDLED_PHOTOS
from colorize_lib.data.sources.folder import folder_files
from colorize_lib.data.sources.paper import paper_files
from colorize_lib.data.validate import square_resize
from colorize_lib.engine.config import ExperimentConfig, make_config
from colorize_lib.engine.device import autocast, memory_format, precision
from colorize_lib.engine.train import build, train_step

IMAGE_SIZE = 256  # the cpu profile's cached side
RESOLUTION, BATCH = 96, 32  # the paper's baseline training resolution; a CPU batch
PAPER_SUBSET = 240


def varied_bundled_copies(folder: Path) -> SourceFiles:
    """Each bundled photo in 6 variants: as is, mirrored, cropped, two colour gains, rotated 180°."""
    import skimage.data

    for file in BUNDLED_PHOTOS:
        image = Image.open(Path(skimage.data.data_dir) / file).convert("RGB")
        w, h = image.size
        variants = {
            "orig": image,
            "mirror": ImageOps.mirror(image),
            "crop": image.crop((w // 10, h // 10, w, h)),
            "warm": Image.fromarray(np.clip(np.asarray(image) * [1.08, 1.0, 0.92], 0, 255).astype(np.uint8)),
            "cool": Image.fromarray(np.clip(np.asarray(image) * [0.92, 1.0, 1.08], 0, 255).astype(np.uint8)),
            "turn": image.rotate(180),
        }
        for tag, variant in variants.items():
            variant.save(folder / f"{Path(file).stem}_{tag}.jpg", quality=95)
    return folder_files(folder)


def bench_files(tmp: Path) -> SourceFiles:
    dataset = paths.RAW_DIR / "paper" / "dataset"
    if (dataset / "train").is_dir():
        files = paper_files(dataset)
        step = max(1, len(files.paths) // PAPER_SUBSET)
        keep = list(range(0, len(files.paths), step))[:PAPER_SUBSET]
        files.paths = [files.paths[i] for i in keep]
        files.names = [files.names[i] for i in keep]
        files.splits = [files.splits[i] for i in keep]
        files.slug = "paper-bench"
        return files
    folder = tmp / "photos"
    folder.mkdir()
    return varied_bundled_copies(folder)


def bare_pil_rate(files: SourceFiles) -> float:
    start = time.perf_counter()
    for path in files.paths:
        with Image.open(path) as image:
            square_resize(image, IMAGE_SIZE)
    return len(files.paths) / (time.perf_counter() - start)


def loader_rate(images: torch.Tensor, resolution: int, n_batches: int = 40) -> float:
    sampler = CropSampler(images, resolution, crop_scale=0.35, samples_per_epoch=n_batches * BATCH, seed=0)
    start = time.perf_counter()
    n = sum(len(batch) for batch in sampler.epoch(0, BATCH))
    return n / (time.perf_counter() - start)


def training_rate(images: torch.Tensor, steps: int = 6) -> tuple[float, ExperimentConfig, str]:
    """Samples/s of the cpu profile's baseline training step, in the precision the library takes here."""
    config = make_config("baseline", "cpu")
    cpu = torch.device("cpu")
    numerics = precision(cpu, config.amp)
    layout = memory_format(cpu, numerics, config.width)
    model, task = build(config)
    model = model.to(memory_format=layout)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    batch = next(iter(CropSampler(images, config.resolution, config.crop_scale, BATCH, seed=0).epoch(1, BATCH)))

    def step() -> None:
        train_step(model, task, optimizer, batch, lambda: autocast(cpu, numerics), layout)

    step()  # warm-up: first-call allocations
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * BATCH / (time.perf_counter() - start), config, numerics


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = bench_files(tmp)
        n = len(files.paths)
        print(
            f"files: {n} from {files.source} ({files.root}), image_size {IMAGE_SIZE}, torch threads "
            f"{torch.get_num_threads()}"
        )
        bare = bare_pil_rate(files)
        start = time.perf_counter()
        data = load_cached(files, IMAGE_SIZE, cache_root=tmp / "cache")
        build = n / (time.perf_counter() - start)
        start = time.perf_counter()
        data = load_cached(files, IMAGE_SIZE, cache_root=tmp / "cache")
        reload_s = time.perf_counter() - start
        print(f"kept {len(data.train_names)} train + {len(data.test_names)} test, skipped {len(data.skipped)}")
        print(f"bare PIL open + resize: {bare:.1f} images/s")
        print(f"cache build (validate, resize, hash, split; all cores): {build:.1f} images/s")
        print(f"cache reload: {reload_s:.3f} s")
        train, config, numerics = training_rate(data.train)
        loader = loader_rate(data.train, config.resolution)
        print(f"CropSampler at {RESOLUTION}², batch {BATCH}: {loader_rate(data.train, RESOLUTION):.0f} samples/s")
        print(f"CropSampler at {config.resolution}², batch {BATCH}: {loader:.0f} samples/s")
        print(
            f"training the cpu profile's baseline (w {config.width}, {config.resolution}², batch {BATCH}, "
            f"{numerics}): {train:.1f} samples/s"
        )
        print(f"cache build vs bare PIL: {build / bare:.2f}")
        print(f"loader vs training demand: {loader / train:.1f}")


if __name__ == "__main__":
    main()
