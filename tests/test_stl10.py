"""`stl10` / `stl10:PATH`: STL-10's binary files, checked, extracted once into PNGs, STL-10's own split.
Offline: the folders are stand-ins written in STL-10's layout (tests/stl10_standin.py)."""

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from stl10_standin import crops, standin_from_bundled, write_stl10

from colorize_lib import dataset, paths
from colorize_lib.data import load_image_set
from colorize_lib.data.cache import read_manifest
from colorize_lib.data.sources import resolve_source, stl10
from colorize_lib.data.sources.bundled import BUNDLED_PHOTOS
from colorize_lib.data.sources.folder import folder_slug
from colorize_lib.data.sources.stl10 import read_images, stl10_files


@pytest.fixture(scope="module")
def standin(tmp_path_factory) -> Path:
    """The stand-in from scikit-image's photos, written once; tests work on copies (`copy_of`)."""
    return standin_from_bundled(tmp_path_factory.mktemp("standin") / "stl10")


def copy_of(standin: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(standin, tmp_path / "stl10"))


def pattern(n: int, seed: int = 0) -> np.ndarray:
    """(n, 96, 96, 3) images that tell rows, columns and channels apart: red = row, green = column."""
    images = np.random.default_rng(seed).integers(0, 256, (n, 96, 96, 3), dtype=np.uint8)
    images[..., 0] = np.arange(96)[:, None] * 2
    images[..., 1] = np.arange(96)[None, :] * 2
    return images


def small(tmp_path: Path, n_train: int = 2, n_test: int = 1) -> Path:
    return write_stl10(tmp_path / "small", pattern(n_train), pattern(n_test, seed=1))


def png_mtimes(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in (folder / "png").rglob("*.png")}


def test_load_image_set_keeps_stl10_split_and_reports_skips(standin, tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "CACHE_DIR", tmp_path / "cache")
    folder = copy_of(standin, tmp_path)
    data = load_image_set(f"stl10:{folder}", image_size=64)
    # 37 training images written: the near-gray copy (36) and the exact copy of 00001 (37) are skipped.
    assert data.train_names == [f"train/{i:05d}.png" for i in range(1, 36)]
    assert data.test_names == [f"test/{i:05d}.png" for i in range(1, 11)]
    assert data.train.shape == (35, 3, 64, 64) and data.test.shape == (10, 3, 64, 64)
    assert [name for name, _ in data.skipped] == ["train/00036.png", "train/00037.png"]
    assert data.skipped[0][1].startswith("colourless (saturation")
    assert data.skipped[1][1] == "duplicate of train/00001.png"
    assert data.source == f"stl10:{folder}"
    assert data.cache_dir == tmp_path / "cache" / f"{folder_slug(folder, 'stl10')}-64"
    rows = {r["file"]: r for r in read_manifest(data.cache_dir)}
    assert rows["train/00036.png"]["reason"].startswith("colourless") and rows["train/00036.png"]["split"] == ""
    assert rows["test/00004.png"]["split"] == "test" and rows["test/00004.png"]["group"] == "test/00004.png"


def leaky_split(folder: Path) -> Path:
    """An STL-10 folder whose own split leaks, as a random split of real photos can: the test side holds the
    crops (`stl10_standin.crops`) of hubble_deep_field, ihc and motorcycle_right (test/00001-00015), the
    training side those of astronaut, chelsea, coffee, motorcycle_left, retina and rocket (train/00001-00030),
    then an 80% centre crop of ihc's square (train/00031). motorcycle_left's square (train/00016) is the
    stereo twin of motorcycle_right's (test/00011); train/00031 is a crop of test/00006."""
    import skimage.data

    data = Path(skimage.data.data_dir)
    test_files = ("hubble_deep_field.jpg", "ihc.png", "motorcycle_right.png")
    train = [c for f in sorted(BUNDLED_PHOTOS) if f not in test_files for c in crops(data / f)]
    test = [c for f in test_files for c in crops(data / f)]
    ihc = Image.fromarray(test[5])  # the square of ihc, 96x96
    train.append(np.asarray(ihc.crop((10, 10, 86, 86)).resize((96, 96), Image.Resampling.LANCZOS)))
    return write_stl10(folder, np.stack(train), np.stack(test))


def test_training_photos_that_duplicate_a_test_photo_are_left_out_and_the_test_set_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "CACHE_DIR", tmp_path / "cache")
    folder = leaky_split(tmp_path / "stl10")
    data = load_image_set(f"stl10:{folder}", image_size=64, val_fraction=0.15)
    assert data.test_names == [f"test/{i:05d}.png" for i in range(1, 16)]  # the published test set, whole
    skipped = dict(data.skipped)
    assert skipped["train/00016.png"].startswith("near-duplicate of test/00011.png (a test photo")
    assert skipped["train/00031.png"].startswith("near-duplicate of test/00006.png (a test photo")
    assert set(skipped) & set(data.train_names + data.val_names) == set()
    # No photo group straddles train, validation and test.
    sides = {
        side: {data.group_of(n) for n in names}
        for side, names in (("train", data.train_names), ("val", data.val_names), ("test", data.test_names))
    }
    assert data.has_validation
    assert not sides["train"] & sides["test"] and not sides["val"] & sides["test"]
    assert not sides["train"] & sides["val"]
    rows = {r["file"]: r for r in read_manifest(data.cache_dir)}
    assert rows["train/00016.png"]["group"] == rows["test/00011.png"]["group"] != rows["train/00017.png"]["group"]
    assert rows["train/00016.png"]["split"] == rows["train/00031.png"]["split"] == ""
    # Notebook 01 lists them: which file, which test photo, what was done.
    table = dataset.skipped_table(data).set_index("file")
    assert table.loc["train/00016.png", "code"] == "near-duplicate"
    assert "test/00011.png" in table.loc["train/00016.png", "reason"]
    assert "left out of training" in table.loc["train/00016.png", "reason"]
    # A new seed redraws validation only, another size keeps the same photos out.
    for again in (
        load_image_set(f"stl10:{folder}", image_size=64, seed=1, val_fraction=0.15),
        load_image_set(f"stl10:{folder}", image_size=48),
    ):
        assert again.test_names == data.test_names
        assert {n for n, r in again.skipped if r.startswith("near-duplicate")} == {
            n for n, r in data.skipped if r.startswith("near-duplicate")
        }


def test_images_read_back_upright_as_torchvision_reads_them(tmp_path):
    images = pattern(3)
    folder = write_stl10(tmp_path / "s", images, pattern(1, seed=1))
    binary = folder / "stl10_binary"
    md5 = (binary / "MD5SUMS").read_text().split()[0]
    read = read_images(binary / "train_X.bin", md5)
    assert read.shape == (3, 96, 96, 3) and read.dtype == np.uint8
    assert np.array_equal(read, images)
    assert tuple(read[0, 95, 0, :2]) == (190, 0)  # bottom-left: red counts rows, green columns
    # torchvision's own reader, (N, C, H, W): the same pixels.
    from torchvision.datasets import STL10

    reader = object.__new__(STL10)
    reader.root = str(folder)
    theirs, _ = reader._STL10__loadfile("train_X.bin")
    assert np.array_equal(theirs.transpose(0, 2, 3, 1), images)
    # The extracted PNGs hold the same pixels.
    files = stl10_files(folder)
    assert files.names == ["train/00001.png", "train/00002.png", "train/00003.png", "test/00001.png"]
    assert files.splits == ["train", "train", "train", "test"] and files.groups is None  # grouped by near-duplicates
    assert files.root == folder / "png"
    assert np.array_equal(np.asarray(Image.open(folder / "png" / "train" / "00002.png")), images[1])


def test_truncated_file_is_named_with_its_stray_bytes(tmp_path):
    folder = small(tmp_path)
    train = folder / "stl10_binary" / "train_X.bin"
    train.write_bytes(train.read_bytes()[:-100])  # 2 images less 100 bytes
    with pytest.raises(ValueError, match="1 whole images and 27,548 stray bytes") as e:
        load_image_set(f"stl10:{folder}", 32)
    assert str(train) in str(e.value) and "truncated" in str(e.value) and "MD5SUMS" in str(e.value)
    assert not (folder / "png").exists()
    train.write_bytes(b"")
    with pytest.raises(ValueError, match="0 whole images and 0 stray bytes"):
        stl10_files(folder)


def test_wrong_checksum_names_file_expected_and_actual(tmp_path):
    folder = small(tmp_path)
    binary = folder / "stl10_binary"
    sums = (binary / "MD5SUMS").read_text()
    expected_test = sums.split("\n")[1].split()[0]
    test_bin = binary / "test_X.bin"
    original = test_bin.read_bytes()
    data = bytearray(original)
    data[1000] ^= 0xFF  # one byte flipped
    test_bin.write_bytes(bytes(data))
    actual = hashlib.md5(bytes(data)).hexdigest()
    with pytest.raises(ValueError, match=f"{test_bin} has md5 {actual}, expected {expected_test}") as e:
        stl10_files(folder)
    assert f"from {binary / 'MD5SUMS'}" in str(e.value)
    assert not any(p.name.startswith(".png.") for p in folder.iterdir())  # no half-written extraction left
    # A wrong sum in MD5SUMS: the same error for the other file.
    test_bin.write_bytes(original)
    (binary / "MD5SUMS").write_text(sums.replace(sums[:32], "0" * 32))
    with pytest.raises(ValueError, match=f"train_X.bin has md5 {sums[:32]}, expected {'0' * 32}"):
        stl10_files(folder)


def test_official_checksum_applies_without_md5sums(tmp_path):
    folder = small(tmp_path)
    (folder / "stl10_binary" / "MD5SUMS").unlink()
    with pytest.raises(ValueError, match="train_X.bin has md5 .*, expected 918c2871b30a85fa023e0c44e0bee87f") as e:
        stl10_files(folder)
    assert "torchvision's STL-10 checksum list" in str(e.value) and "download it afresh" in str(e.value)


def test_malformed_md5sums_names_file_and_line(tmp_path):
    folder = small(tmp_path)
    sums = folder / "stl10_binary" / "MD5SUMS"
    sums.write_text(sums.read_text() + "not a checksum line\n")
    with pytest.raises(ValueError, match=f"{sums} line 3 is malformed: 'not a checksum line'"):
        stl10_files(folder)
    sums.write_text(sums.read_text().split("\n")[0] + "\n")  # test_X.bin no longer listed
    with pytest.raises(ValueError, match="MD5SUMS lists no checksum for test_X.bin"):
        stl10_files(folder)


def test_missing_folder_or_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not hold train_X.bin and test_X.bin") as e:
        load_image_set(f"stl10:{tmp_path / 'absent'}", 32)
    assert str(tmp_path / "absent" / "stl10_binary") in str(e.value)
    folder = small(tmp_path)
    (folder / "stl10_binary" / "test_X.bin").unlink()
    with pytest.raises(FileNotFoundError, match="stl10_binary does not hold test_X.bin; an STL-10 folder holds"):
        resolve_source(f"stl10:{folder}")
    with pytest.raises(ValueError, match="'stl10:' needs a path"):
        resolve_source("stl10:")
    with pytest.raises(ValueError, match="'stl10', 'stl10:PATH'"):
        resolve_source("stl-10")


def test_pngs_are_reused_until_the_bins_change(tmp_path, monkeypatch):
    folder = small(tmp_path)
    first = stl10_files(folder)
    before = png_mtimes(folder)

    def no_reading(*args, **kwargs):
        raise AssertionError("the bins were read or hashed again although the PNGs match them")

    with monkeypatch.context() as m:
        m.setattr(stl10, "read_images", no_reading)
        m.setattr(stl10, "file_md5", no_reading)
        again = stl10_files(folder)
    assert again.names == first.names and png_mtimes(folder) == before
    # New bins (3 train, 2 test): extracted afresh, the old PNGs replaced.
    new_train = pattern(3, seed=5)
    write_stl10(folder, new_train, pattern(2, seed=6))
    files = stl10_files(folder)
    assert files.names == [f"train/{i:05d}.png" for i in (1, 2, 3)] + ["test/00001.png", "test/00002.png"]
    assert np.array_equal(np.asarray(Image.open(folder / "png" / "train" / "00003.png")), new_train[2])
    # A bin replaced without its MD5SUMS line: re-read, so the mismatch is caught.
    (folder / "stl10_binary" / "train_X.bin").write_bytes(pattern(3, seed=7)[:, ::-1].tobytes())
    with pytest.raises(ValueError, match="train_X.bin has md5"):
        stl10_files(folder)


def test_default_folder_needs_no_download(standin, tmp_path, monkeypatch):
    from torchvision.datasets import utils

    monkeypatch.setattr(paths, "RAW_DIR", tmp_path / "raw")
    monkeypatch.setattr(utils, "download_and_extract_archive", lambda *a, **k: pytest.fail("downloaded"))
    shutil.copytree(standin / "stl10_binary", tmp_path / "raw" / "stl10" / "stl10_binary")
    files = resolve_source("stl10")
    assert files.source == "stl10" and files.slug == "stl10" and len(files.names) == 47
    assert files.root == tmp_path / "raw" / "stl10" / "png"
    assert sorted(os.listdir(files.root)) == ["extracted.json", "test", "train"]


@pytest.mark.slow  # runs notebooks through papermill
def test_the_data_notebook_runs_on_the_standin(tmp_path):
    # `make reproduce PROFILE=smoke DATA=stl10:DIR` runs every notebook (bench/RESULTS.md); here 01, whose
    # tables are the source's; training on it is tested in tests/test_study.py (the budget's authors arm).
    import pandas as pd
    from papermill_run import run_notebook

    folder = standin_from_bundled(tmp_path / "stl10")
    env = dict(os.environ, COLORIZE_DATA_DIR=str(tmp_path / "data"), COLORIZE_REPORTS_DIR=str(tmp_path / "reports"))
    notebook = paths.NOTEBOOKS_DIR / "01_data.ipynb"
    run_notebook(notebook, tmp_path / "01_data.ipynb", env, 300, profile="smoke", data=f"stl10:{folder}")
    tables = tmp_path / "reports" / "tables"
    skipped = pd.read_csv(tables / "01_skipped.csv")
    assert sorted(skipped["code"]) == ["colourless", "duplicate"]
    split = pd.read_csv(tables / "01_split.csv").set_index("split")["n_images"]
    assert split["test"] == 10 and split.sum() == 45  # STL-10's own split: the stand-in's 10 test photos
