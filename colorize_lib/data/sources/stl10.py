"""STL-10 (Coates, Ng and Lee, 2011) through torchvision: the 5,000 `train` and 8,000 `test` photos of
96x96, the split the authors trained and evaluated on in their published notebook. Labels and the
100,000 `unlabeled` images are not used.

`fetch_stl10` downloads the archive with torchvision's own code, which checks its md5. Each `.bin` is
checked against its own md5 before use: torchvision's list of the official files, or, for a copy that
is not torchvision's download (or the tests' stand-in), the sums in `stl10_binary/MD5SUMS`. The images
are extracted once into PNG files, because the shared pipeline (`validate`, `cache`) reads image
files; `png/extracted.json` records the bins they came from, so later runs neither read nor hash them.
Photos are 96x96: an `image_size` above 96 skips them all as too-small unless `upscale_small`.
"""

import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from ... import paths
from ...files import atomic_write_text, replace_folder
from .base import SourceFiles
from .folder import folder_slug

SIDE = 96
IMAGE_BYTES = 3 * SIDE * SIDE  # 27,648: one image, channel-major, each channel column-major
BINARY_FOLDER = "stl10_binary"  # torchvision's STL10.base_folder
BIN_FILES = {"train": "train_X.bin", "test": "test_X.bin"}
MD5SUMS = "MD5SUMS"
TORCHVISION_SUMS = "torchvision's STL-10 checksum list"
_MD5SUMS_LINE = re.compile(r"([0-9a-fA-F]{32}) [ *](.+)")  # md5sum's text and binary forms


def fetch_stl10(root: Path | None = None) -> Path:
    """The folder holding `stl10_binary/` (default `paths.RAW_DIR / 'stl10'`), downloaded first (about
    2.6 GB, with torchvision's md5 check of the archive) unless train_X.bin and test_X.bin are there.
    The archive is kept: after a damaged .bin is deleted, a rerun extracts it again without downloading."""
    root = Path(root or paths.RAW_DIR / "stl10").expanduser()
    if all((root / BINARY_FOLDER / f).is_file() for f in BIN_FILES.values()):
        return root
    from torchvision.datasets import STL10
    from torchvision.datasets.utils import download_and_extract_archive

    root.mkdir(parents=True, exist_ok=True)
    download_and_extract_archive(STL10.url, download_root=root, filename=STL10.filename, md5=STL10.tgz_md5)
    missing = [f for f in BIN_FILES.values() if not (root / BINARY_FOLDER / f).is_file()]
    if missing:
        raise RuntimeError(f"{root / STL10.filename} holds no {BINARY_FOLDER}/{' or '.join(missing)}")
    return root


def expected_md5s(binary: Path) -> tuple[dict[str, str], str]:
    """File name -> md5 for a `stl10_binary` folder, and where the sums came from: its MD5SUMS file when
    it has one, else torchvision's list of the official files."""
    sums_file = Path(binary) / MD5SUMS
    if not sums_file.exists():
        from torchvision.datasets import STL10

        return {name: md5 for name, md5 in STL10.train_list + STL10.test_list}, TORCHVISION_SUMS
    sums = {}
    for n, line in enumerate(sums_file.read_text().splitlines(), 1):
        if not line.strip():
            continue
        match = _MD5SUMS_LINE.fullmatch(line.rstrip())
        if not match:
            raise ValueError(
                f"{sums_file} line {n} is malformed: {line!r}; expected '<32 hex digits>  <file name>' (md5sum format)"
            )
        sums[match[2]] = match[1].lower()
    return sums, str(sums_file)


def file_md5(path: Path, chunk: int = 1 << 20) -> str:
    """The md5 of a file, read in chunks (test_X.bin is 221 MB)."""
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _advice(md5_source: str) -> str:
    if md5_source == TORCHVISION_SUMS:
        return (
            "delete it and run again with data 'stl10' to download it afresh, or, for a copy that is not "
            f"the official file, list its md5 in {BINARY_FOLDER}/{MD5SUMS}"
        )
    return f"copy it again from where it came from ({md5_source} describes the whole file)"


def _check_size(path: Path, md5_source: str) -> int:
    """The number of images in `path`; raises unless its size is a positive multiple of IMAGE_BYTES."""
    size = path.stat().st_size
    n, stray = divmod(size, IMAGE_BYTES)
    if n == 0 or stray:
        raise ValueError(
            f"{path} holds {size:,} bytes: {n} whole images and {stray:,} stray bytes, expected a positive "
            f"multiple of {IMAGE_BYTES:,} (3x{SIDE}x{SIDE}); the file looks truncated: {_advice(md5_source)}"
        )
    return n


def read_images(path: Path, md5: str, md5_source: str = TORCHVISION_SUMS) -> np.ndarray:
    """The images of an STL-10 `.bin` as (N, 96, 96, 3) uint8, upright, after checking its size and that
    its md5 is `md5` (named in errors as coming from `md5_source`)."""
    path = Path(path)
    n = _check_size(path, md5_source)
    actual = file_md5(path)
    if actual != md5.lower():
        raise ValueError(
            f"{path} has md5 {actual}, expected {md5.lower()} (from {md5_source}); "
            f"the file is damaged or not the one listed: {_advice(md5_source)}"
        )
    # Stored as [image, channel, column, row]: the axes swap that gives [image, row, column, channel].
    raw = np.fromfile(path, dtype=np.uint8).reshape(n, 3, SIDE, SIDE)
    return np.ascontiguousarray(raw.transpose(0, 3, 2, 1))


def _bin_record(path: Path, md5: str) -> dict:
    st = path.stat()
    return dict(size=st.st_size, mtime_ns=st.st_mtime_ns, md5=md5)


def _reusable(png: Path, records: dict) -> dict | None:
    """The counts per split of an earlier extraction when it came from exactly these bins, else None."""
    try:
        done = json.loads((png / "extracted.json").read_text())
        if done["bins"] != records:
            return None
        counts = done["counts"]
        if all(len(os.listdir(png / split)) == counts[split] for split in BIN_FILES):
            return counts
    except (OSError, ValueError, KeyError, TypeError):
        pass  # missing, damaged or of another layout: extract again
    return None


def _extract(binary: Path, png: Path, sums: dict[str, str], md5_source: str, records: dict) -> dict:
    for file in BIN_FILES.values():  # sizes of both first: a truncated test file fails before any work
        _check_size(binary / file, md5_source)
    tmp = Path(tempfile.mkdtemp(dir=png.parent, prefix=f".{png.name}.", suffix=".tmp"))
    tmp.chmod(0o755)  # mkdtemp makes it private; the photos are as readable as the bins
    try:
        counts = {}
        for split, file in BIN_FILES.items():
            images = read_images(binary / file, sums[file], md5_source)
            (tmp / split).mkdir()
            for i, image in enumerate(images, 1):
                Image.fromarray(image).save(tmp / split / f"{i:05d}.png", compress_level=1)  # lossless, fast
            counts[split] = len(images)
        atomic_write_text(tmp / "extracted.json", json.dumps(dict(bins=records, counts=counts), indent=2) + "\n")
        replace_folder(tmp, png, "extracted.json")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return counts


def stl10_files(folder: Path, source: str = "stl10") -> SourceFiles:
    """The train and test images of `folder/stl10_binary` as PNG files `folder/png/{train,test}/00001.png`,
    extracted on the first call (the bins checked against their md5) and reused while the bins keep their
    size, mtime and md5. STL-10's own split is kept; photos are grouped like a folder's, and a training
    photo in the group of a test photo is skipped (`cache`)."""
    folder = Path(folder).expanduser()
    binary = folder / BINARY_FOLDER
    missing = [f for f in BIN_FILES.values() if not (binary / f).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{binary} does not hold {' and '.join(missing)}; an STL-10 folder holds "
            f"{BINARY_FOLDER}/{BIN_FILES['train']} and {BINARY_FOLDER}/{BIN_FILES['test']} (torchvision's layout)"
        )
    sums, md5_source = expected_md5s(binary)
    for file in BIN_FILES.values():
        if file not in sums:
            raise ValueError(f"{md5_source} lists no checksum for {file}; expected a line '<md5>  {file}'")
    records = {file: _bin_record(binary / file, sums[file]) for file in BIN_FILES.values()}
    png = folder / "png"
    counts = _reusable(png, records) or _extract(binary, png, sums, md5_source, records)
    names = [f"{split}/{i:05d}.png" for split in BIN_FILES for i in range(1, counts[split] + 1)]
    is_default = folder.resolve() == (paths.RAW_DIR / "stl10").expanduser().resolve()
    return SourceFiles(
        source=source,
        slug="stl10" if is_default else folder_slug(folder, "stl10"),
        root=png,
        paths=[png / name for name in names],
        names=names,
        splits=[name.split("/", 1)[0] for name in names],
    )
