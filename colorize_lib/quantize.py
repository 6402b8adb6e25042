"""The AB bin grid of the classification model, defined once.

n = ceil(256 / b) bins per axis over a, b in [-128, 128), centres symmetric about 0:
centre_k = (k - (n - 1) / 2) * b. For b = 10 that is 26 x 26 = 676 bins with centres
-125, -115, ..., 125, the paper's eq. (5); b = 5 gives 2704 bins (as the paper says);
b = 15 gives 18 x 18 = 324 bins, where the paper reports 196 (= 14^2, which would not cover the
range). `PAPER_N_BINS` keeps the paper's figures so that tables can show both.
"""

import math
from dataclasses import dataclass
from functools import cached_property

import torch

# The paper's reported class counts (section 5.3), shown beside ours in the bin ablation.
PAPER_N_BINS = {5: 2704, 10: 676, 15: 196}


@dataclass(frozen=True)
class ABGrid:
    """Square grid over the AB plane. Indices are `long`, row-major: idx = ia * per_axis + ib."""

    bin_size: int = 10

    def __post_init__(self) -> None:
        if not isinstance(self.bin_size, int) or not 1 <= self.bin_size <= 128:
            raise ValueError(f"bin_size must be an int in [1, 128], got {self.bin_size!r}")

    @property
    def per_axis(self) -> int:
        return math.ceil(256 / self.bin_size)

    @property
    def n_bins(self) -> int:
        return self.per_axis**2

    @cached_property
    def axis_centres(self) -> torch.Tensor:
        """(per_axis,) float32 centres along one axis, symmetric about 0."""
        k = torch.arange(self.per_axis, dtype=torch.float32)
        return (k - (self.per_axis - 1) / 2) * self.bin_size

    @cached_property
    def centres(self) -> torch.Tensor:
        """(n_bins, 2) float32 (a, b) centre of every bin, in index order."""
        a, b = torch.meshgrid(self.axis_centres, self.axis_centres, indexing="ij")
        return torch.stack((a.reshape(-1), b.reshape(-1)), dim=1)

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
        return ia * self.per_axis + ib

    def decode(self, idx: torch.Tensor) -> torch.Tensor:
        """Bin index (*, H, W), long -> AB centres (*, 2, H, W), unscaled."""
        if idx.dtype != torch.long:
            raise TypeError(f"idx must be a long tensor, got {idx.dtype}")
        if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= self.n_bins):
            raise ValueError(f"bin indices must lie in [0, {self.n_bins}), got [{int(idx.min())}, {int(idx.max())}]")
        centres = self.axis_centres.to(idx.device)
        a = centres[idx // self.per_axis]
        b = centres[idx % self.per_axis]
        return torch.stack((a, b), dim=-3)

    def expected_ab(self, probs: torch.Tensor) -> torch.Tensor:
        """Per-pixel distribution (B, n_bins, H, W) -> mean AB (B, 2, H, W), unscaled."""
        centres = self.centres.to(device=probs.device, dtype=probs.dtype)
        return torch.einsum("bqhw,qc->bchw", probs, centres)
