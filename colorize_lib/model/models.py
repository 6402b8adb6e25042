"""The study's four models, registered by name, built from a few small parts.

- `baseline`: encoder-decoder without skips (paper 3.2): 4 x (conv3x3-BN-ReLU-maxpool), 1->64->...->512,
  mirrored by transposed convolutions, sigmoid RGB out. 4.31M parameters at width 64.
- `unet_rgb`: 4-level U-Net (3 poolings), RGB out (sigmoid). 4.51M at width 49.
- `unet_lab`: 5-level U-Net (4 poolings), AB/128 out (tanh). 20.5M at width 52.
- `unet_classif`: the `unet_lab` body with a 1x1 head (`out`) of `n_bins` logits per pixel. Its forward
  returns the body's features: the task applies the head chunk by chunk in the loss and the decoder
  (`fused_head`), since full logits do not fit a GPU at the paper profile. `logits(x)` gives them.

The paper gives parameter counts (`reference.PAPER_PARAMS`), not channel lists; `PAPER_WIDTHS` are the
widths whose counts match the paper's within 5% (checked in tests/test_models.py): each builder's default,
and the paper profile's (`engine.config`).
"""

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from .quantize import ABGrid

OUTPUT_KINDS = ("rgb", "ab", "bins")
PAPER_WIDTHS = {"baseline": 64, "unet_rgb": 49, "unet_lab": 52, "unet_classif": 52}  # base channels


@dataclass(frozen=True)
class ModelEntry:
    """A registered model: its builder and the facts other modules need about it."""

    build: Callable[..., nn.Module]
    output: str  # what forward returns: "rgb" (RGB in [0, 1]), "ab" (AB/128) or "bins" (features for the bin head)


_REGISTRY: dict[str, ModelEntry] = {}


def register_model(name: str, output: str):
    """Register a model builder under `name`, with what it outputs."""
    if output not in OUTPUT_KINDS:
        raise ValueError(f"model {name!r}: output must be one of {OUTPUT_KINDS}, got {output!r}")

    def wrap(builder):
        _REGISTRY[name] = ModelEntry(builder, output)
        return builder

    return wrap


def list_models() -> list[str]:
    return sorted(_REGISTRY)


def model_entry(name: str) -> ModelEntry:
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; expected one of {list_models()}")
    return _REGISTRY[name]


def get_model(name: str, **kwargs) -> nn.Module:
    """Build a registered model; keyword arguments (e.g. `width`, `n_bins`) override the paper's."""
    return model_entry(name).build(**kwargs)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


class DoubleConv(nn.Sequential):
    """(conv3x3 -> BN -> ReLU) x 2."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__(
            nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
        )


class Down(nn.Sequential):
    """Halve the resolution, then DoubleConv."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__(nn.MaxPool2d(2), DoubleConv(c_in, c_out))


class Up(nn.Module):
    """Transposed-conv upsampling (deterministic on CUDA, unlike bilinear backward), concat skip, DoubleConv."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.up = nn.ConvTranspose2d(c_in, c_in // 2, kernel_size=2, stride=2)
        self.conv = DoubleConv(c_in // 2 + c_out, c_out)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.cat((skip, self.up(x)), dim=1))


class UNet(nn.Module):
    """U-Net with `levels` resolutions; channels width * 2**k at level k."""

    def __init__(self, out_channels: int, width: int, levels: int, head: str = "sigmoid"):
        super().__init__()
        ch = [width * 2**k for k in range(levels)]
        self.inc = DoubleConv(1, ch[0])
        self.downs = nn.ModuleList(Down(ch[k], ch[k + 1]) for k in range(levels - 1))
        self.ups = nn.ModuleList(Up(ch[k + 1], ch[k]) for k in reversed(range(levels - 1)))
        self.out = nn.Conv2d(ch[0], out_channels, kernel_size=1)
        self.head = {"sigmoid": nn.Sigmoid(), "tanh": nn.Tanh(), "logits": nn.Identity()}[head]

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 1, H, W) -> (B, C_out, H, W)
        return self.head(self.out(self.features(x)))

    def features(self, x: torch.Tensor) -> torch.Tensor:  # (B, 1, H, W) -> (B, width, H, W), before `out`
        skips = [self.inc(x)]
        for down in self.downs:
            skips.append(down(skips[-1]))
        y = skips.pop()
        for up in self.ups:
            y = up(y, skips.pop())
        return y


class UNetClassifier(UNet):
    """U-Net whose forward stops before its 1x1 head `out` (Q = n_bins logits per pixel): the head is
    applied by the task, chunk by chunk (`Task.attach`). `logits(x)` applies it whole, for small inputs."""

    def __init__(self, n_bins: int, width: int, levels: int):
        super().__init__(out_channels=n_bins, width=width, levels=levels, head="logits")

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 1, H, W) -> features (B, width, H, W)
        return self.features(x)

    def logits(self, x: torch.Tensor) -> torch.Tensor:  # (B, 1, H, W) -> (B, n_bins, H, W)
        return self.out(self.features(x))


class BaselineCNN(nn.Module):
    """Encoder-decoder without skip connections; the bottleneck is H/16."""

    def __init__(self, width: int = PAPER_WIDTHS["baseline"]):
        super().__init__()
        ch = [1] + [width * 2**k for k in range(4)]
        enc = []
        for c_in, c_out in zip(ch[:-1], ch[1:]):
            enc += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
        self.encoder = nn.Sequential(*enc)
        dec_ch = ch[:0:-1] + [3]  # 512 -> 256 -> 128 -> 64 -> 3
        dec = []
        for i, (c_in, c_out) in enumerate(zip(dec_ch[:-1], dec_ch[1:])):
            dec.append(nn.ConvTranspose2d(c_in, c_out, kernel_size=4, stride=2, padding=1))
            if i < len(dec_ch) - 2:
                dec += [nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]
        self.decoder = nn.Sequential(*dec)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 1, H, W) -> (B, 3, H, W) in [0, 1]
        return torch.sigmoid(self.decoder(self.encoder(x)))


@register_model("baseline", output="rgb")
def baseline(width: int = PAPER_WIDTHS["baseline"]) -> nn.Module:
    return BaselineCNN(width)


@register_model("unet_rgb", output="rgb")
def unet_rgb(width: int = PAPER_WIDTHS["unet_rgb"], levels: int = 4) -> nn.Module:
    return UNet(out_channels=3, width=width, levels=levels, head="sigmoid")


@register_model("unet_lab", output="ab")
def unet_lab(width: int = PAPER_WIDTHS["unet_lab"], levels: int = 5) -> nn.Module:
    return UNet(out_channels=2, width=width, levels=levels, head="tanh")


@register_model("unet_classif", output="bins")
def unet_classif(
    width: int = PAPER_WIDTHS["unet_classif"], n_bins: int = ABGrid(10).n_bins, levels: int = 5
) -> nn.Module:
    return UNetClassifier(n_bins=n_bins, width=width, levels=levels)
