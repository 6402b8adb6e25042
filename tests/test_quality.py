import functools

import numpy as np
import pytest
import torch
from skimage import data
from skimage.color import deltaE_ciede2000, rgb2lab
from skimage.metrics import structural_similarity
from skimage.transform import resize

from colorize_lib.model.color import rgb_to_lab
from colorize_lib.model.metrics import colorfulness, gray_prediction, psnr
from colorize_lib.scoring.quality import (
    AUC_MAX_THRESHOLD,
    METRIC_NAMES,
    ab_auc,
    ciede2000,
    colorfulness_gap,
    delta_e00,
    image_metrics,
    ssim,
)


@functools.cache
def _resized(h: int, w: int) -> np.ndarray:
    # Reading and antialiasing the three full-size photos is most of a test's time: once per size.
    return np.stack(
        [resize(getattr(data, name)(), (h, w), anti_aliasing=True) for name in ("astronaut", "chelsea", "coffee")]
    )


def _photos(h: int = 36, w: int = 44) -> torch.Tensor:
    """Three real photos, resized small: (3, 3, h, w) float64 in [0, 1]."""
    return torch.tensor(_resized(h, w)).permute(0, 3, 1, 2).clamp(0, 1)


def _predictions(truth: torch.Tensor) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(3)
    blurred = torch.nn.functional.avg_pool2d(truth, 5, stride=1, padding=2, count_include_pad=False)
    return {
        "gray": gray_prediction(truth),
        "blurred": blurred,
        "noisy": (truth + 0.08 * torch.randn(truth.shape, generator=g, dtype=truth.dtype)).clamp(0, 1),
        "random": torch.rand(truth.shape, generator=g, dtype=truth.dtype),
    }


def _hwc(x: torch.Tensor) -> np.ndarray:
    return x.permute(1, 2, 0).double().numpy()


@pytest.mark.parametrize("kind", ["gray", "blurred", "noisy", "random"])
def test_ssim_and_delta_e_match_skimage_on_photos(kind):
    truth = _photos()
    pred = _predictions(truth)[kind]
    ours_ssim, ours_de = ssim(pred, truth), delta_e00(pred, truth)
    assert ours_ssim.shape == ours_de.shape == (3,)
    for i in range(3):
        p, t = _hwc(pred[i]), _hwc(truth[i])
        ref_ssim = structural_similarity(p, t, data_range=1.0, channel_axis=-1)
        ref_de = deltaE_ciede2000(rgb2lab(p), rgb2lab(t), channel_axis=-1).mean()
        assert ours_ssim[i].item() == pytest.approx(ref_ssim, abs=1e-3)
        assert ours_de[i].item() == pytest.approx(ref_de, abs=1e-2)


@pytest.mark.parametrize("shape", [(2, 3, 7, 7), (3, 3, 9, 13), (1, 3, 16, 16)])
@pytest.mark.parametrize("contrast", [1.0, 0.03])
def test_ssim_matches_skimage_on_random_float32_images(shape, contrast):
    # Low contrast puts the local variances near SSIM's constant C2, where the covariance
    # normalisation (sample vs population) shows; at full contrast it nearly cancels.
    g = torch.Generator().manual_seed(sum(shape))
    a, b = torch.rand(shape, generator=g), torch.rand(shape, generator=g)
    a, b = 0.5 + contrast * (a - 0.5), 0.5 + contrast * (0.5 * a + 0.5 * b - 0.5)  # correlated pair
    ours = ssim(a, b)
    assert ours.dtype == torch.float64
    for i in range(shape[0]):
        ref = structural_similarity(_hwc(a[i]), _hwc(b[i]), data_range=1.0, channel_axis=-1)
        assert ours[i].item() == pytest.approx(ref, abs=1e-6)


def test_delta_e_matches_skimage_on_random_colours_including_neutrals():
    g = torch.Generator().manual_seed(7)
    a = torch.rand(2, 3, 8, 8, generator=g, dtype=torch.float64)
    b = torch.rand(2, 3, 8, 8, generator=g, dtype=torch.float64)
    a[:, :, :2] = a[:, :1, :2]  # exact grays: zero chroma takes the achromatic branches
    b[:, :, 1:3] = b[:, 2:3, 1:3]
    ours = delta_e00(a, b)
    for i in range(2):
        ref = deltaE_ciede2000(rgb2lab(_hwc(a[i])), rgb2lab(_hwc(b[i])), channel_axis=-1).mean()
        assert ours[i].item() == pytest.approx(ref, abs=1e-2)


def test_ciede2000_matches_skimage_per_pixel_over_all_hues_and_neutrals():
    g = torch.Generator().manual_seed(11)
    lab = [
        torch.rand(3, 20, 20, generator=g, dtype=torch.float64) * torch.tensor([100.0, 256, 256]).view(3, 1, 1)
        - torch.tensor([0.0, 128, 128]).view(3, 1, 1)
        for _ in range(2)
    ]
    lab[0][1:, :3] = 0  # exactly neutral pixels on one side, and on both
    lab[1][1:, 2:5] = 0
    ref = deltaE_ciede2000(lab[0].permute(1, 2, 0).numpy(), lab[1].permute(1, 2, 0).numpy(), channel_axis=-1)
    np.testing.assert_allclose(ciede2000(lab[0], lab[1]).numpy(), ref, atol=1e-9)


def test_identical_images_score_perfectly():
    truth = _photos(16, 16)
    assert torch.allclose(ssim(truth, truth), torch.ones(3, dtype=torch.float64))
    assert delta_e00(truth, truth).abs().max() < 1e-6
    assert torch.equal(ab_auc(truth, truth), torch.ones(3, dtype=torch.float64))
    assert colorfulness_gap(truth, truth).abs().max() == 0


def test_colorfulness_gap_is_the_absolute_difference_and_symmetric():
    truth = _photos(16, 16)
    gray = gray_prediction(truth)
    gap = colorfulness_gap(gray, truth)
    assert torch.allclose(gap, (colorfulness(gray) - colorfulness(truth)).abs())
    assert torch.allclose(gap, colorfulness_gap(truth, gray))
    assert (gap > 10).all()  # the photos are colourful; gray is not


def _auc_brute_force(pred: torch.Tensor, truth: torch.Tensor) -> np.ndarray:
    """Every pixel against every threshold, then numpy's trapezoid: the definition, written out."""
    lp, lt = rgb_to_lab(pred.double()).numpy(), rgb_to_lab(truth.double()).numpy()
    err = np.sqrt(((lp[:, 1:] - lt[:, 1:]) ** 2).sum(1)).reshape(len(pred), -1)
    t = np.arange(AUC_MAX_THRESHOLD + 1)
    curve = (err[:, :, None] <= t).mean(1)
    return np.trapezoid(curve, t, axis=1) / AUC_MAX_THRESHOLD


@pytest.mark.parametrize("kind", ["gray", "blurred", "noisy", "random"])
def test_auc_matches_the_definition(kind):
    truth = _photos(12, 10)
    pred = _predictions(truth)[kind]
    np.testing.assert_allclose(ab_auc(pred, truth).numpy(), _auc_brute_force(pred, truth), atol=1e-12)


def test_auc_is_close_to_one_minus_the_mean_clipped_error():
    # The continuous area under a CDF over [0, 150] is 150 - E[min(err, 150)]; the trapezoid over
    # integer thresholds is within half a step of it.
    truth = _photos(12, 10)
    pred = _predictions(truth)["random"]
    lp, lt = rgb_to_lab(pred), rgb_to_lab(truth)
    err = (lp[:, 1:] - lt[:, 1:]).pow(2).sum(1).sqrt().clamp(max=AUC_MAX_THRESHOLD).flatten(1)
    continuous = 1 - err.mean(1) / AUC_MAX_THRESHOLD
    assert (ab_auc(pred, truth) - continuous).abs().max() <= 0.5 / AUC_MAX_THRESHOLD + 1e-12


def test_auc_orders_predictions_by_colour_error():
    truth = _photos(16, 16)
    preds = _predictions(truth)
    assert (ab_auc(preds["blurred"], truth) > ab_auc(preds["gray"], truth)).all()
    assert ((0 <= ab_auc(preds["random"], truth)) & (ab_auc(preds["random"], truth) < 1)).all()


def test_image_metrics_gives_every_metric_per_image_for_the_gray_row():
    truth = _photos(16, 20).float()
    gray = gray_prediction(truth)
    out = image_metrics(gray, truth)
    assert tuple(out) == METRIC_NAMES
    for name, v in out.items():
        assert v.shape == (3,) and v.dtype == torch.float64 and torch.isfinite(v).all(), name
    assert torch.allclose(out["psnr"], psnr(gray, truth))
    assert torch.allclose(out["ssim"], ssim(gray, truth))
    assert torch.allclose(out["auc"], ab_auc(gray, truth))
    assert torch.allclose(out["colorfulness"], colorfulness(gray))


def test_image_metrics_is_the_same_in_small_batches():
    truth = _photos(16, 16)
    pred = _predictions(truth)["noisy"]
    whole, chunked = image_metrics(pred, truth), image_metrics(pred, truth, batch_size=2)
    for name in METRIC_NAMES:
        torch.testing.assert_close(chunked[name], whole[name], rtol=0, atol=1e-12)


def test_bad_inputs_name_the_problem():
    with pytest.raises(ValueError, match="pred must be an RGB batch"):
        ssim(torch.rand(3, 8, 8), torch.rand(3, 8, 8))
    with pytest.raises(ValueError, match="truth must be an RGB batch"):
        delta_e00(torch.rand(1, 3, 8, 8), torch.rand(1, 1, 8, 8))
    with pytest.raises(ValueError, match="same shape"):
        ab_auc(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 9))
    with pytest.raises(ValueError, match="at least 7x7"):
        ssim(torch.rand(1, 3, 6, 20), torch.rand(1, 3, 6, 20))
    with pytest.raises(ValueError, match="batch_size"):
        image_metrics(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8), batch_size=0)
