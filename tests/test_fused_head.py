"""The chunked 1x1-head + weighted CE and the chunked decoders equal the full-logits reference."""

import pytest
import torch
import torch.nn.functional as F

from colorize_lib.engine.config import make_config
from colorize_lib.engine.tasks import Task
from colorize_lib.model.fused_head import fused_weighted_cross_entropy, head_argmax, head_softmax_mean, pixels_per_chunk
from colorize_lib.model.losses import soft_weighted_cross_entropy, weighted_cross_entropy
from colorize_lib.model.models import get_model

REL = 1e-6


def problem(q=50, c=6, shape=(3, 5, 7), seed=0, dtype=torch.float64):
    """Random features (B, C, H, W), head (Q, C) + (Q,), targets and class weights with zero bins that
    some targets land in (bins the training set never showed, met at test time)."""
    g = torch.Generator().manual_seed(seed)
    b, h, w = shape
    features = torch.randn(b, c, h, w, generator=g, dtype=dtype)
    weight = torch.randn(q, c, generator=g, dtype=dtype)
    bias = torch.randn(q, generator=g, dtype=dtype)
    target = torch.randint(0, q, shape, generator=g)
    class_w = torch.rand(q, generator=g, dtype=dtype) * 3
    class_w[::4] = 0.0
    target[0, 0, :3] = torch.tensor([0, 4, 8])  # zero-weight bins as targets
    return features, weight, bias, target, class_w


def reference(features, weight, bias, target, class_w):
    logits = F.conv2d(features, weight[:, :, None, None], bias)  # (B, Q, H, W): what the model used to return
    return weighted_cross_entropy(logits, target, class_w)


def loss_and_grads(fn, features, weight, bias, *rest):
    leaves = [t.detach().clone().requires_grad_() for t in (features, weight, bias)]
    loss = fn(*leaves, *rest)
    return loss, torch.autograd.grad(loss, leaves)


def assert_rel(a, b, rel=REL):
    scale = b.abs().max()
    assert float((a - b).abs().max()) <= rel * float(scale), (float((a - b).abs().max()), float(scale))


def assert_fused_matches(reference_loss, features, weight, bias, target, class_w, chunk_elements):
    """The fused loss equals `reference_loss` in value and in its gradients (features, weight, bias) to
    REL; returns the fused gradients."""
    want, want_grads = loss_and_grads(reference_loss, features, weight, bias, target, class_w)
    got, got_grads = loss_and_grads(
        lambda f, w, b, t, cw: fused_weighted_cross_entropy(f, w, b, t, cw, chunk_elements),
        features,
        weight,
        bias,
        target,
        class_w,
    )
    assert got.dtype == torch.float64
    assert float(got.detach()) == pytest.approx(float(want.detach()), rel=REL)
    for g, w, name in zip(got_grads, want_grads, ("features", "weight", "bias")):
        assert g.shape == w.shape, name
        assert_rel(g, w)
    return got_grads


# 105 pixels: chunks of 50 bins x {7, 13} pixels and a single chunk; none divide 105.
@pytest.mark.parametrize("chunk_elements", [350, 650, 10**6])
@pytest.mark.parametrize("channels_last", [False, True])
def test_fused_loss_and_gradients_equal_full_logits(chunk_elements, channels_last):
    features, weight, bias, target, class_w = problem()
    if channels_last:
        features = features.contiguous(memory_format=torch.channels_last)
    got_grads = assert_fused_matches(reference, features, weight, bias, target, class_w, chunk_elements)
    assert got_grads[0].is_contiguous(memory_format=torch.channels_last if channels_last else torch.contiguous_format)


def test_zero_weight_pixels_get_no_gradient_and_no_loss():
    features, weight, bias, target, class_w = problem()
    target[:] = 0  # every pixel in a zero-weight bin
    f = features.clone().requires_grad_()
    loss = fused_weighted_cross_entropy(f, weight, bias, target, class_w, chunk_elements=300)
    loss.backward()
    assert float(loss.detach()) == 0.0 and not f.grad.any()


def test_without_grad_the_loss_is_the_same_value():
    features, weight, bias, target, class_w = problem(seed=1)
    with torch.no_grad():
        plain = fused_weighted_cross_entropy(features, weight, bias, target, class_w, chunk_elements=400)
    assert plain.grad_fn is None
    tracked = fused_weighted_cross_entropy(features.requires_grad_(), weight, bias, target, class_w, 400)
    assert float(plain) == float(tracked.detach())


def test_nothing_of_size_pixels_times_bins_is_kept_for_backward():
    features, weight, bias, target, class_w = problem(q=60, c=4, shape=(2, 16, 16))
    n, c, q = 2 * 16 * 16, 4, 60
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t.numel()) or t, lambda t: t):
        fused_weighted_cross_entropy(
            features.requires_grad_(),
            weight.requires_grad_(),
            bias.requires_grad_(),
            target,
            class_w,
            chunk_elements=600,
        )
    assert saved and sum(saved) <= n * c + q * c + q  # the three gradients, nothing (N, Q)


def test_chunks_shrink_as_bins_grow_and_bad_bound_is_refused():
    cpu = torch.device("cpu")
    assert pixels_per_chunk(2704, cpu) < pixels_per_chunk(676, cpu) < pixels_per_chunk(324, cpu)
    assert pixels_per_chunk(676, cpu, chunk_elements=6760) == 10
    assert pixels_per_chunk(676, cpu, chunk_elements=5) == 1
    with pytest.raises(ValueError, match="chunk_elements must be a positive int"):
        pixels_per_chunk(676, cpu, chunk_elements=0)


def test_bad_shapes_name_the_parameter():
    features, weight, bias, target, class_w = problem()
    with pytest.raises(ValueError, match="head weight must have shape"):
        fused_weighted_cross_entropy(features, weight[:, :3], bias, target, class_w)
    with pytest.raises(ValueError, match="target must have shape"):
        fused_weighted_cross_entropy(features, weight, bias, target[:, :2], class_w)
    with pytest.raises(ValueError, match="class_weights must have shape"):
        fused_weighted_cross_entropy(features, weight, bias, target, class_w[:-1])


@pytest.mark.parametrize("chunk_elements", [350, 10**6])
def test_chunked_decoders_equal_full_logits(chunk_elements):
    features, weight, bias, _, _ = problem(seed=2)
    logits = F.conv2d(features, weight[:, :, None, None], bias)
    assert torch.equal(head_argmax(features, weight, bias, chunk_elements), logits.argmax(dim=1))
    values = torch.randn(50, 2, dtype=torch.float64)
    want = torch.einsum("bqhw,qk->bkhw", torch.softmax(logits / 0.38, dim=1), values)
    assert_rel(head_softmax_mean(features, weight, bias, values, 0.38, chunk_elements), want, rel=1e-12)


@pytest.mark.parametrize("decode", ["argmax", "annealed_mean"])
def test_task_with_head_equals_task_on_full_logits(decode):
    """The wired-in path: model forward gives features, the attached task applies the head chunk-wise."""
    config = make_config("unet_classif", "smoke", decode=decode)
    torch.manual_seed(0)
    reference_task = Task(config)
    model = get_model(config.model, **reference_task.model_kwargs()).double()
    g = torch.Generator().manual_seed(3)
    weights = torch.rand(reference_task.grid.n_bins, generator=g, dtype=torch.float64)
    reference_task.weights = weights
    task = Task(config, weights).attach(model)
    task.chunk_elements = 7 * reference_task.grid.n_bins  # 7-pixel chunks over 2 x 16 x 16 pixels
    x = torch.rand(2, 1, 16, 16, generator=g, dtype=torch.float64)
    target = torch.randint(0, reference_task.grid.n_bins, (2, 16, 16), generator=g)
    with torch.no_grad():
        logits, features = model.logits(x), model(x)
    got_loss, want_loss = task.loss(features, target).detach(), reference_task.loss(logits, target).detach()
    assert float(got_loss) == pytest.approx(float(want_loss), rel=REL)
    got, want = task.decode_ab(features), reference_task.decode_ab(logits)
    if decode == "argmax":
        assert torch.equal(got, want)
    else:
        assert_rel(got, want, rel=1e-12)
    assert task.to_rgb(features, x).shape == (2, 3, 16, 16)
    with pytest.raises(ValueError, match=r"call task.attach\(model\)"):
        reference_task.loss(features, target)


def test_bf16_autocast_gives_finite_gradients_in_the_input_dtypes():
    features, weight, bias, target, class_w = problem(q=676, c=12, shape=(2, 9, 11), dtype=torch.float32)
    f = features.to(torch.bfloat16).contiguous(memory_format=torch.channels_last).requires_grad_()
    w, b = weight.clone().requires_grad_(), bias.clone().requires_grad_()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = fused_weighted_cross_entropy(f, w, b, target, class_w, chunk_elements=676 * 50)
    loss.backward()
    assert loss.dtype == torch.float32
    assert f.grad.dtype == torch.bfloat16 and w.grad.dtype == torch.float32 and b.grad.dtype == torch.float32
    assert all(torch.isfinite(t).all() for t in (loss.detach(), f.grad, w.grad, b.grad))
    # bf16 products: the value agrees with float32 to bf16 precision (~3 significant digits).
    assert float(loss.detach()) == pytest.approx(float(reference(features, weight, bias, target, class_w)), rel=2e-2)


def soft_problem(q=50, k=5, seed=1):
    """`problem`'s features and head with a soft target: k distinct bins per pixel and masses summing to 1."""
    features, weight, bias, _, class_w = problem(q=q, seed=seed)
    g = torch.Generator().manual_seed(seed)
    b, _, h, w = features.shape
    index = torch.rand(b, h, w, q, generator=g).argsort(dim=-1)[..., :k]  # k distinct bins per pixel
    index[0, 0, 0, 0] = 0  # a zero-weight nearest bin
    mass = torch.rand(b, h, w, k, generator=g, dtype=torch.float64)
    return features, weight, bias, (index, mass / mass.sum(-1, keepdim=True)), class_w


def soft_reference(features, weight, bias, target, class_w):
    logits = F.conv2d(features, weight[:, :, None, None], bias)
    return soft_weighted_cross_entropy(logits, *target, class_w)


@pytest.mark.parametrize("chunk_elements", [350, 10**6])
def test_fused_soft_loss_and_gradients_equal_dense_reference(chunk_elements):
    features, weight, bias, target, class_w = soft_problem()
    assert_fused_matches(soft_reference, features, weight, bias, target, class_w, chunk_elements)
    # No grad mode (evaluation) gives the same loss.
    with torch.no_grad():
        assert float(
            fused_weighted_cross_entropy(features, weight, bias, target, class_w, chunk_elements)
        ) == pytest.approx(float(soft_reference(features, weight, bias, target, class_w)), rel=REL)


def test_soft_target_with_all_mass_on_one_bin_is_the_hard_loss():
    features, weight, bias, target, class_w = problem()
    index = torch.stack((target, (target + 1) % 50), dim=-1)
    mass = torch.zeros(index.shape, dtype=torch.float64)
    mass[..., 0] = 1.0
    soft = fused_weighted_cross_entropy(features, weight, bias, (index, mass), class_w)
    assert float(soft) == pytest.approx(float(reference(features, weight, bias, target, class_w)), rel=REL)


def test_soft_target_shapes_are_checked():
    features, weight, bias, (index, mass), class_w = soft_problem()
    with pytest.raises(ValueError, match=r"soft target indices and weights must both have shape \(B, H, W, K\)"):
        fused_weighted_cross_entropy(features, weight, bias, (index, mass[..., :2]), class_w)
    with pytest.raises(TypeError, match="long bin indices"):
        fused_weighted_cross_entropy(features, weight, bias, (index.int(), mass), class_w)
