"""The classifier's 1x1 head fused with its loss and its decoders, chunk by chunk over pixels.

The classifier scores Q bins per pixel (Q = 676 at bin size 10, 2704 at 5). Materialising the logits
(B, Q, H, W) and their float32 copies for the softmax is what made it ~5x slower than U-Net LAB on
CPU and what cannot fit one GPU at the paper profile (~186 GiB at b = 5; bench/RESULTS.md). Here
the head -- a (Q, C) weight and a (Q,) bias, the UNet's `out` 1x1 conv -- is applied to one chunk
of pixels at a time; the chunk's logits are turned into what is needed (loss and gradients, an
argmax, an annealed mean) and dropped, so no more than one chunk of logits exists at a time.

Gradients are taken in the forward pass, not recomputed in backward: training always
differentiates the loss, and recomputing would redo each chunk's (n x C) @ (C x Q) product and its
softmax (a third more head FLOPs, another pass of exp) to avoid keeping an (N, C) feature gradient
-- the size of the body's last activation (C = 12..52 channels against Q = 324..2704 bins), which
the body keeps for its own backward anyway. Without grad mode (evaluation) only the loss is computed.

Precision follows what CUDA autocast does for conv + cross_entropy: the products run in the
features' dtype (bfloat16 under autocast), the softmax and the loss in at least float32; the
gradients come back in the dtypes of the inputs they belong to.
"""

from collections.abc import Iterator

import torch
from torch.autograd.function import once_differentiable

# Logits elements (pixels x bins) per chunk: the chunk has max(1, elements // Q) pixels, so b = 5
# (2704 bins) takes smaller pixel chunks than b = 15 (324 bins). CPU: fastest in a sweep of 2**17..2**21
# with bench/classifier_speed.py (a 2 MiB float32 chunk stays in cache; see bench/RESULTS.md). CUDA:
# not measured (no GPU lent); 2**27 (512 MiB of float32 logits) keeps the chunks -- and kernel
# launches -- to ~100 per paper-profile step at b = 5, each still a large matrix product.
DEFAULT_CHUNK_ELEMENTS = {"cpu": 2**19, "cuda": 2**27}


def pixels_per_chunk(n_bins: int, device: torch.device, chunk_elements: int | None = None) -> int:
    """Pixels per chunk for `n_bins` logits each, from a bound on the chunk's logits elements
    (`chunk_elements`, default `DEFAULT_CHUNK_ELEMENTS` for the device type)."""
    if chunk_elements is None:
        chunk_elements = DEFAULT_CHUNK_ELEMENTS.get(torch.device(device).type, DEFAULT_CHUNK_ELEMENTS["cpu"])
    if not isinstance(chunk_elements, int) or chunk_elements < 1:
        raise ValueError(f"chunk_elements must be a positive int (logits elements per chunk), got {chunk_elements!r}")
    return max(1, chunk_elements // n_bins)


def fused_weighted_cross_entropy(
    features: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    target: torch.Tensor | tuple[torch.Tensor, torch.Tensor],
    class_weights: torch.Tensor,
    chunk_elements: int | None = None,
) -> torch.Tensor:
    """`losses.weighted_cross_entropy(conv1x1(features, weight, bias), target, class_weights)` without
    the full logits: mean over pixels of class_weights[target] x CE, a float32 (or float64) scalar.

    features (B, C, H, W), any memory format, float32/bfloat16/float64; weight (Q, C); bias (Q,) or
    None; class_weights (Q,), zeros allowed. target is either (B, H, W) long bin indices (hard targets)
    or a soft target in sparse form (`losses.soft_weighted_cross_entropy`): (indices, weights), both
    (B, H, W, K), the K bins holding each pixel's target mass, nearest first, and their masses summing to
    1; the pixel is weighted by the class weight of its nearest bin, as Zhang et al. (2016) do. The
    (N, Q) target is never built: the gradient softmax - target is scattered into each chunk.
    """
    _check_head(features, weight, bias)
    q = weight.shape[0]
    pixels = (features.shape[0], *features.shape[2:])
    soft = isinstance(target, (tuple, list))
    if soft:
        if len(target) != 2:
            raise ValueError(f"a soft target must be a pair (indices, weights), got {len(target)} items")
        index, mass = target
        if index.dim() != 4 or index.shape[:3] != pixels or mass.shape != index.shape:
            raise ValueError(
                f"soft target indices and weights must both have shape (B, H, W, K) with (B, H, W) = "
                f"{pixels}, got {tuple(index.shape)} and {tuple(mass.shape)}"
            )
        if not mass.is_floating_point():
            raise TypeError(f"soft target weights must be floating point, got {mass.dtype}")
    else:
        if target.shape != pixels:
            raise ValueError(
                f"target must have shape (B, H, W) = {pixels} to match the features, got {tuple(target.shape)}"
            )
        index, mass = target.unsqueeze(-1), None
    if index.dtype != torch.long:
        raise TypeError(f"target must hold long bin indices, got {index.dtype}")
    if class_weights.shape != (q,):
        raise ValueError(f"class_weights must have shape (Q,) = ({q},), got {tuple(class_weights.shape)}")
    inputs = (features, weight, bias)
    if torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in inputs):
        return _HeadCrossEntropy.apply(features, weight, bias, index, mass, class_weights, chunk_elements)
    with _no_autocast(features.device):
        loss, _ = _loss_and_grads(features, weight, bias, index, mass, class_weights, chunk_elements, False)
    return loss


@torch.no_grad()
def head_argmax(
    features: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, chunk_elements: int | None = None
) -> torch.Tensor:
    """Index of the highest logit per pixel: (B, C, H, W) features -> (B, H, W) long."""
    _check_head(features, weight, bias)
    b, _, h, w = features.shape
    out = torch.empty(b * h * w, dtype=torch.long, device=features.device)
    with _no_autocast(features.device):
        for start, _x, z in _chunk_logits(features, weight, bias, _decode_dtype(features), chunk_elements):
            out[start : start + len(z)] = z.argmax(dim=1)
    return out.view(b, h, w)


@torch.no_grad()
def head_softmax_mean(
    features: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    values: torch.Tensor,
    temperature: float = 1.0,
    chunk_elements: int | None = None,
) -> torch.Tensor:
    """Per pixel, the mean of `values` (Q, K) under softmax(logits / temperature):
    (B, C, H, W) features -> (B, K, H, W), computed in at least float32."""
    _check_head(features, weight, bias)
    if values.dim() != 2 or values.shape[0] != weight.shape[0]:
        raise ValueError(f"values must have shape (Q, K) with Q = {weight.shape[0]}, got {tuple(values.shape)}")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}")
    b, _, h, w = features.shape
    dtype = _decode_dtype(features)
    values = values.to(device=features.device, dtype=dtype)
    out = torch.empty(b * h * w, values.shape[1], dtype=dtype, device=features.device)
    with _no_autocast(features.device):
        for start, _x, z in _chunk_logits(features, weight, bias, dtype, chunk_elements):
            torch.mm(torch.softmax(z.div_(temperature), dim=1), values, out=out[start : start + len(z)])
    return out.view(b, h, w, -1).permute(0, 3, 1, 2).contiguous()


class _HeadCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, features, weight, bias, index, mass, class_weights, chunk_elements):
        with _no_autocast(features.device):
            loss, grads = _loss_and_grads(features, weight, bias, index, mass, class_weights, chunk_elements, True)
        ctx.save_for_backward(*grads)
        return loss

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_loss):
        grads = [None if g is None else g * grad_loss.to(g.dtype) for g in ctx.saved_tensors]
        return *grads, None, None, None, None


def _loss_and_grads(features, weight, bias, index, mass, class_weights, chunk_elements, with_grad: bool):
    """(loss, (grad features, grad weight, grad bias) or None); the gradients are those of the loss.
    index (B, H, W, K) long target bins, nearest first; mass (B, H, W, K) their target masses, or None
    for hard targets (K = 1, mass 1)."""
    b, c, h, w = features.shape
    n, q = b * h * w, weight.shape[0]
    dtype = features.dtype  # products in the features' dtype, as autocast runs the 1x1 conv
    acc = torch.promote_types(dtype, torch.float32)  # softmax and loss, as autocast runs cross_entropy
    device = features.device
    targets = index.reshape(n, -1)  # (N, K)
    masses = None if mass is None else mass.reshape(n, -1).to(device=device, dtype=acc)
    cw = class_weights.to(device=device, dtype=acc)
    total = torch.zeros((), dtype=acc, device=device)
    if with_grad:
        grad_x = torch.empty(n, c, dtype=dtype, device=device)
        grad_wb_t = torch.zeros(c + 1, q, dtype=acc, device=device)  # [weight | bias] gradient, transposed
        head_w_t = weight.to(dtype).t().contiguous()  # (C, Q)
    for start, x, z in _chunk_logits(features, weight, bias, dtype, chunk_elements):
        stop = start + len(z)
        t = targets[start:stop]  # (n, K)
        wt = cw[t[:, :1]]  # (n, 1) class weight of each pixel's (nearest) target bin
        # One exp pass gives both the loss and the softmax: with target masses m summing to 1,
        # CE = -sum_k m_k log softmax_k = log sum exp(z - max) - sum_k m_k (z_k - max).
        z.sub_(z.amax(dim=1, keepdim=True))
        m = None if masses is None else masses[start:stop]  # (n, K)
        z_t = z.gather(1, t) if m is None else (z.gather(1, t) * m).sum(dim=1, keepdim=True)
        z.exp_()
        s = z.sum(dim=1, keepdim=True)
        total += (wt * (s.log() - z_t)).sum()
        if with_grad:
            wn = wt / n
            # dL/dz = w_t / N * (softmax - target), (n, Q); the target's K entries scattered in.
            z.mul_(wn / s).scatter_add_(1, t, -wn if m is None else -wn * m)
            dz = z.to(dtype)
            # Both products are written transposed: with MKL these layouts run 1.4x and 2.8x faster than
            # dz @ W and dz.t() @ x (2 cores, 775 x 676 chunks). x's column of ones gives the bias gradient.
            grad_x[start:stop] = (head_w_t @ dz.t()).t()
            grad_wb_t += (x.t() @ dz).to(acc)
    loss = total / n
    if not with_grad:
        return loss, None
    grad_x = grad_x.view(b, h, w, c).permute(0, 3, 1, 2)  # channels_last strides
    if not features.is_contiguous(memory_format=torch.channels_last):
        grad_x = grad_x.contiguous()
    grad_b = None if bias is None else grad_wb_t[c].to(bias.dtype)
    return loss, (grad_x, grad_wb_t[:c].t().contiguous().to(weight.dtype), grad_b)


def _chunk_logits(features, weight, bias, dtype, chunk_elements) -> Iterator[tuple[int, torch.Tensor, torch.Tensor]]:
    """Yield (first pixel, x, z) for consecutive chunks of the B*H*W pixels: x (n, C + 1) holds the
    chunk's features and a column of ones, in `dtype`; z (n, Q) its logits, in at least float32.
    Both are buffers reused by the next chunk: z may be overwritten, x must not be."""
    c, q = features.shape[1], weight.shape[0]
    n = features.shape[0] * features.shape[2] * features.shape[3]
    acc = torch.promote_types(dtype, torch.float32)
    pixels = features.permute(0, 2, 3, 1).reshape(n, c)  # (N, C); a view if channels_last
    # The bias rides in the product as a last weight column against a column of ones: no separate pass
    # (on CPU, addmm first copies the bias into every row of the output).
    bias = torch.zeros(q, dtype=dtype, device=features.device) if bias is None else bias
    w_t = torch.cat((weight, bias[:, None]), dim=1).to(dtype).t()  # (C + 1, Q)
    step = max(1, min(n, pixels_per_chunk(q, features.device, chunk_elements)))  # never 0, even for an empty batch
    x_buf = torch.ones(step, c + 1, dtype=dtype, device=features.device)
    z_buf = torch.empty(step, q, dtype=acc, device=features.device)
    for start in range(0, n, step):
        m = min(step, n - start)
        x, z = x_buf[:m], z_buf[:m]
        x[:, :c] = pixels[start : start + m]
        if dtype == acc:
            torch.mm(x, w_t, out=z)
        else:  # bfloat16 product, as autocast runs the conv; softmax in float32
            z.copy_(x @ w_t)
        yield start, x, z


def _no_autocast(device: torch.device):
    # Autocast would recast the products behind our back; the dtypes here are chosen explicitly.
    return torch.autocast(device_type=device.type, enabled=False)


def _decode_dtype(features: torch.Tensor) -> torch.dtype:
    # Decoding is not trained: take the logits in float32 at least, as Task.to_rgb does with full logits.
    return torch.promote_types(features.dtype, torch.float32)


def _check_head(features: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> None:
    if features.dim() != 4:
        raise ValueError(f"features must have shape (B, C, H, W), got {tuple(features.shape)}")
    if weight.dim() != 2 or weight.shape[1] != features.shape[1]:
        raise ValueError(
            f"head weight must have shape (Q, C) with C = {features.shape[1]} (the features' channels), "
            f"got {tuple(weight.shape)}"
        )
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"head bias must have shape (Q,) = ({weight.shape[0]},), got {tuple(bias.shape)}")
