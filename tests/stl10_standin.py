"""A stand-in for STL-10, for the tests and for offline smoke runs: `stl10_binary/train_X.bin` and
`test_X.bin` in STL-10's exact layout, with an `MD5SUMS` file (the official checksums describe other files).

    python tests/stl10_standin.py /tmp/stl10    # then DATA=stl10:/tmp/stl10
"""

import hashlib
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from colorize_lib.data.sources.bundled import BUNDLED_PHOTOS
from colorize_lib.data.sources.stl10 import BIN_FILES, BINARY_FOLDER, MD5SUMS, SIDE

# Scenes whose crops form the training side; the others (hubble_deep_field, ihc) form the test side.
# Both motorcycle photos (one stereo pair) are on one side.
TRAIN_SCENES = ("motorcycle", "astronaut", "coffee", "chelsea", "rocket", "retina")


def to_bin(images: np.ndarray) -> bytes:
    """(N, 96, 96, 3) uint8 as STL-10 stores them: per image, channel after channel, each column-major."""
    images = np.asarray(images, dtype=np.uint8)
    assert images.ndim == 4 and images.shape[1:] == (SIDE, SIDE, 3), images.shape
    return np.ascontiguousarray(images.transpose(0, 3, 2, 1)).tobytes()  # [image, channel, column, row]


def write_stl10(folder: Path, train_images: np.ndarray, test_images: np.ndarray) -> Path:
    """Write `folder/stl10_binary/{train_X.bin,test_X.bin,MD5SUMS}`; returns `folder`."""
    binary = Path(folder) / BINARY_FOLDER
    binary.mkdir(parents=True, exist_ok=True)
    lines = []
    for file, images in ((BIN_FILES["train"], train_images), (BIN_FILES["test"], test_images)):
        data = to_bin(images)
        (binary / file).write_bytes(data)
        lines.append(f"{hashlib.md5(data).hexdigest()}  {file}\n")
    (binary / MD5SUMS).write_text("".join(lines))
    return Path(folder)


def crops(path: Path) -> list[np.ndarray]:
    """The centre square of a photo and its four quarters, each resized to 96x96 (Lanczos)."""
    with Image.open(path) as image:
        image = image.convert("RGB")
    w, h = image.size
    s = min(w, h)
    left, top = (w - s) // 2, (h - s) // 2
    square = image.crop((left, top, left + s, top + s))
    half = s // 2
    boxes = [(0, 0, s, s)] + [(x, y, x + half, y + half) for y in (0, s - half) for x in (0, s - half)]
    size = (SIDE, SIDE)
    return [np.asarray(square.crop(box).resize(size, Image.Resampling.LANCZOS), dtype=np.uint8) for box in boxes]


def near_gray(image: np.ndarray, keep: float = 0.05) -> np.ndarray:
    """`image` with only `keep` of its colour left (mean HSV saturation far below the colourless limit)."""
    rgb = image.astype(np.float64)
    gray = rgb @ [0.299, 0.587, 0.114]
    return np.clip(np.round(gray[..., None] + keep * (rgb - gray[..., None])), 0, 255).astype(np.uint8)


def standin_images() -> tuple[np.ndarray, np.ndarray]:
    """(train, test) images from scikit-image's bundled colour photos: 35 + 2 train (the last two: a
    near-gray copy of train/00003.png, an exact copy of train/00001.png) and 10 test, all (N, 96, 96, 3)."""
    import skimage.data

    train, test = [], []
    for file in sorted(BUNDLED_PHOTOS):
        side = train if BUNDLED_PHOTOS[file] in TRAIN_SCENES else test
        side += crops(Path(skimage.data.data_dir) / file)
    train += [near_gray(train[2]), train[0].copy()]
    return np.stack(train), np.stack(test)


def standin_from_bundled(folder: Path) -> Path:
    """Write the stand-in of `standin_images` as an STL-10 folder; returns `folder`."""
    return write_stl10(folder, *standin_images())


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: python {sys.argv[0]} FOLDER   (then DATA=stl10:FOLDER)")
    out = standin_from_bundled(Path(sys.argv[1]))
    train, test = (len(np.fromfile(out / BINARY_FOLDER / f, np.uint8)) // (3 * SIDE * SIDE) for f in BIN_FILES.values())
    print(f"wrote {train} train and {test} test images to {out / BINARY_FOLDER}; use DATA=stl10:{out}")
