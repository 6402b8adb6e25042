"""How fast the data path is, against what it is compared with (prints figures; not a test).

1. Cache build (validate + resize + hash + split, all cores) against a bare loop of PIL open +
   square resize over the same files, in images/s.
2. Samples/s that `CropSampler` delivers from the cached set against the samples/s that training
   the baseline model at 96² (batch 32, forward + backward + Adam, CPU) consumes.

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
from colorize_lib.data.crops import CropSampler, to_float
from colorize_lib.data.sources import SourceFiles
from colorize_lib.data.sources.bundled import BUNDLED_PHOTOS
from colorize_lib.data.sources.folder import folder_files
from colorize_lib.data.sources.paper import paper_files
from colorize_lib.data.validate import square_resize
from colorize_lib.model.models import get_model

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
        files.groups = [files.groups[i] for i in keep]
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


def loader_rate(images: torch.Tensor, n_batches: int = 40) -> float:
    sampler = CropSampler(images, RESOLUTION, crop_scale=0.35, samples_per_epoch=n_batches * BATCH, seed=0)
    start = time.perf_counter()
    n = sum(len(batch) for batch in sampler.epoch(0, BATCH))
    return n / (time.perf_counter() - start)


def training_rate(images: torch.Tensor, steps: int = 4) -> float:
    """Samples/s of baseline training at 96² on CPU: gray in, RGB out, MSE, Adam."""
    torch.manual_seed(0)
    model = get_model("baseline")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    batch = to_float(images[:BATCH].repeat(BATCH // len(images[:BATCH]) + 1, 1, 1, 1)[:BATCH])
    batch = torch.nn.functional.interpolate(batch, size=RESOLUTION, mode="area")
    gray = batch.mean(dim=1, keepdim=True)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.mse_loss(model(gray), batch)
        loss.backward()
        optimizer.step()

    step()  # warm-up: first-call allocations
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * BATCH / (time.perf_counter() - start)


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
        loader = loader_rate(data.train)
        train = training_rate(data.train)
        print(f"CropSampler at {RESOLUTION}², batch {BATCH}: {loader:.0f} samples/s")
        print(f"baseline training at {RESOLUTION}², batch {BATCH} (CPU): {train:.1f} samples/s")
        print(f"cache build vs bare PIL: {build / bare:.2f}")
        print(f"loader vs training demand: {loader / train:.1f}")


if __name__ == "__main__":
    main()
