import math

import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio

from colorize_lib.model.color import rgb_to_lab
from colorize_lib.model.losses import class_weights, mixed_loss, weighted_cross_entropy
from colorize_lib.model.metrics import colorfulness, gray_prediction, psnr
from colorize_lib.model.quantize import ABGrid


def test_psnr_matches_skimage_per_image():
    g = torch.Generator().manual_seed(0)
    a, b = torch.rand(3, 3, 8, 8, generator=g), torch.rand(3, 3, 8, 8, generator=g)
    ours = psnr(a, b)
    assert ours.shape == (3,)
    for i in range(3):
        ref = peak_signal_noise_ratio(b[i].numpy(), a[i].numpy(), data_range=1.0)
        assert ours[i].item() == pytest.approx(ref, abs=1e-4)


def test_psnr_shape_mismatch():
    with pytest.raises(ValueError, match="pred and target"):
        psnr(torch.rand(1, 3, 4, 4), torch.rand(1, 3, 4, 5))


def test_gray_prediction_keeps_l_and_zeroes_ab():
    rgb = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    lab_gray = rgb_to_lab(gray_prediction(rgb))
    assert torch.allclose(lab_gray[:, 0], rgb_to_lab(rgb)[:, 0], atol=1e-3)
    assert lab_gray[:, 1:].abs().max() < 1e-3


def test_colorfulness_zero_for_gray_and_positive_for_colour():
    gray = torch.full((1, 3, 4, 4), 0.5)
    red = torch.zeros(1, 3, 4, 4)
    red[:, 0] = 1
    assert colorfulness(gray).item() == pytest.approx(0.0)
    assert colorfulness(red).item() > 50


@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
def test_mixed_loss_is_the_alpha_blend(alpha):
    p, t = torch.zeros(1, 1, 2, 2), torch.full((1, 1, 2, 2), 0.5)
    assert mixed_loss(p, t, alpha).item() == pytest.approx(alpha * 0.25 + (1 - alpha) * 0.5)


def test_class_weights_finite_with_empty_bins_and_normalised():
    idx = torch.tensor([0, 0, 0, 0, 0, 0, 1, 1, 3])  # bins 2 and 4.. never used
    freq = torch.bincount(idx, minlength=10).double() / len(idx)
    for mix in (0.0, 0.5, 1.0):
        w = class_weights(freq, mix)
        assert torch.isfinite(w).all()
        assert (w[freq == 0] == 0).all()
        assert float((freq * w.double()).sum()) == pytest.approx(1.0, abs=1e-6)
    w = class_weights(freq, 0.0)
    assert w[3] > w[1] > w[0]  # rarer bins weigh more
    with pytest.raises(ValueError, match="all zero"):
        class_weights(torch.zeros(5, dtype=torch.float64))


def test_weighted_cross_entropy_uses_target_weights():
    logits = torch.zeros(1, 3, 1, 2)  # uniform: CE = log 3 everywhere
    target = torch.tensor([[[0, 2]]])
    w = torch.tensor([1.0, 0.0, 3.0])
    assert weighted_cross_entropy(logits, target, w).item() == pytest.approx(np.log(3) * (1 + 3) / 2, rel=1e-5)


def test_ab_frequencies_count_every_pixel_in_its_nearest_bin():
    from skimage.color import rgb2lab

    from colorize_lib.model.losses import ab_frequencies
    from colorize_lib.model.quantize import ABGrid

    images = torch.randint(0, 256, (3, 3, 16, 16), generator=torch.Generator().manual_seed(5), dtype=torch.uint8)
    freq = ab_frequencies(images, ABGrid(10), resolution=16, batch=2)
    lab = np.stack([rgb2lab(im.permute(1, 2, 0).numpy() / 255.0) for im in images])
    ia, ib = (np.clip(np.round((lab[..., k] + 125) / 10), 0, 25).astype(int) for k in (1, 2))
    want = np.bincount((ia * 26 + ib).ravel(), minlength=676) / ia.size
    np.testing.assert_allclose(freq.numpy(), want, atol=1e-12)


def test_smoothed_prior_keeps_mass_and_spreads_to_neighbours():
    from colorize_lib.model.losses import smooth_prior

    grid = ABGrid(10, in_gamut=True)
    freq = torch.zeros(grid.n_bins, dtype=torch.float64)
    one = int(grid.encode(torch.zeros(1, 2, 1, 1)))  # the neutral bin (0, 0)
    freq[one] = 1.0
    assert torch.equal(smooth_prior(freq, grid.centres, 0.0), freq)
    smooth = smooth_prior(freq, grid.centres, 5.0)
    assert float(smooth.sum()) == pytest.approx(1.0)
    d = (grid.centres - grid.centres[one]).norm(dim=1).double()
    # Gaussian of the distance (sigma 5), cut at 4 sigma: the four 10-unit neighbours get e^-2 of the centre.
    assert float(smooth[d == 10].max() / smooth[one]) == pytest.approx(math.exp(-2.0))
    assert torch.equal(smooth > 0, d <= 20)


def test_field_task_trains_on_soft_targets_with_weights_from_the_smoothed_prior():
    from colorize_lib.engine.config import field_classifier_config
    from colorize_lib.engine.tasks import Task
    from colorize_lib.model.models import get_model

    task = Task(field_classifier_config("smoke"))
    assert task.grid.n_bins == len(ABGrid(10, in_gamut=True).centres)
    torch.manual_seed(0)
    rgb = torch.rand(2, 3, 16, 16)
    freq = torch.bincount(task.grid.encode(rgb_to_lab(rgb)[:, 1:]).reshape(-1), minlength=task.grid.n_bins).double()
    weights = task.set_frequencies(freq / freq.sum())
    assert int((weights > 0).sum()) > int((freq > 0).sum())  # the smoothed prior reaches unseen neighbours
    x, (index, mass) = task.inputs_targets(rgb)
    assert index.shape == mass.shape == (2, 16, 16, 5)
    model = get_model("unet_classif", **task.model_kwargs())
    features = model(x)
    reference = task.loss(model.out(features), (index, mass))  # full logits, dense target
    fused = task.attach(model).loss(features, (index, mass))
    assert float(fused.detach()) == pytest.approx(float(reference.detach()), rel=1e-5)
