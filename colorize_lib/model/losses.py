"""Training objectives: the paper's alpha-mix of MSE and L1, class-weighted cross-entropy against hard or
soft targets, and the class weights: from the training pixels' bin frequencies (`ab_frequencies`),
optionally smoothed first, as Zhang et al. 2016."""

import torch
import torch.nn.functional as F

from ..data.crops import test_views
from .color import rgb_to_lab
from .quantize import ABGrid


def mixed_loss(pred: torch.Tensor, target: torch.Tensor, alpha: float) -> torch.Tensor:
    """alpha * MSE + (1 - alpha) * L1 (paper eq. 4), both means over all elements."""
    return alpha * F.mse_loss(pred, target) + (1.0 - alpha) * F.l1_loss(pred, target)


def class_weights(freq: torch.Tensor, mix: float = 0.5) -> torch.Tensor:
    """Rebalancing weights w ∝ ((1 - mix) p + mix / Q)^-1, normalised so that E_p[w] = 1.

    Q counts the bins that occur at all: only ~270 of 676 AB bins are reachable from sRGB, and a
    plain 1/p would be infinite on the others. Bins never seen get weight 0 (no target lands there).
    mix = 0 is plain inverse frequency over the seen bins; the paper does not state its formula,
    Zhang et al. (2016) use mix = 0.5.
    """
    if not 0.0 <= mix <= 1.0:
        raise ValueError(f"class weight mix must lie in [0, 1], got {mix}")
    seen = freq > 0
    q = int(seen.sum())
    if q == 0:
        raise ValueError("bin frequencies are all zero: no training pixels were counted")
    w = torch.zeros_like(freq)
    w[seen] = 1.0 / ((1.0 - mix) * freq[seen] + mix / q)
    w = w / (freq * w).sum()
    return w.float()


# Gaussian kernels are cut at this many sigmas, as scipy.ndimage.gaussian_filter's default `truncate`
# (Zhang et al. smooth their prior with it): beyond it a bin gets nothing, not float64 underflow.
KERNEL_TRUNCATE = 4.0


def smooth_prior(freq: torch.Tensor, centres: torch.Tensor, sigma: float) -> torch.Tensor:
    """Bin frequencies (Q,) spread by a Gaussian of `sigma` AB units over the bin centres (Q, 2), each
    bin's mass shared among the bins within 4 sigma of it, so the total stays 1. sigma = 0: unchanged.
    Over a full square grid away from its edges this is a 2-D Gaussian filter of the histogram."""
    if not sigma >= 0:
        raise ValueError(f"prior smoothing sigma must be >= 0 (AB units), got {sigma}")
    if freq.shape != (len(centres),):
        raise ValueError(
            f"freq must have shape (Q,) = ({len(centres)},) to match the bin centres, got {tuple(freq.shape)}"
        )
    if sigma == 0:
        return freq
    d2 = torch.cdist(centres.double(), centres.double()).square()  # (Q, Q)
    kernel = torch.exp(-d2 / (2.0 * sigma**2)) * (d2 <= (KERNEL_TRUNCATE * sigma) ** 2)
    kernel = kernel / kernel.sum(dim=1, keepdim=True)  # row i: where bin i's mass goes
    return (freq.double() @ kernel).to(freq.dtype)


def soft_weighted_cross_entropy(
    logits: torch.Tensor, index: torch.Tensor, mass: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """Cross-entropy against a soft target given sparsely -- `index` (B, H, W, K) bins, nearest first, and
    `mass` (B, H, W, K) summing to 1 per pixel -- weighted by the class weight of the nearest bin,
    averaged over pixels. The reference for the fused loss: it builds the dense (B, Q, H, W) target."""
    logits = logits.to(torch.promote_types(logits.dtype, torch.float32))
    target = torch.zeros_like(logits.movedim(1, -1)).scatter_add_(-1, index, mass.to(logits.dtype))
    per_pixel = -(target.movedim(-1, 1) * torch.log_softmax(logits, dim=1)).sum(dim=1)  # (B, H, W)
    return (per_pixel * weights.to(logits.device)[index[..., 0]]).mean()


def weighted_cross_entropy(logits: torch.Tensor, target: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Per-pixel CE (paper eq. 7), weighted by the target's class weight, averaged over pixels.

    logits (B, Q, H, W), target (B, H, W) long, weights (Q,). Dividing by the pixel count (not by the
    weight sum, as F.cross_entropy's 'mean' does) keeps the value comparable across batches. Computed in
    float32 (float64 logits stay float64, for tests). This holds the full logits: the classifier trains
    with `fused_head.fused_weighted_cross_entropy`, its chunked equal.
    """
    per_pixel = F.cross_entropy(logits.to(torch.promote_types(logits.dtype, torch.float32)), target, reduction="none")
    return (per_pixel * weights.to(logits.device)[target]).mean()


def ab_frequencies(images: torch.Tensor, grid: ABGrid, resolution: int, batch: int = 64) -> torch.Tensor:
    """Share of pixels in each AB bin (n_bins,) float64 over photos (N, 3, S, S) uint8 at `resolution`,
    counted on the photos' device a chunk at a time. The classifier's class weights are made from
    exactly these frequencies (`train.build`), so notebook 01 shows what notebook 05 trains with."""
    counts = torch.zeros(grid.n_bins, dtype=torch.float64)
    for i in range(0, len(images), batch):
        rgb = test_views(images[i : i + batch], resolution, 1)
        idx = grid.encode(rgb_to_lab(rgb)[:, 1:]).reshape(-1)
        counts += torch.bincount(idx, minlength=grid.n_bins).cpu().double()
    return counts / counts.sum().clamp(min=1.0)
