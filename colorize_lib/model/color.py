"""RGB <-> CIELAB (D65, sRGB) as pure torch functions, batched and device-agnostic.

Shape contract: tensors are (*, 3, H, W); RGB in [0, 1], L in [0, 100], a and b unscaled
(roughly [-128, 127]). Values match `skimage.color.rgb2lab` / `lab2rgb`.
"""

from functools import lru_cache

import torch

# The paper's normalisations (section 3.3): model input L/100 in [0, 1], AB targets AB/128 in [-1, 1].
L_SCALE = 100.0
AB_SCALE = 128.0

# sRGB (linear) -> XYZ, D65; the same matrix scikit-image uses.
_RGB_TO_XYZ = torch.tensor(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ],
    dtype=torch.float64,
)
_XYZ_TO_RGB = torch.linalg.inv(_RGB_TO_XYZ)
_WHITE_D65 = (0.95047, 1.0, 1.08883)
_EPS = 216.0 / 24389.0  # CIE epsilon: below it the cube root is replaced by a line
_KAPPA = 24389.0 / 27.0


def _check(x: torch.Tensor, name: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape (*, 3, H, W), got {type(x).__name__}")
    if x.dim() < 3 or x.shape[-3] != 3:
        raise ValueError(f"{name} must have shape (*, 3, H, W), got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {x.dtype}")


@lru_cache(maxsize=32)
def _constant(name: str, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """A conversion constant on the caller's device, copied there once rather than on every call."""
    values = {
        "rgb_to_xyz": _RGB_TO_XYZ,
        "xyz_to_rgb": _XYZ_TO_RGB,
        "white": torch.tensor(_WHITE_D65, dtype=torch.float64).view(3, 1, 1),
    }[name]
    return values.to(device=device, dtype=dtype)


def _mix(matrix: str, x: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,...jhw->...ihw", _constant(matrix, x.device, x.dtype), x)


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB in [0, 1], (*, 3, H, W) -> CIELAB (L in [0, 100], a, b unscaled)."""
    _check(rgb, "rgb")
    linear = torch.where(rgb > 0.04045, ((rgb.clamp(min=0.04045) + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    xyz = _mix("rgb_to_xyz", linear)
    white = _constant("white", rgb.device, rgb.dtype)
    t = xyz / white
    f = torch.where(t > _EPS, t.clamp(min=_EPS) ** (1.0 / 3.0), (_KAPPA * t + 16.0) / 116.0)
    fx, fy, fz = f.unbind(-3)
    L = 116.0 * fy - 16.0
    a = 500.0 * (fx - fy)
    b = 200.0 * (fy - fz)
    return torch.stack((L, a, b), dim=-3)


def lab_to_rgb(lab: torch.Tensor) -> torch.Tensor:
    """CIELAB (*, 3, H, W) -> sRGB clipped to [0, 1]."""
    _check(lab, "lab")
    L, a, b = lab.unbind(-3)
    fy = (L + 16.0) / 116.0
    fx = fy + a / 500.0
    fz = fy - b / 200.0
    f = torch.stack((fx, fy, fz), dim=-3)
    # Inverse of the forward branch: cube above the knee, the line below it.
    t = torch.where(f > 6.0 / 29.0, f**3, (116.0 * f - 16.0) / _KAPPA)
    white = _constant("white", lab.device, lab.dtype)
    linear = _mix("xyz_to_rgb", t * white).clamp(min=0.0)
    rgb = torch.where(linear > 0.0031308, 1.055 * linear.clamp(min=0.0031308) ** (1.0 / 2.4) - 0.055, 12.92 * linear)
    return rgb.clamp(0.0, 1.0)


def split_lab(rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """RGB (B, 3, H, W) -> model input L/100 (B, 1, H, W) and target AB/128 (B, 2, H, W)."""
    lab = rgb_to_lab(rgb)
    return lab[..., :1, :, :] / L_SCALE, lab[..., 1:, :, :] / AB_SCALE


def join_lab(l_norm: torch.Tensor, ab_norm: torch.Tensor) -> torch.Tensor:
    """Normalised L (B, 1, H, W) and AB (B, 2, H, W) -> RGB in [0, 1]."""
    return lab_to_rgb(torch.cat((l_norm * L_SCALE, ab_norm * AB_SCALE), dim=-3))
