"""Every file is decoded and checked; unusable ones are skipped with a stable reason code."""

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorize_lib.data.sources.bundled import BUNDLED_PHOTOS
from colorize_lib.data.validate import (
    NEAR_DUPLICATE_CORRELATION,
    FileCheck,
    check_file,
    check_files,
    decode_rgb,
    list_images,
    mark_duplicates,
    near_duplicate_groups,
    reason_code,
    saturation,
    scene_features,
    scene_scores,
)


def photo(seed: int, w: int = 64, h: int = 64) -> np.ndarray:
    """A colourful test photo: smooth random colour blobs (distinct structure per seed)."""
    rng = np.random.default_rng(seed)
    small = Image.fromarray(rng.integers(0, 256, (6, 6, 3), dtype=np.uint8), "RGB")
    return np.asarray(small.resize((w, h), Image.Resampling.BICUBIC))


def save(path: Path, array: np.ndarray, **kwargs) -> Path:
    Image.fromarray(array).save(path, **kwargs)
    return path


def png_bytes(width: int, height: int, bit_depth: int, colour_type: int, raw_rows: bytes) -> bytes:
    """A PNG written by hand, for layouts Pillow cannot write (16-bit RGB, bogus sizes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw_rows)) + chunk(b"IEND", b"")


def code_of(path: Path, image_size: int = 32, **kwargs) -> str:
    return reason_code(check_file(path, path.name, image_size, **kwargs).final_reason)


def test_usable_photo_is_resized_and_described(tmp_path):
    path = save(tmp_path / "a.png", photo(1, 80, 64))
    check = check_file(path, "a.png", 32)
    assert check.final_reason == ""
    assert (check.width, check.height) == (80, 64)
    assert check.array.shape == (32, 32, 3) and check.array.dtype == np.uint8
    assert check.saturation > 20 and len(check.sha256) == 64 and check.n_bytes == path.stat().st_size


def test_broken_files_are_skipped_with_their_reason(tmp_path):
    (tmp_path / "empty.jpg").write_bytes(b"")
    good = io.BytesIO()
    Image.fromarray(photo(2)).save(good, "JPEG", quality=95)
    (tmp_path / "cut.jpg").write_bytes(good.getvalue()[: len(good.getvalue()) // 2])
    png = io.BytesIO()
    Image.fromarray(photo(3)).save(png, "PNG")
    (tmp_path / "cut.png").write_bytes(png.getvalue()[: len(png.getvalue()) // 2])
    (tmp_path / "notes.jpg").write_text("not an image at all\n")
    assert code_of(tmp_path / "empty.jpg") == "zero-bytes"
    assert code_of(tmp_path / "cut.jpg") == "truncated"
    assert code_of(tmp_path / "cut.png") == "truncated"
    assert code_of(tmp_path / "notes.jpg") == "not-an-image"


def test_size_limits(tmp_path):
    path = save(tmp_path / "wide.png", photo(4, 64, 40))
    assert check_file(path, "wide.png", 48).final_reason == "too-small (64x40 < 48)"
    assert check_file(path, "wide.png", 40).final_reason == ""
    assert code_of(path, max_pixels=1000) == "too-large"
    # A header claiming 20000 x 20000 pixels: Pillow's own decompression-bomb error becomes a skip.
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_bytes(20000, 20000, 8, 2, b"\x00" * 16))
    assert code_of(bomb, max_pixels=10**12) == "too-large"


def test_saturation_matches_pillow_hsv():
    rng = np.random.default_rng(0)
    for rgb in (rng.integers(0, 256, (50, 60, 3), dtype=np.uint8), photo(1), np.zeros((4, 4, 3), np.uint8)):
        want = np.asarray(Image.fromarray(rgb).convert("HSV"))[..., 1].mean()
        assert saturation(rgb) == pytest.approx(want, abs=1e-9)


def test_colourless_photos_are_skipped(tmp_path):
    gray = np.repeat(photo(5)[..., :1], 3, axis=2)  # grayscale stored as RGB
    reason = check_file(save(tmp_path / "gray.png", gray), "gray.png", 32).final_reason
    assert reason == "colourless (saturation 0.0 < 20)"
    pale = (photo(6) // 16 + 200).astype(np.uint8)  # faint tint: saturation well under 20
    assert saturation(pale) < 20
    assert code_of(save(tmp_path / "pale.png", pale)) == "colourless"
    assert code_of(save(tmp_path / "L.png", gray[..., 0])) == "colourless"


def test_exif_orientation_is_applied(tmp_path):
    rgb = photo(7, 64, 40)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 clockwise to display"
    path = tmp_path / "rotated.png"
    Image.fromarray(rgb).save(path, exif=exif)
    out = decode_rgb(path)
    assert out.shape == (64, 40, 3)
    np.testing.assert_array_equal(out, np.rot90(rgb, k=-1))
    assert check_file(path, "rotated.png", 32).width == 40


def test_cmyk_is_converted(tmp_path):
    rgb = photo(8)
    path = tmp_path / "cmyk.tif"
    Image.fromarray(rgb).convert("CMYK").save(path)
    assert Image.open(path).mode == "CMYK"
    np.testing.assert_array_equal(decode_rgb(path), rgb)


def test_sixteen_bit_images_are_scaled_to_eight_bits(tmp_path):
    rng = np.random.default_rng(9)
    gray16 = rng.integers(0, 65536, (16, 16), dtype=np.uint16)
    for suffix in ("png", "tif"):
        path = tmp_path / f"gray16.{suffix}"
        Image.fromarray(gray16).save(path)
        assert Image.open(path).mode.startswith("I")
        out = decode_rgb(path)
        np.testing.assert_array_equal(out[..., 0], np.round(gray16 / 257.0).astype(np.uint8))
        np.testing.assert_array_equal(out[..., 0], out[..., 2])
    rgb16 = rng.integers(0, 65536, (16, 16, 3), dtype=np.uint16)
    rows = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in rgb16)
    (tmp_path / "rgb16.png").write_bytes(png_bytes(16, 16, 16, 2, rows))
    out = decode_rgb(tmp_path / "rgb16.png").astype(int)
    assert np.abs(out - rgb16 / 257.0).max() <= 1.0  # not wrapped or clipped: the full range maps to 0..255
    tifffile = pytest.importorskip("tifffile")
    tifffile.imwrite(tmp_path / "rgb16.tif", rgb16, photometric="rgb")
    out = decode_rgb(tmp_path / "rgb16.tif").astype(int)
    assert np.abs(out - rgb16 / 257.0).max() <= 1.0


def test_transparency_is_composited_on_white(tmp_path):
    rgb = photo(10, 16, 16)
    alpha = np.full((16, 16), 255, np.uint8)
    alpha[:8] = 0
    alpha[8:, :8] = 128
    save(tmp_path / "rgba.png", np.dstack([rgb, alpha]))
    out = decode_rgb(tmp_path / "rgba.png").astype(int)
    assert (out[:8] == 255).all()
    np.testing.assert_array_equal(out[8:, 8:], rgb[8:, 8:])
    half = rgb[8:, :8] * (128 / 255) + 255 * (127 / 255)
    assert np.abs(out[8:, :8] - half).max() <= 1

    index = np.zeros((16, 16), np.uint8)
    index[:, 8:] = 1
    pal = Image.fromarray(index, "P")
    pal.putpalette([10, 200, 30, 200, 20, 40] + [0] * 762)
    pal.save(tmp_path / "palette.png", transparency=0)
    out = decode_rgb(tmp_path / "palette.png")
    assert (out[:, :8] == 255).all() and (out[:, 8:] == [200, 20, 40]).all()


def test_exact_duplicates_are_kept_once(tmp_path):
    rgb = photo(11)
    a = save(tmp_path / "a.png", rgb, compress_level=1)
    b = save(tmp_path / "b.png", rgb, compress_level=9)  # other bytes, same pixels
    c = save(tmp_path / "c.png", photo(12))
    assert a.read_bytes() != b.read_bytes()
    checks = [check_file(p, p.name, 32) for p in (a, b, c)]
    mark_duplicates(checks)
    assert [ch.final_reason for ch in checks] == ["", "duplicate of a.png", ""]
    assert checks[1].array is None


def test_near_duplicates_group_together_whatever_the_order(tmp_path):
    base = photo(13, 96, 96)
    variants = {
        "a.png": base,
        "b.png": np.clip(base.astype(int) + 6, 0, 255).astype(np.uint8),  # brighter copy
        "c.png": np.asarray(Image.fromarray(base).resize((64, 64), Image.Resampling.LANCZOS)),  # smaller copy
        "d.png": photo(14, 96, 96),
        "e.png": photo(15, 96, 96),
    }
    checks = {n: check_file(save(tmp_path / n, v), n, 32) for n, v in variants.items()}
    names = list(variants)
    groups = dict(zip(names, near_duplicate_groups(names, [checks[n].dhash for n in names])))
    assert groups["a.png"] == groups["b.png"] == groups["c.png"] == "a.png"
    assert len({groups["a.png"], groups["d.png"], groups["e.png"]}) == 3
    rev = names[::-1]
    assert dict(zip(rev, near_duplicate_groups(rev, [checks[n].dhash for n in rev]))) == groups


def bundled_folder(folder: Path) -> Path:
    """scikit-image's bundled colour photos, copied into `folder` as a user would have them."""
    import skimage.data

    folder.mkdir(parents=True, exist_ok=True)
    for file in BUNDLED_PHOTOS:
        (folder / file).write_bytes((Path(skimage.data.data_dir) / file).read_bytes())
    return folder


def groups_of(checks: dict[str, FileCheck], scenes: bool = True) -> dict[str, str]:
    names = sorted(checks)
    hashes = [checks[n].dhash for n in names]
    found = near_duplicate_groups(names, hashes, scenes=[checks[n].scene for n in names] if scenes else None)
    return dict(zip(names, found))


def test_the_stereo_pair_joins_in_a_folder_and_no_other_bundled_photos_do(tmp_path):
    folder = bundled_folder(tmp_path / "photos")
    checks = {p.name: check_file(p, p.name, 32) for p in list_images(folder)}
    groups = groups_of(checks)
    assert groups["motorcycle_left.png"] == groups["motorcycle_right.png"] == "motorcycle_left.png"
    others = [n for n in checks if not n.startswith("motorcycle")]
    assert sorted(groups[n] for n in others) == sorted(others)  # each its own group
    # The difference hash alone misses the pair (11 of 64 bits apart): the scene test is what joins it.
    alone = groups_of(checks, scenes=False)
    assert alone["motorcycle_left.png"] != alone["motorcycle_right.png"]


def test_crops_and_resizes_join_their_original(tmp_path):
    import skimage.data

    variants = {}
    for stem in ("chelsea", "coffee", "astronaut"):
        image = Image.open(Path(skimage.data.data_dir) / f"{stem}.png").convert("RGB")
        w, h = image.size
        variants[f"{stem}.png"] = image
        for share in (0.8, 0.7):
            cw, ch = round(w * share), round(h * share)
            left, top = (w - cw) // 2, (h - ch) // 2
            variants[f"{stem}_crop{share:.0%}.png"] = image.crop((left, top, left + cw, top + ch))
        variants[f"{stem}_half.jpg"] = image.resize((w // 2, h // 2), Image.Resampling.LANCZOS)
    checks = {}
    for name, image in variants.items():
        image.save(tmp_path / name, quality=90)
        checks[name] = check_file(tmp_path / name, name, 32)
    groups = groups_of(checks)
    assert {n: g.split("_")[0].removesuffix(".png") for n, g in groups.items()} == {
        n: n.split("_")[0].removesuffix(".png") for n in variants
    }
    assert len(set(groups.values())) == 3
    # Crops move every thumbnail pixel: the difference hash alone joins the resizes but not the crops.
    alone = groups_of(checks, scenes=False)
    assert alone["chelsea_half.jpg"] == alone["chelsea.png"] != alone["chelsea_crop80%.png"]


def test_scene_scores_are_high_only_for_one_scene():
    import skimage.data

    def load(file: str) -> Image.Image:
        return Image.open(Path(skimage.data.data_dir) / file).convert("RGB")

    image = load("coffee.png")
    w, h = image.size
    crop = image.crop((w // 10, h // 10, w - w // 10, h - h // 10))  # the central 80%
    scenes = np.stack([scene_features(p) for p in (image, crop, load("chelsea.png"))])
    scores = scene_scores(scenes)
    assert scores.shape == (3, 3) and np.allclose(np.diag(scores), 1.0, atol=1e-5)
    # The original's central view (its middle 80%) is the whole crop, one of the crop's windows.
    assert scores[0, 1] > 0.95
    assert scores[:2, 2].max() < NEAR_DUPLICATE_CORRELATION and scores[2, :2].max() < NEAR_DUPLICATE_CORRELATION
    assert np.allclose(scene_scores(scenes, slice(1, 3)), scores[1:3], atol=1e-6)


def test_a_flat_photo_correlates_with_nothing():
    flat = Image.new("RGB", (40, 30), (200, 30, 40))
    features = scene_features(flat)
    assert features.shape[0] > 1 and not features.any()
    one_pixel = scene_features(Image.new("RGB", (1, 1), (200, 30, 40)))
    assert one_pixel.shape == features.shape and not one_pixel.any()


def test_list_images_is_recursive_and_case_insensitive(tmp_path):
    for name in ["b.JPG", "a.Png", "sub/c.webp", "sub/deeper/d.BMP", "e.tiff", "f.jpeg", "g.TIF"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    for name in ["notes.txt", ".hidden.jpg", ".git/h.png"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    found = [p.relative_to(tmp_path).as_posix() for p in list_images(tmp_path)]
    assert found == ["a.Png", "b.JPG", "e.tiff", "f.jpeg", "g.TIF", "sub/c.webp", "sub/deeper/d.BMP"]
    with pytest.raises(FileNotFoundError, match="missing"):
        list_images(tmp_path / "missing")


def test_parallel_checks_match_serial_ones(tmp_path):
    paths = [save(tmp_path / f"{i}.png", photo(20 + i)) for i in range(4)]
    (tmp_path / "bad.png").write_text("nope")
    paths.append(tmp_path / "bad.png")
    names = [p.name for p in paths]

    def summary(checks: list[FileCheck]) -> list:
        return [(c.name, c.final_reason, c.pixel_hash, None if c.array is None else c.array.tobytes()) for c in checks]

    assert summary(list(check_files(paths, names, 32, workers=2))) == summary(
        list(check_files(paths, names, 32, workers=1))
    )


def test_reason_code():
    assert reason_code("too-small (300x200 < 512)") == "too-small"
    assert reason_code("duplicate of a/b.jpg") == "duplicate"
    assert reason_code("zero-bytes") == "zero-bytes"
