"""Per-image quality metrics beyond PSNR, in torch: SSIM, CIEDE2000, colourfulness gap, AuC.

Every function takes RGB batches (N, 3, H, W) in [0, 1] on any device and returns (N,) float64
on that device. They are evaluation metrics, computed in float64 so they agree with scikit-image
(which works in float64) rather than differentiable training losses.
"""

import math

import torch
import torch.nn.functional as F

from ..model.color import rgb_to_lab
from ..model.metrics import colorfulness, psnr

# SSIM as scikit-image computes it by default: a 7x7 uniform window, K1 = 0.01, K2 = 0.03,
# sample (n - 1) covariance, and the mean taken only where the window fits inside the image.
SSIM_WINDOW = 7
_SSIM_K1, _SSIM_K2 = 0.01, 0.03

# Zhang et al. (2016) sweep the AB error threshold over 0..150 in steps of 1.
AUC_MAX_THRESHOLD = 150

# What image_metrics returns, in this order.
METRIC_NAMES = ("psnr", "ssim", "deltaE00", "colorfulness", "colorfulness_gap", "auc")


def _check_pair(pred: torch.Tensor, truth: torch.Tensor) -> None:
    for name, x in (("pred", pred), ("truth", truth)):
        if not isinstance(x, torch.Tensor) or x.dim() != 4 or x.shape[1] != 3:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"{name} must be an RGB batch of shape (N, 3, H, W), got {shape}")
    if pred.shape != truth.shape:
        raise ValueError(f"pred and truth must have the same shape; got {tuple(pred.shape)} and {tuple(truth.shape)}")


def _float64(x: torch.Tensor) -> torch.Tensor:
    # MPS has no float64; there float32 is the best available and agreement with skimage is looser.
    return x.float() if x.device.type == "mps" else x.double()


def ssim(pred: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """Mean SSIM over the three RGB channels, per image: (N, 3, H, W) x2 -> (N,).

    Same as `skimage.metrics.structural_similarity(p, t, data_range=1.0, channel_axis=-1)`:
    local statistics over a 7x7 uniform window with sample covariance (divisor 48), averaged over
    the pixels whose window lies wholly inside the image (skimage crops a 3-pixel border), then over
    channels. Images must be at least 7x7.
    """
    _check_pair(pred, truth)
    if min(pred.shape[-2:]) < SSIM_WINDOW:
        raise ValueError(
            f"ssim needs images of at least {SSIM_WINDOW}x{SSIM_WINDOW} pixels, got {tuple(pred.shape[-2:])}"
        )
    x, y = _float64(pred), _float64(truth)
    n = SSIM_WINDOW**2
    # A 'valid' box filter is exactly skimage's uniform filter on the uncropped pixels, so the
    # border mode it uses never matters.
    mean = lambda v: F.avg_pool2d(v, SSIM_WINDOW, stride=1)  # noqa: E731
    mx, my = mean(x), mean(y)
    cov_norm = n / (n - 1)
    vx = cov_norm * (mean(x * x) - mx * mx)
    vy = cov_norm * (mean(y * y) - my * my)
    vxy = cov_norm * (mean(x * y) - mx * my)
    c1, c2 = _SSIM_K1**2, _SSIM_K2**2  # data_range = 1
    s = (2 * mx * my + c1) * (2 * vxy + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return s.flatten(1).mean(1)  # equal pixel counts per channel: the channel mean of channel means


def _polar(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Chroma and hue angle in [0, 2*pi)."""
    h = torch.atan2(b, a)
    return torch.hypot(a, b), torch.where(h < 0, h + 2 * math.pi, h)


def ciede2000(lab1: torch.Tensor, lab2: torch.Tensor) -> torch.Tensor:
    """CIEDE2000 colour difference per pixel: Lab (*, 3, H, W) x2 -> (*, H, W), kL = kC = kH = 1.

    The formula of Sharma, Wu & Dalal (2005), as `skimage.color.deltaE_ciede2000` computes it.
    """
    L1, a1, b1 = lab1.unbind(-3)
    L2, a2, b2 = lab2.unbind(-3)
    # a' stretches a for near-neutral colours (G), then everything is in (L, C', h').
    c_mean7 = (0.5 * (torch.hypot(a1, b1) + torch.hypot(a2, b2))) ** 7
    g = 0.5 * (1 - torch.sqrt(c_mean7 / (c_mean7 + 25.0**7)))
    C1, h1 = _polar(a1 * (1 + g), b1)
    C2, h2 = _polar(a2 * (1 + g), b2)

    l_mean = 0.5 * (L1 + L2)
    sl = 1 + 0.015 * (l_mean - 50) ** 2 / torch.sqrt(20 + (l_mean - 50) ** 2)
    l_term = (L2 - L1) / sl

    c_mean = 0.5 * (C1 + C2)
    c_term = (C2 - C1) / (1 + 0.045 * c_mean)

    # Hue difference the short way round. When either chroma is 0, dH = 0 whatever the hues, and
    # the mean hue below only ever scales dH, so achromatic pixels need no special case.
    dh = h2 - h1
    dh = torch.where(dh > math.pi, dh - 2 * math.pi, torch.where(dh < -math.pi, dh + 2 * math.pi, dh))
    dH = 2 * torch.sqrt(C1 * C2) * torch.sin(dh / 2)

    # Mean hue, also taken the short way round the circle.
    h_sum = h1 + h2
    wrap = (h2 - h1).abs() > math.pi
    h_mean = 0.5 * torch.where(
        wrap & (h_sum < 2 * math.pi), h_sum + 2 * math.pi, torch.where(wrap, h_sum - 2 * math.pi, h_sum)
    )

    t = (
        1
        - 0.17 * torch.cos(h_mean - math.radians(30))
        + 0.24 * torch.cos(2 * h_mean)
        + 0.32 * torch.cos(3 * h_mean + math.radians(6))
        - 0.20 * torch.cos(4 * h_mean - math.radians(63))
    )
    h_term = dH / (1 + 0.015 * c_mean * t)

    # Rotation term: couples chroma and hue differences in the blue region (hue near 275 degrees).
    c_mean7 = c_mean**7
    rc = 2 * torch.sqrt(c_mean7 / (c_mean7 + 25.0**7))
    dtheta = math.radians(30) * torch.exp(-(((torch.rad2deg(h_mean) - 275) / 25) ** 2))
    r_term = -torch.sin(2 * dtheta) * rc * c_term * h_term

    return torch.sqrt((l_term**2 + c_term**2 + h_term**2 + r_term).clamp(min=0))


def delta_e00(pred: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """Mean CIEDE2000 over the pixels of each image, prediction vs truth: (N, 3, H, W) x2 -> (N,)."""
    _check_pair(pred, truth)
    return _mean_delta_e00(*_labs(pred, truth))


def _labs(pred: torch.Tensor, truth: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return rgb_to_lab(_float64(pred)), rgb_to_lab(_float64(truth))


def _mean_delta_e00(lab_p: torch.Tensor, lab_t: torch.Tensor) -> torch.Tensor:
    return ciede2000(lab_p, lab_t).flatten(1).mean(1)


def colorfulness_gap(pred: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """|colourfulness(pred) - colourfulness(truth)| per image (Hasler-Süsstrunk, signed variant)."""
    _check_pair(pred, truth)
    return (colorfulness(pred) - colorfulness(truth)).abs()


def ab_auc(pred: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """Area under the AB-accuracy curve per image, in [0, 1] (Zhang et al. 2016, unweighted).

    Curve: for each threshold t = 0, 1, ..., 150, the share of pixels whose AB error (Euclidean
    distance between the (a, b) of prediction and truth) is <= t. Area: the trapezoid rule over
    those 151 points, divided by 150, so a perfect prediction scores 1 and one off by more than
    150 everywhere scores 0. Zhang et al. also report a class-rebalanced version that weights
    pixels by the rarity of their true colour; this is the plain one.
    """
    _check_pair(pred, truth)
    return _auc_lab(*_labs(pred, truth))


def _auc_lab(lab_p: torch.Tensor, lab_t: torch.Tensor) -> torch.Tensor:
    # Pixels are counted per integer threshold rather than compared with all 151 thresholds,
    # which would take (N, H*W, 151) memory.
    err = (lab_p[:, 1:] - lab_t[:, 1:]).pow(2).sum(1).sqrt()  # (N, H, W) AB error
    n, top = err.shape[0], AUC_MAX_THRESHOLD
    # A pixel is counted at every threshold t >= ceil(err); errors above 150 land in a spill bin.
    first = torch.ceil(err.flatten(1)).clamp(max=top + 1).long()
    first = first + (top + 2) * torch.arange(n, device=err.device).unsqueeze(1)
    counts = torch.bincount(first.flatten(), minlength=n * (top + 2)).view(n, top + 2)[:, : top + 1]
    curve = counts.cumsum(1).to(err.dtype) / err[0].numel()  # (N, 151): share with error <= t
    return torch.trapezoid(curve, dim=1) / top


def image_metrics(pred: torch.Tensor, truth: torch.Tensor, batch_size: int = 64) -> dict[str, torch.Tensor]:
    """Every per-image metric of a prediction against the truth: name -> (N,) float64 tensor.

    Keys: psnr (dB), ssim, deltaE00 (mean CIEDE2000), colorfulness (of pred), colorfulness_gap
    (|pred - truth|), auc (AB accuracy AuC). Works for any prediction, the gray one included
    (`metrics.gray_prediction(truth)`). Computed `batch_size` images at a time to bound memory.
    """
    _check_pair(pred, truth)
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    parts: dict[str, list[torch.Tensor]] = {k: [] for k in METRIC_NAMES}
    for i in range(0, len(pred), batch_size):
        p, t = pred[i : i + batch_size], truth[i : i + batch_size]
        cf_p, cf_t = colorfulness(p), colorfulness(t)
        parts["psnr"].append(psnr(p, t))
        parts["ssim"].append(ssim(p, t))
        lab_p, lab_t = _labs(p, t)
        parts["deltaE00"].append(_mean_delta_e00(lab_p, lab_t))
        parts["colorfulness"].append(cf_p)
        parts["colorfulness_gap"].append((cf_p - cf_t).abs())
        parts["auc"].append(_auc_lab(lab_p, lab_t))
    return {k: torch.cat(v) if v else pred.new_zeros(0, dtype=torch.float64) for k, v in parts.items()}
