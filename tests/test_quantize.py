import pytest
import torch

from colorize_lib.quantize import ABGrid, PAPER_N_BINS


def test_paper_grid_has_676_bins_with_paper_centres():
    grid = ABGrid(10)
    assert grid.n_bins == 676 and isinstance(grid.n_bins, int)
    assert grid.axis_centres[0] == -125 and grid.axis_centres[-1] == 125
    assert torch.all(grid.axis_centres.diff() == 10)


@pytest.mark.parametrize("b, n", [(5, 2704), (10, 676), (15, 324)])
def test_bin_counts(b, n):
    assert ABGrid(b).n_bins == n
    assert PAPER_N_BINS[b] == (196 if b == 15 else n)  # the paper's 196 is kept beside ours


@pytest.mark.parametrize("b", [5, 10, 15])
def test_decode_encode_round_trip_is_exact_on_centres(b):
    grid = ABGrid(b)
    idx = torch.arange(grid.n_bins).view(1, -1, 1)  # (1, Q, 1) as (*, H, W)
    ab = grid.decode(idx)
    assert ab.shape == (1, 2, grid.n_bins, 1)
    assert torch.equal(grid.encode(ab), idx)
    # b varies along the second axis: the decoder does not drop a channel (colorization-pytorch #14).
    assert ab[0, 1].unique().numel() == grid.per_axis and ab[0, 0].unique().numel() == grid.per_axis


def test_encode_picks_nearest_bin_and_clamps():
    grid = ABGrid(10)
    ab = torch.tensor([[[[-128.0, 4.9, 5.1, 127.0]], [[0.0, -3.0, 130.0, -200.0]]]])  # (1, 2, 1, 4)
    idx = grid.encode(ab)
    assert idx.dtype == torch.long
    back = grid.decode(idx)[0, :, 0]
    assert back[0].tolist() == [-125.0, 5.0, 5.0, 125.0]
    assert back[1].tolist() == [-5.0, -5.0, 125.0, -125.0]


def test_expected_ab_of_one_hot_is_centre():
    grid = ABGrid(10)
    probs = torch.zeros(1, grid.n_bins, 1, 1)
    probs[0, 300] = 1.0
    assert torch.allclose(grid.expected_ab(probs)[0, :, 0, 0], grid.centres[300])


def test_bad_arguments():
    with pytest.raises(ValueError, match="bin_size"):
        ABGrid(0)
    with pytest.raises(TypeError, match="long"):
        ABGrid(10).decode(torch.zeros(2, 2))
    with pytest.raises(ValueError, match="676"):
        ABGrid(10).decode(torch.full((1, 1), 676))
    with pytest.raises(ValueError, match="ab"):
        ABGrid(10).encode(torch.zeros(1, 3, 4, 4))
