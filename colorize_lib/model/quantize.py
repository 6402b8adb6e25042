"""The AB bin grid of the classification model, defined once.

n = ceil(256 / b) bins per axis over a, b in [-128, 128), centres symmetric about 0:
centre_k = (k - (n - 1) / 2) * b. For b = 10 that is 26 x 26 = 676 bins with centres
-125, -115, ..., 125, the paper's eq. (5); b = 5 gives 2704 bins (as the paper says);
b = 15 gives 18 x 18 = 324 bins, where the paper reports 196 (= 14^2, which would not cover the
range). `reference.PAPER_N_BINS` keeps the paper's figures so that tables can show both.

`in_gamut=True` keeps only the bins some sRGB colour falls in (268 of 676 at b = 10), as Zhang et al.
(2016) do with their 313: the classifier then has that many classes, class k being the k-th kept bin in
grid order, and a colour is encoded to the nearest kept bin. `soft_encode` spreads a colour over its
nearest kept bins (Zhang's soft targets).
"""

import math
from dataclasses import dataclass
from functools import cache, cached_property

import torch

from .color import rgb_to_lab

# Samples per edge of each face of the RGB cube when finding the in-gamut bins. The AB colours of the
# whole cube are those of its surface (a line along L through any point of the gamut meets its
# boundary), and 511 samples (step 1/510) include every 8-bit value of a face. 1.5M colours, ~1 s.
GAMUT_FACE_SAMPLES = 511
# Kept bins examined per pixel by `soft_encode`: the nearest ones to the centre of the pixel's full-grid
# bin. 25 is a 5 x 5 neighbourhood of the grid; the test checks the result against a search over all bins.
SOFT_CANDIDATES = 25


@dataclass(frozen=True)
class ABGrid:
    """Square grid over the AB plane. Indices are `long`, row-major: idx = ia * per_axis + ib."""

    bin_size: int = 10
    in_gamut: bool = False  # keep only the bins sRGB colours reach (see the module docstring)

    def __post_init__(self) -> None:
        if not isinstance(self.bin_size, int) or not 1 <= self.bin_size <= 128:
            raise ValueError(f"bin_size must be an int in [1, 128], got {self.bin_size!r}")
        if not isinstance(self.in_gamut, bool):
            raise TypeError(f"in_gamut must be a bool, got {self.in_gamut!r}")

    @property
    def per_axis(self) -> int:
        return math.ceil(256 / self.bin_size)

    @property
    def n_bins(self) -> int:
        """Number of classes: every grid bin, or the in-gamut ones."""
        return len(self.kept) if self.in_gamut else self.per_axis**2

    @cached_property
    def axis_centres(self) -> torch.Tensor:
        """(per_axis,) float32 centres along one axis, symmetric about 0."""
        k = torch.arange(self.per_axis, dtype=torch.float32)
        return (k - (self.per_axis - 1) / 2) * self.bin_size

    @cached_property
    def grid_centres(self) -> torch.Tensor:
        """(per_axis**2, 2) float32 (a, b) centre of every grid bin, kept or not, in grid order."""
        a, b = torch.meshgrid(self.axis_centres, self.axis_centres, indexing="ij")
        return torch.stack((a.reshape(-1), b.reshape(-1)), dim=1)

    @cached_property
    def kept(self) -> torch.Tensor:
        """(n_bins,) long grid index of each class: all bins, or the in-gamut ones in grid order."""
        if not self.in_gamut:
            return torch.arange(self.per_axis**2)
        return in_gamut_bins(self.bin_size).clone()

    @cached_property
    def centres(self) -> torch.Tensor:
        """(n_bins, 2) float32 (a, b) centre of every class, in index order."""
        return self.grid_centres[self.kept]

    @cached_property
    def _class_of_grid_bin(self) -> torch.Tensor:
        # (per_axis**2,) long: each grid bin's own class if kept, else the class of the kept bin nearest
        # its centre (only colours outside sRGB, or on a bin edge by rounding, land in a dropped bin).
        return torch.cdist(self.grid_centres.double(), self.centres.double()).argmin(dim=1)

    @cached_property
    def _candidates(self) -> torch.Tensor:
        # (per_axis**2, K) long: for each grid bin, the classes whose centres are nearest its centre.
        k = min(SOFT_CANDIDATES, self.n_bins)
        d = torch.cdist(self.grid_centres.double(), self.centres.double())
        return d.topk(k, dim=1, largest=False).indices

    def _axis_index(self, v: torch.Tensor) -> torch.Tensor:
        lo = float(self.axis_centres[0])
        idx = torch.round((v - lo) / self.bin_size).long()
        return idx.clamp_(0, self.per_axis - 1)

    def encode(self, ab: torch.Tensor) -> torch.Tensor:
        """AB (*, 2, H, W), unscaled -> nearest bin index (*, H, W), dtype long."""
        if ab.dim() < 3 or ab.shape[-3] != 2:
            raise ValueError(f"ab must have shape (*, 2, H, W), got {tuple(ab.shape)}")
        ia = self._axis_index(ab[..., 0, :, :])
        ib = self._axis_index(ab[..., 1, :, :])
        idx = ia * self.per_axis + ib
        return self._class_of_grid_bin.to(idx.device)[idx] if self.in_gamut else idx

    def soft_encode(
        self, ab: torch.Tensor, neighbours: int = 5, sigma: float = 5.0, chunk: int = 2**18
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """AB (*, 2, H, W), unscaled -> Zhang et al.'s soft target: the `neighbours` nearest classes of
        each pixel, nearest first, (*, H, W, neighbours) long, and their weights, a Gaussian of the
        distance (`sigma` in AB units) normalised to sum to 1, (*, H, W, neighbours) float32."""
        if ab.dim() < 3 or ab.shape[-3] != 2:
            raise ValueError(f"ab must have shape (*, 2, H, W), got {tuple(ab.shape)}")
        if not isinstance(neighbours, int) or not 1 <= neighbours <= min(SOFT_CANDIDATES, self.n_bins):
            raise ValueError(
                f"neighbours must be an int in [1, {min(SOFT_CANDIDATES, self.n_bins)}], got {neighbours!r}"
            )
        if not sigma > 0:
            raise ValueError(f"sigma must be > 0 (AB units), got {sigma!r}")
        shape = (*ab.shape[:-3], *ab.shape[-2:])
        points = ab.movedim(-3, -1).reshape(-1, 2).float()  # (N, 2)
        cell = self._axis_index(points[:, 0]) * self.per_axis + self._axis_index(points[:, 1])
        candidates = self._candidates.to(ab.device)
        centres = self.centres.to(ab.device)
        idx = torch.empty(len(points), neighbours, dtype=torch.long, device=ab.device)
        weight = torch.empty(len(points), neighbours, dtype=torch.float32, device=ab.device)
        for start in range(0, len(points), chunk):  # bounds the (n, K, 2) gather
            p, c = points[start : start + chunk], candidates[cell[start : start + chunk]]  # (n, 2), (n, K)
            d2 = (centres[c] - p[:, None, :]).square().sum(dim=2)  # (n, K)
            near, pos = d2.topk(neighbours, dim=1, largest=False)  # sorted: nearest first
            idx[start : start + chunk] = c.gather(1, pos)
            # Shift by the nearest distance before exp: the ratio is unchanged and never underflows to 0/0.
            w = torch.exp(-(near - near[:, :1]) / (2.0 * sigma**2))
            weight[start : start + chunk] = w / w.sum(dim=1, keepdim=True)
        return idx.view(*shape, neighbours), weight.view(*shape, neighbours)

    def decode(self, idx: torch.Tensor) -> torch.Tensor:
        """Bin index (*, H, W), long -> AB centres (*, 2, H, W), unscaled."""
        if idx.dtype != torch.long:
            raise TypeError(f"idx must be a long tensor, got {idx.dtype}")
        if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= self.n_bins):
            raise ValueError(f"bin indices must lie in [0, {self.n_bins}), got [{int(idx.min())}, {int(idx.max())}]")
        if self.in_gamut:
            return self.centres.to(idx.device)[idx].movedim(-1, -3)
        centres = self.axis_centres.to(idx.device)
        a = centres[idx // self.per_axis]
        b = centres[idx % self.per_axis]
        return torch.stack((a, b), dim=-3)

    def expected_ab(self, probs: torch.Tensor) -> torch.Tensor:
        """Per-pixel distribution (B, n_bins, H, W) -> mean AB (B, 2, H, W), unscaled."""
        centres = self.centres.to(device=probs.device, dtype=probs.dtype)
        return torch.einsum("bqhw,qc->bchw", probs, centres)


@cache
def in_gamut_bins(bin_size: int) -> torch.Tensor:
    """(K,) long, ascending: the grid bins of `ABGrid(bin_size)` that some sRGB colour falls in, found
    from the six faces of the RGB cube through `color.rgb_to_lab`. Computed once per bin size."""
    grid = ABGrid(bin_size)
    v = torch.linspace(0.0, 1.0, GAMUT_FACE_SAMPLES, dtype=torch.float64)
    u, w = (t.reshape(-1) for t in torch.meshgrid(v, v, indexing="ij"))
    faces = []
    for level in (0.0, 1.0):
        k = torch.full_like(u, level)
        faces += [torch.stack((k, u, w)), torch.stack((u, k, w)), torch.stack((u, w, k))]
    rgb = torch.cat(faces, dim=1).reshape(1, 3, -1, 1)  # (1, 3, 6 * S^2, 1)
    idx = grid.encode(rgb_to_lab(rgb)[:, 1:])
    return idx.unique()
