import numpy as np
import pytest
import torch
from skimage import color as skcolor

from colorize_lib.model.color import AB_SCALE, L_SCALE, join_lab, lab_to_rgb, rgb_to_lab, split_lab


def _random_rgb(seed=0, shape=(4, 3, 16, 16)):
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_rgb_to_lab_matches_skimage():
    rgb = _random_rgb()
    ours = rgb_to_lab(rgb)
    theirs = np.stack([skcolor.rgb2lab(im.permute(1, 2, 0).numpy()) for im in rgb]).transpose(0, 3, 1, 2)
    assert np.abs(ours.numpy() - theirs).max() < 1e-3


def test_lab_to_rgb_matches_skimage_on_in_gamut_colours():
    lab = rgb_to_lab(_random_rgb(1))
    ours = lab_to_rgb(lab)
    theirs = np.stack([skcolor.lab2rgb(im.permute(1, 2, 0).numpy()) for im in lab]).transpose(0, 3, 1, 2)
    assert np.abs(ours.numpy() - theirs).max() < 1e-3


def test_round_trip_float32_and_any_leading_shape():
    rgb = _random_rgb(2, (2, 3, 3, 8, 8)).float()
    back = lab_to_rgb(rgb_to_lab(rgb))
    assert back.shape == rgb.shape and back.dtype == torch.float32
    assert (back - rgb).abs().max() < 1e-4


def test_known_values():
    white = torch.ones(1, 3, 1, 1, dtype=torch.float64)
    black = torch.zeros(1, 3, 1, 1, dtype=torch.float64)
    assert torch.allclose(rgb_to_lab(white).flatten(), torch.tensor([100.0, 0.0, 0.0], dtype=torch.float64), atol=1e-2)
    assert torch.allclose(rgb_to_lab(black).flatten(), torch.zeros(3, dtype=torch.float64), atol=1e-6)


def test_paper_normalisation_ranges():
    x, ab = split_lab(_random_rgb(3).float())
    assert x.shape[1] == 1 and ab.shape[1] == 2
    assert 0 <= x.min() and x.max() <= 1
    assert -1 <= ab.min() and ab.max() <= 1
    assert L_SCALE == 100.0 and AB_SCALE == 128.0
    assert torch.allclose(join_lab(x, ab), _random_rgb(3).float(), atol=1e-4)


def test_gradcheck_float64():
    rgb = (_random_rgb(4, (1, 3, 3, 3)) * 0.8 + 0.1).requires_grad_()
    assert torch.autograd.gradcheck(rgb_to_lab, (rgb,))
    lab = rgb_to_lab(rgb.detach()).requires_grad_()
    assert torch.autograd.gradcheck(lab_to_rgb, (lab,))


@pytest.mark.parametrize(
    "bad, err",
    [
        (torch.rand(3, 4), ValueError),
        (torch.rand(2, 4, 8, 8), ValueError),
        (torch.zeros(1, 3, 2, 2, dtype=torch.uint8), TypeError),
        (np.zeros((3, 2, 2)), TypeError),
    ],
)
def test_bad_input_is_refused(bad, err):
    with pytest.raises(err, match="rgb"):
        rgb_to_lab(bad)
