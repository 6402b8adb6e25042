"""Check every image file before anything trains: decode fully, normalise to 8-bit RGB, reject what
cannot be used, and say why.

A rejected file gets a reason that starts with a short stable code ("zero-bytes", "truncated",
"not-an-image", "unreadable", "too-large", "too-small", "colourless", "duplicate"), then details in
parentheses, e.g. "too-small (300x200 < 512)". `reason_code` recovers the code. (`cache` adds one more,
"near-duplicate", for a training photo of a source's own split that shares a group with a test photo.)

Only "too-small" depends on the target `image_size`; every other check, the duplicate test and the
near-duplicate grouping do not, so a split built from them is the same at every resolution.

Near-duplicates (`near_duplicate_groups`) are photos a person would call one scene. Two tests join them:
a difference hash (a copy, a resize, a recompression, a small change of colour), and a correlation of
small gradient thumbnails over a few windows of each photo (a crop, or a stereo pair whose views are a
few per cent apart, which the hash misses: scikit-image's motorcycle_left/right differ in 11 of 64 bits,
more than the unrelated retina/rocket do). Measured on the nine bundled photos, the 23 development photos
of `../shared/tools/dev-photos.sh` and their crops and resizes: see `NEAR_DUPLICATE_CORRELATION`.
"""

import hashlib
import io
import os
import struct
import warnings
import zlib
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
MIN_SATURATION = 20.0  # mean HSV saturation on 0-255 below which a photo counts as colourless (paper)
MAX_PIXELS = 89_478_485  # Pillow's default decompression-bomb limit (about 0.25 GB of RGB)
NEAR_DUPLICATE_BITS = 6  # difference hashes at most this many bits apart (of 64) form one group
# Scene test: a photo's central 80% is compared with windows of the other photo's centre square (side L),
# each given as (window side / L, x offset / L, y offset / L). Centred windows of 100% to 60% find a centre
# crop down to about 70% (or the original of one); the central 80% shifted by a tenth of L in each
# direction finds a stereo pair whose parallax is about a tenth of L (the motorcycle pair). Not found: an
# 80% crop taken from a corner (2 of the 23 development photos), or the quarters of a stereo pair, whose
# parallax is a quarter of their side. More windows would find them at a proportional cost.
SCENE_WINDOWS = ((0.8, 0.0, 0.0), (1.0, 0.0, 0.0), (0.9, 0.0, 0.0), (0.7, 0.0, 0.0), (0.6, 0.0, 0.0)) + tuple(
    (0.8, dx, dy) for dx in (-0.1, 0.0, 0.1) for dy in (-0.1, 0.0, 0.1) if dx or dy
)
SCENE_SIDE = 12  # each window becomes a SCENE_SIDE x SCENE_SIDE gray thumbnail; its gradients are compared
# Cosine of the mean-free gradient thumbnails at or above which two photos form one group. Measured (see
# the module docstring): the motorcycle stereo pair 0.83; centre crops of 90, 80, 75 and 70% and resizes
# to a half and a quarter at least 0.77 (each against its original); the closest unrelated pair 0.38
# (0.31 among the bundled photos). Scoring every pair is one matrix product per block: 5 s for 6,919
# photos, 21 s for 13,000 on 2 cores.
NEAR_DUPLICATE_CORRELATION = 0.6
_SCENE_WORK_SIDE = 96  # photos are shrunk to this short side first: windows of 60% still average 4x4 pixels
_SCENE_BLOCK = 1 << 24  # scores computed per block of at most this many (64 MB of float32)

# What Pillow raises for damaged files: besides OSError, some plugins raise SyntaxError, ValueError,
# EOFError, struct.error or zlib.error from inside `load()`.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error)
_SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")


class ImageRejected(Exception):
    """A file that is not a usable photo; `reason` is a code plus details, e.g. 'truncated (...)'."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class FileCheck:
    """What validation learned about one file. `reason` is "" for a usable photo; `too_small` is kept
    apart from it because it alone depends on the target size."""

    name: str
    path: str
    sha256: str  # of the file's bytes
    n_bytes: int
    mtime_ns: int
    width: int = 0  # after EXIF orientation
    height: int = 0
    saturation: float = float("nan")
    pixel_hash: str = ""  # sha256 of the decoded RGB pixels: equal for exact duplicates
    dhash: int = 0  # 64-bit difference hash of the 9x8 grayscale thumbnail
    scene: np.ndarray | None = None  # (len(SCENE_WINDOWS), D) float32 gradient thumbnails, see `scene_features`
    reason: str = ""
    too_small: str = ""
    array: np.ndarray | None = None  # (S, S, 3) uint8 when usable at the target size

    @property
    def final_reason(self) -> str:
        return self.reason or self.too_small


def reason_code(reason: str) -> str:
    """The stable code at the start of a skip reason: 'too-small (300x200 < 512)' -> 'too-small'."""
    return reason.split(" (", 1)[0].split(" ", 1)[0]


def list_images(folder: str | Path) -> list[Path]:
    """Image files under `folder`, recursively, by extension (case-insensitive), sorted by relative
    path. Hidden files and folders (name starting with '.') are left out: they hold version-control
    data and half-written temporary files."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder {folder} does not exist or is not a directory")
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [Path(root) / f for f in files if not f.startswith(".") and f.lower().endswith(IMAGE_EXTENSIONS)]
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def saturation(rgb: np.ndarray) -> float:
    """Mean HSV saturation of an (H, W, 3) uint8 image on the 0-255 scale, S = floor(255 (max-min)/max):
    exactly Pillow's `convert('HSV')`, which the authors' filter used, in a quarter of the time."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    high = np.maximum(np.maximum(r, g), b)
    low = np.minimum(np.minimum(r, g), b)
    s = (high - low).astype(np.uint16) * 255 // np.maximum(high, 1)  # 255 * 255 fits in uint16
    return float(s.mean())


def decode_rgb(file: str | Path | BinaryIO, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode an image completely into (H, W, 3) uint8 RGB, upright per its EXIF orientation.

    CMYK and palette images are converted, 16-bit samples scaled to 8 bits, transparency composited
    on white. Raises `ImageRejected` for anything that is not a whole, decodable image of at most
    `max_pixels` pixels.
    """
    return np.asarray(_decode(file, max_pixels), dtype=np.uint8)


def _decode(file: str | Path | BinaryIO, max_pixels: int) -> Image.Image:
    try:
        with warnings.catch_warnings():
            # The size is checked against max_pixels below, so Pillow's own warning is redundant.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(file) as image:
                w, h = image.size
                if w * h > max_pixels:
                    raise ImageRejected(f"too-large ({w}x{h} > {max_pixels} pixels)")
                image.load()
                ImageOps.exif_transpose(image, in_place=True)
                return _to_rgb(image)
    except Image.DecompressionBombError as e:
        raise ImageRejected(f"too-large ({e})") from None
    except UnidentifiedImageError:
        raise ImageRejected("not-an-image (no image format recognised)") from None
    except EOFError as e:
        raise ImageRejected(f"truncated ({e or 'unexpected end of file'})") from None
    except _DECODE_ERRORS as e:
        code = "truncated" if "truncated" in str(e).lower() else "unreadable"
        raise ImageRejected(f"{code} ({type(e).__name__}: {e})") from None


def _to_rgb(image: Image.Image) -> Image.Image:
    mode = image.mode
    if mode in _SIXTEEN_BIT_MODES:
        # 16-bit gray (Pillow keeps it as I;16 or I): map 0..65535 linearly onto 0..255.
        # 16-bit RGB PNG/TIFF already arrive as 8-bit RGB: Pillow keeps each sample's high byte.
        a = np.clip(np.asarray(image, dtype=np.float64), 0, 65535)
        image = Image.fromarray(np.round(a / 257.0).astype(np.uint8), "L")
    elif mode == "F":
        raise ImageRejected("unreadable (32-bit float samples are not supported)")
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if has_alpha:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    return image.convert("RGB")


def scene_features(image: Image.Image) -> np.ndarray:
    """(len(SCENE_WINDOWS), 2 * SCENE_SIDE * (SCENE_SIDE - 1)) float32: per window of `SCENE_WINDOWS`, the
    horizontal and vertical differences of its SCENE_SIDE-pixel gray thumbnail, each made mean-free (so a
    smooth sky or a brightness ramp carries no weight), then scaled to unit length. A flat window gives
    zeros, which correlate with nothing."""
    gray = image.convert("F")  # float: a low-contrast thumbnail keeps its small differences
    w, h = gray.size
    side = min(w, h)
    if side > _SCENE_WORK_SIDE:
        f = _SCENE_WORK_SIDE / side
        gray = gray.resize((max(1, round(w * f)), max(1, round(h * f))), Image.Resampling.BOX)
        w, h = gray.size
        side = min(w, h)
    n = SCENE_SIDE
    out = np.zeros((len(SCENE_WINDOWS), 2 * n * (n - 1)), np.float32)
    for k, (scale, dx, dy) in enumerate(SCENE_WINDOWS):
        s = scale * side
        # Clipped to the photo: a window at its edge would otherwise lie a rounding error outside.
        left = min(max((w - s) / 2 + dx * side, 0.0), w - s)
        top = min(max((h - s) / 2 + dy * side, 0.0), h - s)
        a = np.asarray(gray.resize((n, n), Image.Resampling.BOX, box=(left, top, left + s, top + s)), np.float64)
        gx, gy = np.diff(a, axis=1), np.diff(a, axis=0)
        v = np.concatenate([(gx - gx.mean()).ravel(), (gy - gy.mean()).ravel()])
        norm = np.linalg.norm(v)
        if norm > 1e-6:
            out[k] = v / norm
    return out


def _dhash(image: Image.Image) -> int:
    """64-bit difference hash: is each pixel of a 9x8 grayscale thumbnail brighter than its left
    neighbour. Survives resizing, recompression and small colour changes."""
    gray = image.convert("L").resize((9, 8), Image.Resampling.BILINEAR)
    a = np.asarray(gray, dtype=np.int16)
    bits = (a[:, 1:] > a[:, :-1]).ravel()
    return int.from_bytes(np.packbits(bits).tobytes(), "big")


def check_file(
    path: str | Path,
    name: str,
    image_size: int,
    min_saturation: float = MIN_SATURATION,
    max_pixels: int = MAX_PIXELS,
    upscale_small: bool = False,
) -> FileCheck:
    """Validate one file and, if usable, square-resize it to `image_size` (see `square_resize`).
    A photo smaller than `image_size` is skipped as too-small, or upscaled (Lanczos) with `upscale_small`,
    as the authors' collection did for small Pexels photos."""
    path = Path(path)
    try:
        stat = path.stat()
        data = path.read_bytes()
    except OSError as e:  # permissions, a file removed meanwhile, a broken link
        return FileCheck(name, str(path), "", 0, 0, reason=f"unreadable ({type(e).__name__}: {e.strerror})")
    check = FileCheck(name, str(path), hashlib.sha256(data).hexdigest(), len(data), stat.st_mtime_ns)
    if not data:
        check.reason = "zero-bytes"
        return check
    try:
        image = _decode(io.BytesIO(data), max_pixels)
    except ImageRejected as e:
        check.reason = e.reason
        return check
    rgb = np.asarray(image)
    check.height, check.width = rgb.shape[:2]
    check.saturation = saturation(rgb)
    if check.saturation < min_saturation:
        check.reason = f"colourless (saturation {check.saturation:.1f} < {min_saturation:g})"
        return check
    check.pixel_hash = hashlib.sha256(repr(rgb.shape).encode() + rgb.data).hexdigest()
    check.dhash = _dhash(image)
    check.scene = scene_features(image)
    if min(check.width, check.height) < image_size and not upscale_small:
        check.too_small = f"too-small ({check.width}x{check.height} < {image_size})"
        return check
    check.array = square_resize(image, image_size)
    return check


def _check_job(job: tuple) -> FileCheck:
    return check_file(*job)


def check_files(
    paths: list[Path],
    names: list[str],
    image_size: int,
    min_saturation: float = MIN_SATURATION,
    max_pixels: int = MAX_PIXELS,
    workers: int | None = None,
    upscale_small: bool = False,
) -> Iterator[FileCheck]:
    """Check files in parallel (one process per core by default); yields `FileCheck`s in input order."""
    jobs = [(p, n, image_size, min_saturation, max_pixels, upscale_small) for p, n in zip(paths, names)]
    workers = min(workers or os.cpu_count() or 1, len(jobs))
    if workers <= 1:
        yield from map(_check_job, jobs)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(_check_job, jobs, chunksize=max(1, len(jobs) // (workers * 8)))


def mark_duplicates(checks: list[FileCheck]) -> None:
    """Keep one of each set of files with identical decoded pixels, the first by name (so the choice
    does not depend on listing order); mark the others skipped."""
    first: dict[str, str] = {}
    for c in sorted(checks, key=lambda c: c.name):
        if c.reason or not c.pixel_hash:
            continue
        if c.pixel_hash in first:
            c.reason = f"duplicate of {first[c.pixel_hash]}"
            c.too_small, c.array = "", None
        else:
            first[c.pixel_hash] = c.name


def near_duplicate_groups(
    names: list[str],
    hashes: list[int],
    max_bits: int = NEAR_DUPLICATE_BITS,
    scenes: list[np.ndarray] | None = None,
    min_correlation: float = NEAR_DUPLICATE_CORRELATION,
) -> list[str]:
    """Group photos of one scene, transitively (union-find): two photos join when their difference hashes
    differ in at most `max_bits` bits, or, given their `scenes` (`scene_features`), when the central view of
    one correlates at least `min_correlation` with a window of the other. Each photo's group is named after
    the first name (sorted) of its group, so the grouping does not depend on the order the photos are
    listed in."""
    n = len(names)
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(i: int, j: int) -> None:
        a, b = root(i), root(j)
        if a != b:
            parent[max(a, b)] = min(a, b)

    h = np.array(hashes, dtype=np.uint64)
    for i in range(n - 1):
        for j in np.flatnonzero(np.bitwise_count(h[i + 1 :] ^ h[i]) <= max_bits) + i + 1:
            join(i, int(j))
    if scenes is not None and n > 1:
        for i, j in scene_pairs(np.stack(scenes), min_correlation):
            join(i, j)
    label: dict[int, str] = {}
    for i in range(n):
        r = root(i)
        label[r] = min(label.get(r, names[i]), names[i])
    return [label[root(i)] for i in range(n)]


def scene_scores(scenes: np.ndarray, rows: slice = slice(None)) -> np.ndarray:
    """(len(rows), N) best correlation of each photo of `rows`'s central view with any window of each
    photo, from `scenes` (N, len(SCENE_WINDOWS), D). Not symmetric: a crop's view lies inside its original,
    not the other way round, so a pair counts when either direction reaches the threshold."""
    n, k, d = scenes.shape
    return (scenes[rows, 0] @ scenes.reshape(n * k, d).T).reshape(-1, n, k).max(axis=2)


def scene_pairs(scenes: np.ndarray, min_correlation: float = NEAR_DUPLICATE_CORRELATION) -> Iterator[tuple[int, int]]:
    """The pairs (i, j), i != j, of photos whose scene scores reach `min_correlation` (either direction)."""
    n, k, _ = scenes.shape
    step = max(1, _SCENE_BLOCK // (n * k))
    for start in range(0, n, step):
        best = scene_scores(scenes, slice(start, start + step))
        for i, j in zip(*np.nonzero(best >= min_correlation)):
            if start + i != j:
                yield start + int(i), int(j)


def square_resize(image: Image.Image, size: int) -> np.ndarray:
    """Centre-crop a PIL image to a square and resize it (Lanczos) to size x size: (size, size, 3) uint8."""
    image = image.convert("RGB")
    w, h = image.size
    s = min(w, h)
    left, top = (w - s) // 2, (h - s) // 2
    image = image.crop((left, top, left + s, top + s)).resize((size, size), Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.uint8)
