"""What each kind of model predicts, how it is trained and how its output becomes RGB.

All three kinds take L/100 (B, 1, H, W) as input:
- rgb:  sigmoid RGB (B, 3, H, W), mixed loss against the true RGB;
- ab:   tanh AB/128 (B, 2, H, W), mixed loss against the true AB/128, RGB = Lab(L, AB);
- bins: logits (B, Q, H, W), weighted CE against the nearest AB bin, decoded by argmax (paper)
        or annealed mean (Zhang et al.), RGB = Lab(L, decoded AB).
"""

import torch

from .color import AB_SCALE, join_lab, split_lab
from .config import ExperimentConfig
from .losses import class_weights, mixed_loss, weighted_cross_entropy
from .quantize import ABGrid


class Task:
    def __init__(self, config: ExperimentConfig, weights: torch.Tensor | None = None):
        self.config = config
        self.kind = config.output_kind
        self.grid = ABGrid(config.bin_size) if self.kind == "bins" else None
        self.weights = weights  # (Q,) class weights, bins only

    def model_kwargs(self) -> dict:
        kwargs = {"width": self.config.width}
        if self.kind == "bins":
            kwargs["n_bins"] = self.grid.n_bins
        return kwargs

    def set_frequencies(self, freq: torch.Tensor) -> torch.Tensor:
        """Class weights from the training set's bin frequencies (bins only)."""
        self.frequencies = freq
        self.weights = class_weights(freq, self.config.class_weight_mix)
        return self.weights

    def inputs_targets(self, rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """RGB batch -> (model input L/100, target in the model's output space)."""
        x, ab = split_lab(rgb)
        if self.kind == "rgb":
            return x, rgb
        if self.kind == "ab":
            return x, ab
        return x, self.grid.encode(ab * AB_SCALE)  # exact: AB_SCALE is a power of two

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.kind == "bins":
            return weighted_cross_entropy(output, target, self.weights)
        return mixed_loss(output.float(), target, self.config.alpha)

    def to_rgb(self, output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Model output + input L/100 -> RGB (B, 3, H, W) in [0, 1]."""
        output = output.float()
        if self.kind == "rgb":
            return output.clamp(0.0, 1.0)
        if self.kind == "ab":
            return join_lab(x, output)
        return join_lab(x, self.decode_ab(output) / AB_SCALE)

    def decode_ab(self, logits: torch.Tensor) -> torch.Tensor:
        """Logits (B, Q, H, W) -> AB (B, 2, H, W), unscaled."""
        if self.config.decode == "argmax":
            return self.grid.decode(logits.argmax(dim=1))
        # Annealed mean: re-temper the distribution (T < 1 sharpens), then average the bin centres.
        probs = torch.softmax(logits / self.config.temperature, dim=1)
        return self.grid.expected_ab(probs)
