import pytest
import torch

from colorize_lib.model.color import rgb_to_lab
from colorize_lib.model.quantize import ABGrid
from colorize_lib.reference import PAPER_N_BINS


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


def _bins_hit(grid: ABGrid, rgb: torch.Tensor) -> torch.Tensor:
    """Full-grid bins that RGB colours (3, N) fall in, as a sorted long tensor."""
    return ABGrid(grid.bin_size).encode(rgb_to_lab(rgb.reshape(1, 3, -1, 1))[:, 1:]).unique()


def test_in_gamut_grid_keeps_the_bins_srgb_reaches():
    grid = ABGrid(10, in_gamut=True)
    assert isinstance(grid.n_bins, int) and 260 <= grid.n_bins <= 270
    v = torch.linspace(0, 1, 64, dtype=torch.float64)
    dense = torch.stack(torch.meshgrid(v, v, v, indexing="ij")).reshape(3, -1)  # 64^3 colours
    assert set(_bins_hit(grid, dense).tolist()) <= set(grid.kept.tolist())
    # No kept bin is unreachable: every one holds an 8-bit colour of the cube's faces (a sampling
    # coarser than, and independent in rounding from, the one the kept set was built from).
    e = torch.arange(256, dtype=torch.float64) / 255
    u, w = (t.reshape(-1) for t in torch.meshgrid(e, e, indexing="ij"))
    faces = [
        torch.stack(p)
        for level in (0.0, 1.0)
        for k in [torch.full_like(u, level)]
        for p in ((k, u, w), (u, k, w), (u, w, k))
    ]
    assert torch.equal(_bins_hit(grid, torch.cat(faces, dim=1)), grid.kept)


def test_in_gamut_round_trip_and_nearest_kept_bin():
    grid = ABGrid(10, in_gamut=True)
    idx = torch.arange(grid.n_bins).view(1, -1, 1)
    assert torch.equal(grid.encode(grid.decode(idx)), idx)
    assert torch.equal(grid.decode(idx)[0, :, :, 0].t(), grid.centres)
    # A colour outside sRGB goes to the nearest kept bin centre.
    ab = torch.tensor([[[[120.0, -120.0, 3.0]], [[-120.0, 120.0, -2.0]]]])
    got = grid.decode(grid.encode(ab))[0, :, 0].t()  # (3, 2)
    want = grid.centres[torch.cdist(ab[0, :, 0].t(), grid.centres).argmin(dim=1)]
    assert torch.equal(got, want)


@pytest.mark.parametrize("in_gamut", [False, True])
def test_soft_targets_spread_over_the_five_nearest_bins(in_gamut):
    grid = ABGrid(10, in_gamut=in_gamut)
    torch.manual_seed(0)
    rgb = torch.rand(2, 3, 40, 50)
    ab = rgb_to_lab(rgb)[:, 1:]
    idx, weight = grid.soft_encode(ab, neighbours=5, sigma=5.0)
    assert idx.shape == weight.shape == (2, 40, 50, 5) and idx.dtype == torch.long
    assert torch.allclose(weight.sum(-1), torch.ones(2, 40, 50))
    assert (weight > 0).all() and (idx.sort(-1).values.diff(dim=-1) > 0).all()  # 5 distinct non-zero entries
    assert torch.equal(weight.argmax(-1), torch.zeros(2, 40, 50, dtype=torch.long))
    assert torch.equal(idx[..., 0], grid.encode(ab))
    # Against a search over every class: the same five nearest, the Gaussian of their distances.
    d2 = torch.cdist(ab.movedim(1, -1).reshape(-1, 2).double(), grid.centres.double()).square()
    near, brute = d2.topk(5, dim=1, largest=False)
    assert torch.equal(idx.reshape(-1, 5).sort(-1).values, brute.sort(-1).values)
    w = torch.exp(-near / 50.0)
    assert torch.allclose(weight.reshape(-1, 5).double(), w / w.sum(1, keepdim=True), atol=1e-6)
