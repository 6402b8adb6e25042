"""A folder seeded with every kind of bad file: notebook 01 names each skipped file and why and lists the
validation split, and notebook 02 trains on the rest, choosing its checkpoint on the validation photos
(smoke profile, through papermill as `make reproduce` runs it, in the background: scenarios.bad_folder_runs)."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from test_validate import photo, png_bytes

pytestmark = pytest.mark.slow  # runs notebooks through papermill


def seed_folder(root):
    root.mkdir()
    for i in range(10):
        Image.fromarray(photo(i, 72, 64)).save(root / f"good_{i}.png")
    # Handled, not skipped: EXIF rotation, CMYK, 16-bit, palette with transparency, RGBA.
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(photo(20, 80, 64)).save(root / "rotated.jpg", exif=exif, quality=95)
    Image.fromarray(photo(21)).convert("CMYK").save(root / "cmyk.jpg")
    rgb16 = photo(22).astype(np.uint16) * 257
    rows = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in rgb16)
    (root / "sixteen.png").write_bytes(png_bytes(64, 64, 16, 2, rows))
    pal = Image.fromarray(photo(23)).convert("P", palette=Image.Palette.ADAPTIVE)
    pal.save(root / "palette.png", transparency=0)
    Image.fromarray(np.dstack([photo(24), np.full((64, 64), 200, np.uint8)])).save(root / "rgba.png")
    # Skipped, each with its reason.
    (root / "empty.jpg").write_bytes(b"")
    good = (root / "good_0.png").read_bytes()
    (root / "truncated.png").write_bytes(good[: len(good) // 2])
    (root / "text.jpg").write_text("this is not a picture\n")
    (root / "bomb.png").write_bytes(png_bytes(40000, 40000, 8, 2, b""))
    Image.fromarray(photo(30, 40, 30)).save(root / "small.png")
    Image.fromarray(np.repeat(photo(31)[..., :1], 3, axis=2)).save(root / "gray_as_rgb.png")
    Image.fromarray(photo(3, 72, 64)).save(root / "zz_copy_of_3.png", compress_level=9)
    return {
        "empty.jpg": "zero-bytes",
        "truncated.png": "truncated",
        "text.jpg": "not-an-image",
        "bomb.png": "too-large",
        "small.png": "too-small",
        "gray_as_rgb.png": "colourless",
        "zz_copy_of_3.png": "duplicate",
    }


def test_bad_files_are_reported_and_the_rest_trains(bad_folder_runs):
    # `bad_folder_runs` (scenarios.py): notebooks 01 and 02 on seed_folder's photos, run in the background.
    root, expected = bad_folder_runs["root"], bad_folder_runs["expected"]
    tables = root / "reports" / "tables"
    skipped = pd.read_csv(tables / "01_skipped.csv")
    assert dict(zip(skipped["file"], skipped["code"])) == expected
    assert skipped["reason"].str.len().gt(0).all()
    split = pd.read_csv(tables / "01_split.csv").set_index("split")["n_images"]
    assert split.sum() == 15  # 10 good + 5 handled formats
    # 15 groups: 3 to test (TEST_FRACTION 0.2), and from the 12 training groups 3 choose the checkpoint.
    assert (split["test"], split["val"], split["train"]) == (3, 3, 9)
    photos = pd.read_csv(tables / "01_photos.csv")
    assert (photos["split"] == "val").sum() == 3
    assert "validation PSNR on 3 photos" in (root / "01_data.ipynb").read_text()
    history = pd.read_csv(tables / "02_baseline_cnn_history.csv")
    assert len(history) == 2 and history["train_loss"].notna().all() and history["val_psnr"].notna().all()
    result = pd.read_csv(tables / "02_baseline_cnn.csv")
    assert result["n_test_views"].iloc[0] == split["test"]
    assert result["selected_by"].iloc[0] == "validation"
    assert result["selected_epoch"].iloc[0] == history.loc[history["val_psnr"].idxmax(), "epoch"]
