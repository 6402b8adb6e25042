"""Image-quality metrics on RGB in [0, 1]."""

import torch

from .color import lab_to_rgb, rgb_to_lab


def psnr(pred: torch.Tensor, target: torch.Tensor, eps: float = 0.0) -> torch.Tensor:
    """Per-image PSNR in dB with MAX = 1: (N, 3, H, W) x2 -> (N,).

    Same as `skimage.metrics.peak_signal_noise_ratio(target, pred, data_range=1.0)` per image
    (eps = 0). The paper's appendix form adds eps to the MSE; identical images give +inf with eps = 0.
    """
    if pred.shape != target.shape or pred.dim() != 4:
        raise ValueError(
            f"pred and target must both be (N, 3, H, W); got {tuple(pred.shape)} and {tuple(target.shape)}"
        )
    mse = (pred.double() - target.double()).pow(2).flatten(1).mean(1)
    return 10.0 * torch.log10(1.0 / (mse + eps))


def gray_prediction(rgb: torch.Tensor) -> torch.Tensor:
    """The do-nothing colorization: keep L, set a = b = 0. (N, 3, H, W) -> (N, 3, H, W)."""
    lab = rgb_to_lab(rgb)
    lab[..., 1:, :, :] = 0.0
    return lab_to_rgb(lab)


def colorfulness(rgb: torch.Tensor) -> torch.Tensor:
    """Hasler & Süsstrunk (2003) colourfulness on 0-255 RGB, signed rg/yb variant: (N, 3, H, W) -> (N,)."""
    x = rgb.double() * 255.0
    r, g, b = x.unbind(-3)
    rg = (r - g).flatten(1)
    yb = (0.5 * (r + g) - b).flatten(1)
    std = torch.sqrt(rg.var(1, unbiased=False) + yb.var(1, unbiased=False))
    mean = torch.sqrt(rg.mean(1) ** 2 + yb.mean(1) ** 2)
    return std + 0.3 * mean
