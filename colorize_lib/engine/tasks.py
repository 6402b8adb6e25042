"""What each kind of model predicts, how it is trained and how its output becomes RGB.

All three kinds take L/100 (B, 1, H, W) as input:
- rgb:  sigmoid RGB (B, 3, H, W), mixed loss against the true RGB;
- ab:   tanh AB/128 (B, 2, H, W), mixed loss against the true AB/128, RGB = Lab(L, AB);
- bins: the body's features (B, C, H, W); the task holds the model's 1x1 head (`attach`) and applies
        it chunk by chunk (`fused_head`): weighted CE against the nearest AB bin, decoded by argmax
        (paper) or annealed mean (Zhang et al.), RGB = Lab(L, decoded AB). The full logits
        (B, Q, H, W), Q up to 2704, are never held. Without a head attached, `loss` and `decode_ab`
        take full logits instead (the reference path, for small inputs).
        The config's `bins`, `targets` and `prior_sigma` give Zhang et al.'s variant: in-gamut classes
        only, soft targets (a pair (indices, weights) of shape (B, H, W, K) in place of the (B, H, W)
        indices) and class weights from a smoothed prior.
"""

import torch
from torch import nn

from ..model.color import AB_SCALE, join_lab, split_lab
from ..model.fused_head import fused_weighted_cross_entropy, head_argmax, head_softmax_mean
from ..model.losses import class_weights, mixed_loss, smooth_prior, soft_weighted_cross_entropy, weighted_cross_entropy
from ..model.quantize import ABGrid
from .config import ExperimentConfig


class Task:
    def __init__(self, config: ExperimentConfig, weights: torch.Tensor | None = None):
        self.config = config
        self.kind = config.output_kind
        self.grid = ABGrid(config.bin_size, in_gamut=config.bins == "in_gamut") if self.kind == "bins" else None
        self.weights = weights  # (Q,) class weights, bins only
        self.head: nn.Conv2d | None = None  # the classifier's 1x1 head, from `attach`
        self.chunk_elements: int | None = None  # logits per chunk; None: fused_head's default for the device

    def attach(self, model: nn.Module) -> "Task":
        """Take the classifier's 1x1 head (`model.out`) for the loss and decoding; returns the task.
        Pass the plain model (not a DDP or compiled wrapper). A no-op for the other kinds."""
        if self.kind != "bins":
            return self
        head = getattr(model, "out", None)
        if not (isinstance(head, nn.Conv2d) and head.kernel_size == (1, 1) and head.out_channels == self.grid.n_bins):
            raise ValueError(
                f"model passed to Task.attach must have a 1x1 Conv2d `out` with {self.grid.n_bins} "
                f"output channels (bin size {self.config.bin_size}), got {head!r}"
            )
        self.head = head
        return self

    def model_kwargs(self) -> dict:
        kwargs = {"width": self.config.width}
        if self.config.levels:
            kwargs["levels"] = self.config.levels
        if self.kind == "bins":
            kwargs["n_bins"] = self.grid.n_bins
        return kwargs

    def set_frequencies(self, freq: torch.Tensor) -> torch.Tensor:
        """Class weights from the training set's bin frequencies (bins only), smoothed first when the
        config's `prior_sigma` > 0 (Zhang et al.: 5)."""
        prior = smooth_prior(freq, self.grid.centres, self.config.prior_sigma)
        self.weights = class_weights(prior, self.config.class_weight_mix)
        return self.weights

    def inputs_targets(
        self, rgb: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | tuple[torch.Tensor, torch.Tensor]]:
        """RGB batch -> (model input L/100, target in the model's output space)."""
        x, ab = split_lab(rgb)
        if self.kind == "rgb":
            return x, rgb
        if self.kind == "ab":
            return x, ab
        ab = ab * AB_SCALE  # exact: AB_SCALE is a power of two
        if self.config.targets == "soft":
            return x, self.grid.soft_encode(ab, self.config.soft_neighbours, self.config.soft_sigma)
        return x, self.grid.encode(ab)

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.kind == "bins":
            if self.head is None:
                if isinstance(target, tuple):
                    return soft_weighted_cross_entropy(self._full_logits(output), *target, self.weights)
                return weighted_cross_entropy(self._full_logits(output), target, self.weights)
            return fused_weighted_cross_entropy(
                output, self.head.weight.flatten(1), self.head.bias, target, self.weights, self.chunk_elements
            )
        return mixed_loss(output.float(), target, self.config.alpha)

    def to_rgb(self, output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Model output + input L/100 -> RGB (B, 3, H, W) in [0, 1]."""
        if self.kind == "bins":
            return join_lab(x, self.decode_ab(output) / AB_SCALE)
        output = output.float()
        if self.kind == "rgb":
            return output.clamp(0.0, 1.0)
        return join_lab(x, output)

    def decode_ab(self, output: torch.Tensor) -> torch.Tensor:
        """Features (B, C, H, W) with a head attached, else logits (B, Q, H, W) -> AB (B, 2, H, W), unscaled."""
        annealed = self.config.decode != "argmax"
        if self.head is not None:  # chunk by chunk: equal to the branch below on the head's logits
            w, b = self.head.weight.flatten(1), self.head.bias
            if not annealed:
                return self.grid.decode(head_argmax(output, w, b, self.chunk_elements))
            return head_softmax_mean(output, w, b, self.grid.centres, self.config.temperature, self.chunk_elements)
        logits = self._full_logits(output)
        logits = logits.to(torch.promote_types(logits.dtype, torch.float32))
        if not annealed:
            return self.grid.decode(logits.argmax(dim=1))
        # Annealed mean: re-temper the distribution (T < 1 sharpens), then average the bin centres.
        probs = torch.softmax(logits / self.config.temperature, dim=1)
        return self.grid.expected_ab(probs)

    def _full_logits(self, output: torch.Tensor) -> torch.Tensor:
        if output.dim() != 4 or output.shape[1] != self.grid.n_bins:
            raise ValueError(
                f"classifier output must be logits (B, {self.grid.n_bins}, H, W) when no head is attached, "
                f"got {tuple(output.shape)}; for a model whose forward returns features, call "
                f"task.attach(model) first"
            )
        return output
