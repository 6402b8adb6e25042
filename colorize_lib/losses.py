"""Training objectives: the paper's alpha-mix of MSE and L1, and class-weighted cross-entropy."""

import torch
import torch.nn.functional as F


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


def weighted_cross_entropy(logits: torch.Tensor, target: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Per-pixel CE (paper eq. 7), weighted by the target's class weight, averaged over pixels.

    logits (B, Q, H, W), target (B, H, W) long, weights (Q,). Dividing by the pixel count (not by the
    weight sum, as F.cross_entropy's 'mean' does) keeps the value comparable across batches. Computed in
    float32 (float64 logits stay float64, for tests). This holds the full logits: the classifier trains
    with `fused_head.fused_weighted_cross_entropy`, its chunked equal.
    """
    per_pixel = F.cross_entropy(logits.to(torch.promote_types(logits.dtype, torch.float32)), target, reduction="none")
    return (per_pixel * weights.to(logits.device)[target]).mean()
