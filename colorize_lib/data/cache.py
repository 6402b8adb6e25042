"""Validate, resize and split a source once per (source, image_size); later runs load the result.

A cache folder `CACHE_DIR/<source-slug>-<image_size>/` holds
- `images.npy`: every usable photo, (N, 3, S, S) uint8, in manifest order;
- `manifest.csv`: one row per file: file, sha256 of its bytes, size, saturation, photo group,
  split (train/val/test, empty when skipped), skip reason, and source extras (Pexels id, photographer);
- `meta.json`, written last: the fingerprint of the inputs and settings it was built from.

The cache is rebuilt when the file list, a file's size or mtime, or a validation setting changes;
a new seed, test fraction or validation fraction only recomputes the split column. The validation
photos (`val`) are groups of the training side that choose the checkpoint (`split.validation_groups`);
the test side is the same with or without them. A source with a split of its own (`paper`, `stl10`) is
grouped like a folder, and its training photos in the group of a test photo are skipped as
"near-duplicate" (`split.duplicates_of_test`), so no photo group straddles train, validation and test for
any source. A build happens in a temporary folder renamed into place when complete, so an interrupted
build never looks like a cache.
"""

import csv
import dataclasses
import hashlib
import io
import json
import os
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .. import paths
from ..files import atomic_write_text, replace_folder
from .sources import SourceFiles
from .split import duplicates_of_test, split_by_group, validation_groups
from .validate import (
    MAX_PIXELS,
    MIN_SATURATION,
    NEAR_DUPLICATE_BITS,
    NEAR_DUPLICATE_CORRELATION,
    FileCheck,
    check_files,
    mark_duplicates,
    near_duplicate_groups,
    reason_code,
)


@dataclass
class ImageSet:
    """Square uint8 photos (N, 3, S, S) per split, with their names and photo groups. `val` (validation)
    is empty when the source has too few groups to spare some for choosing the checkpoint."""

    source: str
    train: torch.Tensor
    test: torch.Tensor
    train_names: list[str]
    test_names: list[str]
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    cache_dir: Path | None = None  # the cache folder it was loaded from (holds manifest.csv)
    val: torch.Tensor | None = None  # (M, 3, S, S) uint8; None or empty: no validation split
    val_names: list[str] = field(default_factory=list)
    groups: dict[str, str] = field(default_factory=dict)  # photo name -> photo group (the split's unit)

    def __post_init__(self) -> None:
        if self.val is None:
            self.val = self.train[:0]

    def to(self, device: torch.device | str) -> "ImageSet":
        """A copy on `device` (like torch's `.to`, the original is left where it is)."""
        return dataclasses.replace(
            self, train=self.train.to(device), test=self.test.to(device), val=self.val.to(device)
        )

    @property
    def has_validation(self) -> bool:
        return len(self.val_names) > 0

    def group_of(self, name: str) -> str:
        """The photo group of a photo (itself when no group is recorded)."""
        return self.groups.get(name, name)


CACHE_VERSION = 2  # bump when validation, grouping or resizing changes what a cache holds (2: scene test)
BASE_COLUMNS = ["file", "sha256", "bytes", "width", "height", "saturation", "group", "split", "reason"]


def cache_dir_for(
    files: SourceFiles, image_size: int, cache_root: Path | None = None, upscale_small: bool = False
) -> Path:
    """Where the cache of `files` at `image_size` lives (under `paths.CACHE_DIR` by default)."""
    return Path(cache_root or paths.CACHE_DIR) / f"{files.slug}-{image_size}{'-upscaled' if upscale_small else ''}"


def _fingerprint(files: SourceFiles, settings: dict) -> str:
    """Hash of the file list with sizes and mtimes, the source's groups/splits/extras and settings."""
    h = hashlib.sha256(
        json.dumps([CACHE_VERSION, settings, files.groups, files.splits, files.extra], sort_keys=True).encode()
    )
    for name, path in zip(files.names, files.paths):
        try:
            st = path.stat()
        except OSError as e:
            raise FileNotFoundError(
                f"image file {path} of source {files.source!r} cannot be read: {e.strerror}"
            ) from None
        h.update(f"{name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def load_cached(
    files: SourceFiles,
    image_size: int,
    seed: int = 0,
    test_fraction: float = 0.25,
    cache_root: Path | None = None,
    val_fraction: float = 0.0,
    workers: int | None = None,
    min_saturation: float = MIN_SATURATION,
    max_pixels: int = MAX_PIXELS,
    near_duplicate_bits: int = NEAR_DUPLICATE_BITS,
    upscale_small: bool = False,
    near_duplicate_correlation: float = NEAR_DUPLICATE_CORRELATION,
) -> ImageSet:
    """The source's photos as an `ImageSet`, from the cache when it matches, else built (in parallel
    over `workers` processes, default one per core) and cached first. `upscale_small` keeps photos
    smaller than `image_size`, upscaled, instead of skipping them (cached in a folder of its own)."""
    if image_size < 1:
        raise ValueError(f"parameter 'image_size' = {image_size!r} is invalid: expected a positive side length")
    if not files.paths:
        raise ValueError(
            f"no image files under {files.root} (source {files.source!r}); "
            f"expected .jpg/.jpeg/.png/.webp/.bmp/.tif/.tiff files"
        )
    settings = dict(
        image_size=image_size,
        min_saturation=min_saturation,
        max_pixels=max_pixels,
        near_duplicate_bits=near_duplicate_bits,
        near_duplicate_correlation=near_duplicate_correlation,
    )
    if upscale_small:  # only when set, so the fingerprint of existing caches stays the same
        settings["upscale_small"] = True
    split = None if files.splits is not None else dict(seed=seed, test_fraction=test_fraction)
    if val_fraction:  # only when set, so the split of existing caches stays as it was
        split = dict(split or {}, seed=seed, val_fraction=val_fraction)
    fingerprint = _fingerprint(files, settings)
    folder = cache_dir_for(files, image_size, cache_root, upscale_small)
    meta = _read_meta(folder)
    if meta is None or meta.get("fingerprint") != fingerprint:
        _build(files, settings, split, fingerprint, folder, workers)
    elif meta.get("split") != split:
        _resplit(files, folder, meta, split)
    return _load(files.source, folder)


def _read_meta(folder: Path) -> dict | None:
    path = folder / "meta.json"
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        return None  # damaged by hand or disk: rebuilding is the fix


def _assign_splits(files: SourceFiles, rows: list[dict], split: dict | None) -> None:
    """Set each row's split: the source's own, or a seeded split of the photo groups. Groups cover
    every photo that passed the size-independent checks, so the split is the same at every size."""
    eligible = [r for r in rows if r["group"]]
    if files.splits is not None:
        fixed = dict(zip(files.names, files.splits))
        sides = [fixed[r["file"]] for r in eligible]
    else:
        try:
            is_test = split_by_group([r["group"] for r in eligible], split["seed"], split["test_fraction"])
        except ValueError as e:
            raise ValueError(
                f"cannot split the photos of {files.root} (source {files.source!r}) into train and test: {e}"
            ) from None
        sides = ["test" if t else "train" for t in is_test]
    for r in rows:
        r["split"] = ""
    for r, side in zip(eligible, sides):
        r["split"] = "" if r["reason"] else side
    if split and split.get("val_fraction"):
        train = [r["group"] for r in rows if r["split"] == "train"]
        val = validation_groups(train, split["seed"], split["val_fraction"])
        for r in rows:
            if r["split"] == "train" and r["group"] in val:
                r["split"] = "val"


def _skip_duplicates_of_test(files: SourceFiles, rows: list[dict]) -> None:
    """Skip each training photo of the source's own split that shares a group with a test photo. Decided
    on the groups of every photo that passed the size-independent checks (a test photo too small at this
    size still counts), so the same at every size, and kept in the manifest, so a new seed keeps it too.
    A photo skipped already (too small, say) keeps its first reason."""
    fixed = dict(zip(files.names, files.splits))
    grouped = [r for r in rows if r["group"]]
    left_out = duplicates_of_test(
        [r["file"] for r in grouped], [r["group"] for r in grouped], [fixed[r["file"]] for r in grouped]
    )
    for r in grouped:
        if r["file"] in left_out and not r["reason"]:
            r["reason"] = (
                f"near-duplicate of {left_out[r['file']]} (a test photo of the source's own split: "
                "left out of training, the test set stays as published)"
            )


def _check_usable(files: SourceFiles, rows: list[dict], image_size: int) -> None:
    kept = Counter(r["split"] for r in rows if r["split"])
    if not (kept["train"] and kept["test"]):
        what = "no usable image" if not kept else f"no usable {'test' if kept['train'] else 'train'} image"
        _raise_unusable(files, rows, image_size, what)


def _raise_unusable(files: SourceFiles, rows: list[dict], image_size: int, what: str) -> None:
    reasons = Counter(reason_code(r["reason"]) for r in rows if r["reason"])
    skipped = ", ".join(f"{n} {code}" for code, n in reasons.most_common()) or "none"
    raise ValueError(
        f"{what} in {files.root} (source {files.source!r}) at image_size {image_size}: "
        f"{len(rows)} files, skipped: {skipped}"
    )


def _row(check: FileCheck, extra: dict[str, str]) -> dict:
    return dict(
        file=check.name,
        sha256=check.sha256,
        bytes=check.n_bytes,
        width=check.width,
        height=check.height,
        saturation="" if check.saturation != check.saturation else f"{check.saturation:.2f}",
        group="",
        split="",
        reason=check.final_reason,
        **extra,
    )


def _build(
    files: SourceFiles, settings: dict, split: dict | None, fingerprint: str, folder: Path, workers: int | None
) -> None:
    size = settings["image_size"]
    folder.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(folder)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.", suffix=".tmp"))
    tmp.chmod(0o755)  # mkdtemp makes it private; the cache is as readable as the data it came from
    try:
        n = len(files.paths)
        # Photos stream from the worker processes into a file, not memory: the paper set at 512 is 5 GB.
        staged = np.lib.format.open_memmap(tmp / "staged.npy", mode="w+", dtype=np.uint8, shape=(n, 3, size, size))
        checks = []
        for i, check in enumerate(
            check_files(
                files.paths,
                files.names,
                size,
                settings["min_saturation"],
                settings["max_pixels"],
                workers,
                settings.get("upscale_small", False),
            )
        ):
            if check.array is not None:
                staged[i] = check.array.transpose(2, 0, 1)
                check.array = None
            checks.append(check)
        mark_duplicates(checks)
        rows = [_row(c, files.extra.get(c.name, {})) for c in checks]
        eligible = [i for i, c in enumerate(checks) if not c.reason]
        if files.groups is not None:
            groups = [files.groups[i] for i in eligible]
        else:
            groups = near_duplicate_groups(
                [checks[i].name for i in eligible],
                [checks[i].dhash for i in eligible],
                settings["near_duplicate_bits"],
                [checks[i].scene for i in eligible],
                settings["near_duplicate_correlation"],
            )
        for i, g in zip(eligible, groups):
            rows[i]["group"] = g
        if files.splits is not None:
            _skip_duplicates_of_test(files, rows)
        if all(r["reason"] for r in rows):
            _raise_unusable(files, rows, size, "no usable image")
        _assign_splits(files, rows, split)
        _check_usable(files, rows, size)
        keep = [i for i, r in enumerate(rows) if r["split"]]
        if len(keep) == n:  # nothing skipped (e.g. the paper set): the staged file is the result
            staged.flush()
            del staged
            os.replace(tmp / "staged.npy", tmp / "images.npy")
        else:
            images = np.lib.format.open_memmap(
                tmp / "images.npy", mode="w+", dtype=np.uint8, shape=(len(keep), 3, size, size)
            )
            for start in range(0, len(keep), 256):
                images[start : start + 256] = staged[keep[start : start + 256]]
            images.flush()
            del images, staged
            (tmp / "staged.npy").unlink()
        _write_manifest(tmp / "manifest.csv", rows)
        meta = dict(
            version=CACHE_VERSION,
            source=files.source,
            root=str(files.root),
            fingerprint=fingerprint,
            settings=settings,
            split=split,
            n_files=n,
            n_images=len(keep),
        )
        atomic_write_text(tmp / "meta.json", json.dumps(meta, indent=2, sort_keys=True) + "\n")
        replace_folder(tmp, folder, "meta.json")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _remove_abandoned(folder: Path, idle_s: float = 3600.0) -> None:
    """Delete temporary build folders of `folder` that a killed process left behind (nothing written
    in them for `idle_s`); a build in progress elsewhere keeps writing, so it is left alone."""
    for tmp in folder.parent.glob(f".{folder.name}.*"):
        if tmp.suffix not in (".tmp", ".old") or not tmp.is_dir():
            continue
        last = max([tmp.stat().st_mtime] + [f.stat().st_mtime for f in tmp.rglob("*")])
        if time.time() - last > idle_s:
            shutil.rmtree(tmp, ignore_errors=True)


def _write_manifest(path: Path, rows: list[dict]) -> None:
    columns = BASE_COLUMNS + sorted({k for r in rows for k in r} - set(BASE_COLUMNS))
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, text.getvalue())


def read_manifest(folder: Path) -> list[dict]:
    """The rows of a cache folder's manifest.csv, as dicts of strings."""
    with open(Path(folder) / "manifest.csv", newline="") as f:
        return list(csv.DictReader(f))


def _resplit(files: SourceFiles, folder: Path, meta: dict, split: dict) -> None:
    """Only the seed or test fraction changed: recompute the split column, keep the images."""
    rows = read_manifest(folder)
    _assign_splits(files, rows, split)
    _check_usable(files, rows, meta["settings"]["image_size"])
    _write_manifest(folder / "manifest.csv", rows)
    atomic_write_text(folder / "meta.json", json.dumps(dict(meta, split=split), indent=2, sort_keys=True) + "\n")


def _load(source: str, folder: Path) -> ImageSet:
    rows = read_manifest(folder)
    # Memory-mapped, so indexing reads each split straight into its own array (no second copy).
    images = np.load(folder / "images.npy", mmap_mode="r")
    kept = [r for r in rows if not r["reason"]]
    if len(kept) != len(images):
        raise RuntimeError(
            f"cache {folder} is inconsistent ({len(kept)} manifest rows, {len(images)} images); "
            "delete the folder to rebuild it"
        )
    parts = {}
    for side in ("train", "val", "test"):
        idx = [i for i, r in enumerate(kept) if r["split"] == side]
        parts[side] = (torch.from_numpy(np.ascontiguousarray(images[idx])), [kept[i]["file"] for i in idx])
    skipped = [(r["file"], r["reason"]) for r in rows if r["reason"]]
    return ImageSet(
        source,
        parts["train"][0],
        parts["test"][0],
        parts["train"][1],
        parts["test"][1],
        skipped,
        cache_dir=folder,
        val=parts["val"][0],
        val_names=parts["val"][1],
        groups={r["file"]: r["group"] for r in kept},
    )
