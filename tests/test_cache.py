"""Validated photos are cached once per (source, image_size) and reloaded while inputs are unchanged."""

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from colorize_lib import dataset, paths
from colorize_lib.data import cache, load_image_set
from colorize_lib.data.cache import cache_dir_for, load_cached, read_manifest
from colorize_lib.data.sources import resolve_source
from colorize_lib.data.sources.bundled import BUNDLED_PHOTOS
from colorize_lib.data.sources.folder import folder_files
from colorize_lib.data.split import duplicates_of_test
from colorize_lib.data.validate import square_resize


def photo(seed: int, w: int = 64, h: int = 64) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = Image.fromarray(rng.integers(0, 256, (6, 6, 3), dtype=np.uint8), "RGB")
    return np.asarray(small.resize((w, h), Image.Resampling.BICUBIC))


@pytest.fixture
def folder(tmp_path) -> Path:
    """12 distinct photos (some in a subfolder), a near-duplicate pair, an exact duplicate, and junk."""
    root = tmp_path / "photos"
    (root / "sub").mkdir(parents=True)
    for i in range(12):
        Image.fromarray(photo(i)).save(root / ("sub" if i % 3 == 0 else ".") / f"p{i:02d}.png")
    Image.fromarray(np.clip(photo(0).astype(int) + 5, 0, 255).astype(np.uint8)).save(root / "p00_bright.png")
    Image.fromarray(photo(1)).save(root / "zz_copy.png", compress_level=9)
    Image.fromarray(photo(2, 40, 28)).save(root / "small.png")
    Image.fromarray(np.repeat(photo(3)[..., :1], 3, 2)).save(root / "gray.png")
    (root / "empty.jpg").write_bytes(b"")
    (root / "notes.jpg").write_text("hello")
    return root


def test_folder_is_validated_split_and_cached(folder, tmp_path):
    data = load_cached(folder_files(folder), 32, seed=0, test_fraction=0.25, cache_root=tmp_path / "cache")
    assert data.train.shape[1:] == (3, 32, 32) and data.train.dtype == torch.uint8
    assert len(data.train_names) + len(data.test_names) == 13  # 12 + the near-duplicate
    assert len(data.test_names) >= 1 and not set(data.train_names) & set(data.test_names)
    skipped = dict(data.skipped)
    assert skipped == {
        "empty.jpg": "zero-bytes",
        "gray.png": "colourless (saturation 0.0 < 20)",
        "notes.jpg": "not-an-image (no image format recognised)",
        "small.png": "too-small (40x28 < 32)",
        "zz_copy.png": "duplicate of p01.png",
    }
    # The near-duplicate pair stays on one side.
    side = {n: "train" for n in data.train_names} | {n: "test" for n in data.test_names}
    assert side["sub/p00.png"] == side["p00_bright.png"]
    # Cached pixels are the square-resized photo.
    i = data.train_names.index("p04.png") if "p04.png" in data.train_names else None
    arr = (data.train[i] if i is not None else data.test[data.test_names.index("p04.png")]).permute(1, 2, 0).numpy()
    np.testing.assert_array_equal(arr, square_resize(Image.open(folder / "p04.png"), 32))
    rows = {r["file"]: r for r in read_manifest(data.cache_dir)}
    assert rows["p04.png"]["split"] == side["p04.png"] and len(rows["p04.png"]["sha256"]) == 64
    assert rows["p00_bright.png"]["group"] == "p00_bright.png" == rows["sub/p00.png"]["group"]
    assert rows["notes.jpg"]["split"] == ""


def test_too_small_is_per_size_but_the_split_is_not(folder, tmp_path):
    Image.fromarray(photo(50, 64, 48)).save(folder / "short.png")
    root = tmp_path / "cache"
    small = load_cached(folder_files(folder), 32, seed=3, cache_root=root)
    large = load_cached(folder_files(folder), 56, seed=3, cache_root=root)
    assert cache_dir_for(folder_files(folder), 32, root) != cache_dir_for(folder_files(folder), 56, root)
    assert dict(large.skipped)["short.png"] == "too-small (64x48 < 56)"
    assert "short.png" in small.train_names + small.test_names
    assert set(large.train_names) <= set(small.train_names)
    assert set(large.test_names) <= set(small.test_names)


def test_split_ignores_listing_order(folder, tmp_path):
    files = folder_files(folder)
    data = load_cached(files, 32, seed=1, cache_root=tmp_path / "a")
    files.paths, files.names = files.paths[::-1], files.names[::-1]
    shuffled = load_cached(files, 32, seed=1, cache_root=tmp_path / "b")
    assert sorted(data.test_names) == sorted(shuffled.test_names)
    assert sorted(data.train_names) == sorted(shuffled.train_names)


def test_rerun_loads_without_rebuilding(folder, tmp_path, monkeypatch):
    root = tmp_path / "cache"
    first = load_cached(folder_files(folder), 32, cache_root=root)

    def fail(*args, **kwargs):
        raise AssertionError("rebuilt although nothing changed")

    monkeypatch.setattr(cache, "check_files", fail)
    again = load_cached(folder_files(folder), 32, cache_root=root)
    assert again.train_names == first.train_names and again.test_names == first.test_names
    assert (again.train == first.train).all() and again.skipped == first.skipped
    # A new seed only recomputes the split: still no decoding.
    other = [load_cached(folder_files(folder), 32, seed=s, cache_root=root).test_names for s in range(1, 6)]
    assert any(sorted(t) != sorted(first.test_names) for t in other)
    assert json.loads((first.cache_dir / "meta.json").read_text())["split"]["seed"] == 5
    rows = {r["file"]: r["split"] for r in read_manifest(first.cache_dir)}
    assert sorted(n for n, s in rows.items() if s == "test") == sorted(other[-1])


def test_changed_inputs_rebuild(folder, tmp_path):
    root = tmp_path / "cache"

    def fingerprint(data) -> str:
        return json.loads((data.cache_dir / "meta.json").read_text())["fingerprint"]

    def pixels(data, name: str) -> np.ndarray:
        images, names = (data.train, data.train_names) if name in data.train_names else (data.test, data.test_names)
        return images[names.index(name)].permute(1, 2, 0).numpy()

    first = fingerprint(load_cached(folder_files(folder), 32, cache_root=root))
    # A replaced file (new content, size or mtime) is decoded again.
    Image.fromarray(photo(99)).save(folder / "p05.png")
    os.utime(folder / "p05.png", ns=(1, 1))
    second = load_cached(folder_files(folder), 32, cache_root=root)
    assert fingerprint(second) != first
    np.testing.assert_array_equal(pixels(second, "p05.png"), square_resize(Image.fromarray(photo(99)), 32))
    # So is a new file; and a changed validation setting rebuilds.
    Image.fromarray(photo(77)).save(folder / "new.png")
    third = load_cached(folder_files(folder), 32, cache_root=root)
    assert "new.png" in third.train_names + third.test_names
    before = fingerprint(third)
    stricter = load_cached(folder_files(folder), 32, cache_root=root, min_saturation=21)
    assert fingerprint(stricter) != before
    assert json.loads((stricter.cache_dir / "meta.json").read_text())["settings"]["min_saturation"] == 21
    # So does another grouping threshold: the groups, hence the split, may change with it.
    strict = fingerprint(stricter)
    looser = load_cached(folder_files(folder), 32, cache_root=root, min_saturation=21, near_duplicate_correlation=0.5)
    assert fingerprint(looser) != strict
    assert json.loads((looser.cache_dir / "meta.json").read_text())["settings"]["near_duplicate_correlation"] == 0.5


def test_interrupted_build_leaves_no_cache(folder, tmp_path, monkeypatch):
    root = tmp_path / "cache"
    real = cache.check_files

    def interrupted(*args, **kwargs):
        for i, check in enumerate(real(*args, **kwargs)):
            if i == 5:
                raise KeyboardInterrupt
            yield check

    monkeypatch.setattr(cache, "check_files", interrupted)
    with pytest.raises(KeyboardInterrupt):
        load_cached(folder_files(folder), 32, cache_root=root)
    assert list(root.iterdir()) == []  # neither a cache folder nor a temporary one is left
    monkeypatch.setattr(cache, "check_files", real)
    assert len(load_cached(folder_files(folder), 32, cache_root=root).train_names) > 0
    assert [p.name for p in root.iterdir()] == [cache_dir_for(folder_files(folder), 32, root).name]


def test_abandoned_temporary_builds_are_removed(folder, tmp_path):
    root = tmp_path / "cache"
    name = cache_dir_for(folder_files(folder), 32, root).name
    old, fresh = root / f".{name}.abc.tmp", root / f".{name}.def.tmp"
    for d in (old, fresh):
        d.mkdir(parents=True)
        (d / "staged.npy").write_bytes(b"partial")
    for path in (old, old / "staged.npy"):
        os.utime(path, (0, 0))  # a build killed long ago
    load_cached(folder_files(folder), 32, cache_root=root)
    assert not old.exists() and fresh.exists()  # a recent one may be another process's build


def test_parallel_build_matches_serial(folder, tmp_path):
    one = load_cached(folder_files(folder), 32, cache_root=tmp_path / "one", workers=1)
    two = load_cached(folder_files(folder), 32, cache_root=tmp_path / "two", workers=2)
    assert one.train_names == two.train_names and one.skipped == two.skipped
    assert (one.train == two.train).all() and (one.test == two.test).all()


def test_no_usable_image_is_an_error_naming_the_folder(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match=f"no image files under {empty}"):
        load_cached(folder_files(empty), 32, cache_root=tmp_path / "cache")
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "a.jpg").write_bytes(b"")
    Image.fromarray(np.full((64, 64, 3), 128, np.uint8)).save(junk / "b.png")
    with pytest.raises(
        ValueError,
        match=rf"no usable image in {junk}.*1 zero-bytes.*1 colourless|"
        rf"no usable image in {junk}.*1 colourless.*1 zero-bytes",
    ):
        load_cached(folder_files(junk), 32, cache_root=tmp_path / "cache")
    assert not (tmp_path / "cache" / cache_dir_for(folder_files(junk), 32).name).exists()


@pytest.mark.slow  # validates and caches the bundled photos
def test_load_image_set_folder_and_bundled(folder, tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "CACHE_DIR", tmp_path / "cache")
    data = load_image_set(f"folder:{folder}", 32)
    assert data.cache_dir.parent == tmp_path / "cache" and len(data.train_names) > 0
    bundled = load_image_set("bundled", 64)
    assert sorted(bundled.train_names + bundled.test_names) == sorted(Path(f).stem for f in BUNDLED_PHOTOS)
    assert bundled.skipped == []
    # The motorcycle stereo pair (one scene) stays on one side.
    assert ("motorcycle_left" in bundled.test_names) == ("motorcycle_right" in bundled.test_names)
    import skimage.data

    i = bundled.train_names.index("coffee") if "coffee" in bundled.train_names else None
    got = bundled.train[i] if i is not None else bundled.test[bundled.test_names.index("coffee")]
    want = square_resize(Image.open(Path(skimage.data.data_dir) / "coffee.png"), 64)
    np.testing.assert_array_equal(got.permute(1, 2, 0).numpy(), want)
    with pytest.raises(ValueError, match="unknown data source 'nope'"):
        load_image_set("nope", 32)
    with pytest.raises(FileNotFoundError, match="missing"):
        load_image_set(f"folder:{tmp_path / 'missing'}", 32)


@pytest.mark.slow  # validates and caches the bundled photos
def test_a_folder_of_the_bundled_photos_keeps_the_stereo_pair_together(tmp_path):
    import skimage.data

    folder = tmp_path / "photos"
    folder.mkdir()
    for file in BUNDLED_PHOTOS:
        (folder / file).write_bytes((Path(skimage.data.data_dir) / file).read_bytes())
    data = load_cached(folder_files(folder), 32, seed=0, test_fraction=0.25, cache_root=tmp_path / "cache")
    rows = {r["file"]: r for r in read_manifest(data.cache_dir)}
    assert rows["motorcycle_right.png"]["group"] == rows["motorcycle_left.png"]["group"] == "motorcycle_left.png"
    assert rows["motorcycle_right.png"]["split"] == rows["motorcycle_left.png"]["split"]
    assert len({r["group"] for r in rows.values()}) == 8  # the nine photos, the pair joined


def test_dataset_tables(folder, tmp_path):
    data = load_cached(folder_files(folder), 32, cache_root=tmp_path / "cache")
    table = dataset.skipped_table(data)
    assert list(table.columns) == ["file", "code", "reason"]
    assert set(table["file"]) == {"empty.jpg", "gray.png", "notes.jpg", "small.png", "zz_copy.png"}
    counts = dataset.skipped_counts(data)
    assert dict(zip(counts["code"], counts["n_files"])) == {
        "zero-bytes": 1,
        "colourless": 1,
        "not-an-image": 1,
        "too-small": 1,
        "duplicate": 1,
    }
    summary = dataset.split_summary(data)
    assert dict(zip(summary["split"], summary["n_images"])) == {
        "train": len(data.train_names),
        "val": 0,
        "test": len(data.test_names),
    }
    assert "final epoch" in dataset.selection_rule(data)


def test_a_validation_split_is_carved_from_the_training_groups_only(folder, tmp_path):
    for i in range(12, 20):  # 20 distinct photos + the near-duplicate: 15 training groups at a quarter test
        Image.fromarray(photo(i)).save(folder / f"p{i:02d}.png")
    root = tmp_path / "cache"
    plain = load_cached(folder_files(folder), 32, seed=1, cache_root=root)
    data = load_cached(folder_files(folder), 32, seed=1, cache_root=root, val_fraction=0.15)
    assert data.test_names == plain.test_names  # the test photos are the same with or without validation
    assert not plain.has_validation and data.has_validation
    assert sorted(data.train_names + data.val_names) == sorted(plain.train_names)
    groups = {data.group_of(n) for n in data.val_names}
    assert len(groups) == 3  # round(0.15 * 15) = 2, raised to the minimum of 3
    assert not groups & {data.group_of(n) for n in data.train_names}  # whole groups, never split
    assert data.group_of("p00_bright.png") == data.group_of("sub/p00.png")
    rows = {r["file"]: r["split"] for r in read_manifest(data.cache_dir)}
    assert {n for n, side in rows.items() if side == "val"} == set(data.val_names)
    summary = dataset.split_summary(data).set_index("split")
    assert summary.loc["val", "n_groups"] == 3
    assert "validation PSNR on" in dataset.selection_rule(data)
    # Another seed draws other validation groups from the same training side of its own split.
    other = load_cached(folder_files(folder), 32, seed=2, cache_root=root, val_fraction=0.15)
    assert other.has_validation and set(other.val_names) <= set(other.train_names + other.val_names)


def test_a_source_with_its_own_split_keeps_its_test_photos_and_draws_validation_from_train(folder, tmp_path):
    """As on the paper's data: validation photos come from the authors' training images only."""
    for i in range(12, 20):
        Image.fromarray(photo(i)).save(folder / f"p{i:02d}.png")
    files = folder_files(folder)
    fixed_test = {"p04.png", "p05.png", "p07.png"}
    files.splits = ["test" if n in fixed_test else "train" for n in files.names]
    data = load_cached(files, 32, seed=0, cache_root=tmp_path / "cache", val_fraction=0.15)
    assert set(data.test_names) == fixed_test
    assert data.has_validation and not set(data.val_names) & fixed_test
    assert len(data.val_names) >= 3 and not set(data.val_names) & set(data.train_names)


def test_duplicates_of_test_name_the_first_test_photo_of_the_group_whatever_the_order():
    names = ["a", "b", "c", "d", "e", "f"]
    groups = ["g1", "g1", "g1", "g2", "g3", "g3"]
    sides = ["train", "test", "test", "train", "test", "test"]
    assert duplicates_of_test(names, groups, sides) == {"a": "b"}  # d's group has no test photo
    assert duplicates_of_test(names[::-1], groups[::-1], sides[::-1]) == {"a": "b"}
    assert duplicates_of_test(["x", "y"], ["g", "g"], ["train", "train"]) == {}


def test_resolve_source_rejects_a_bare_folder_prefix():
    with pytest.raises(ValueError, match="needs a path"):
        resolve_source("folder:")


def test_upscale_small_keeps_small_photos_in_a_cache_of_its_own(folder, tmp_path):
    files = folder_files(folder)
    skipped = load_cached(files, 56, cache_root=tmp_path / "c")
    upscaled = load_cached(files, 56, cache_root=tmp_path / "c", upscale_small=True)
    assert dict(skipped.skipped)["small.png"] == "too-small (40x28 < 56)"
    assert "small.png" not in dict(upscaled.skipped)
    assert sorted(upscaled.train_names + upscaled.test_names) == sorted(
        skipped.train_names + skipped.test_names + [n for n, r in skipped.skipped if r.startswith("too-small")]
    )
    assert upscaled.train.shape[-1] == 56
    assert cache_dir_for(files, 56, tmp_path / "c", upscale_small=True) != cache_dir_for(files, 56, tmp_path / "c")
    # The plain cache is untouched by the upscaled one: reloading it rebuilds nothing.
    again = load_cached(files, 56, cache_root=tmp_path / "c")
    assert again.skipped == skipped.skipped


@pytest.mark.slow  # validates and caches the bundled photos
def test_load_images_keeps_the_configs_number_of_test_photos():
    from colorize_lib.data import load_images
    from colorize_lib.engine.config import make_config

    full = load_images(make_config("unet_lab", "smoke"))
    few = load_images(make_config("unet_lab", "smoke", max_test_images=1))
    assert len(full.test) > 1 and len(few.test) == len(few.test_names) == 1
    assert few.test_names == full.test_names[:1] and torch.equal(few.train, full.train)
