"""Classifier speed: the chunked fused head + loss against full logits, and training img/s per model.

Part 1, head + loss only: forward + backward of the 1x1 head and the class-weighted CE for one
cpu-profile batch (32 x 64x64 features of width 12, 676 bins), full logits ("unfused", the old path)
against `fused_head.fused_weighted_cross_entropy` at several chunk bounds (logits elements per chunk).

Part 2, training steps: images/s of forward + backward + Adam at the cpu-profile shapes
(`make_config(exp, "cpu")`: batch 32, 64x64, width 12) for unet_lab and unet_classif at bin sizes 10,
5 and 15, measured round-robin (one timed block per model per round, median over rounds) so that a
change in the machine's load hits every model alike; plus the classifier on full logits at b = 10.
Inputs are random photos: the speed does not depend on the colours.

    python bench/classifier_speed.py                    # both parts, default chunk bound
    python bench/classifier_speed.py --rounds 5 --steps 4
"""

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from colorize_lib.engine.config import make_config
from colorize_lib.engine.device import configure_threads, describe_device
from colorize_lib.engine.tasks import Task
from colorize_lib.model.fused_head import DEFAULT_CHUNK_ELEMENTS, fused_weighted_cross_entropy
from colorize_lib.model.losses import weighted_cross_entropy
from colorize_lib.model.models import get_model


def round_robin_ms(fns: dict, trials: int) -> dict:
    """Median ms of each function, timed in turns (one call each per trial) so load changes hit all alike."""
    for fn in fns.values():
        fn()  # warm-up
    times = {name: [] for name in fns}
    for _ in range(trials):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: 1e3 * statistics.median(t) for name, t in times.items()}


def head_and_loss(trials: int, chunks: list[int]) -> None:
    g = torch.Generator().manual_seed(0)
    q, c = 676, 12
    features = torch.randn(32, c, 64, 64, generator=g, requires_grad=True)
    weight = (torch.randn(q, c, generator=g) * 0.1).requires_grad_()
    bias = torch.zeros(q, requires_grad=True)
    target = torch.randint(0, q, (32, 64, 64), generator=g)
    class_w = torch.rand(q, generator=g)
    class_w[::3] = 0.0

    def unfused():
        logits = F.conv2d(features, weight[:, :, None, None], bias)
        torch.autograd.grad(weighted_cross_entropy(logits, target, class_w), (features, weight, bias))

    def fused(elements):
        loss = fused_weighted_cross_entropy(features, weight, bias, target, class_w, elements)
        torch.autograd.grad(loss, (features, weight, bias))

    fns = {"unfused": unfused} | {e: (lambda e=e: fused(e)) for e in chunks}
    ms = round_robin_ms(fns, trials)
    print(f"head + loss fwd+bwd, one batch 32 x 64x64, width {c}, {q} bins (median of {trials}, round-robin):")
    print(f"  unfused (full logits):              {ms['unfused']:7.0f} ms")
    for elements in chunks:
        note = "  <- default" if elements == DEFAULT_CHUNK_ELEMENTS["cpu"] else ""
        print(
            f"  fused, 2**{elements.bit_length() - 1:<2d} logits/chunk ({elements // q:5d} px): "
            f"{ms[elements]:7.0f} ms  ({ms['unfused'] / ms[elements]:.1f}x faster){note}"
        )


class _FullLogits(torch.nn.Module):
    """The classifier as it was: forward returns the full logits (B, Q, H, W)."""

    def __init__(self, classifier):
        super().__init__()
        self.classifier = classifier

    def forward(self, x):
        return self.classifier.logits(x)


def make_step(experiment: str, bin_size: int | None, fused: bool):
    overrides = {} if bin_size is None else {"bin_size": bin_size}
    config = make_config(experiment, "cpu", **overrides)
    torch.manual_seed(config.seed)
    task = Task(config)
    model = get_model(config.model, **task.model_kwargs()).train()
    g = torch.Generator().manual_seed(1)
    rgb = torch.rand(config.batch_size, 3, config.resolution, config.resolution, generator=g)
    x, target = task.inputs_targets(rgb)
    if task.kind == "bins":
        freq = torch.rand(task.grid.n_bins, generator=g, dtype=torch.float64)
        freq[::5] = 0.0  # bins never seen, as in real data
        task.set_frequencies(freq / freq.sum())
        if fused:
            task.attach(model)
        else:
            model = _FullLogits(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)

    def step():
        loss = task.loss(model(x), target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return config, step


def training(rounds: int, steps: int) -> None:
    cases = [
        ("unet_lab", None, True),
        ("unet_classif", 10, True),
        ("unet_classif", 5, True),
        ("unet_classif", 15, True),
        ("unet_classif", 10, False),
    ]
    built = {case: make_step(*case) for case in cases}
    rates = {case: [] for case in cases}
    for _config, step in built.values():
        step()  # warm-up
    for _ in range(rounds):
        for case, (config, step) in built.items():
            t0 = time.perf_counter()
            for _ in range(steps):
                step()
            rates[case].append(steps * config.batch_size / (time.perf_counter() - t0))
    config = built[cases[0]][0]
    print(
        f"training fwd+bwd+Adam, cpu profile (batch {config.batch_size}, {config.resolution}x{config.resolution}, "
        f"width {config.width}); median of {rounds} rounds x {steps} steps:"
    )
    lab = statistics.median(rates[cases[0]])
    for case in cases:
        experiment, bin_size, fused = case
        rate = statistics.median(rates[case])
        label = experiment if bin_size is None else f"{experiment} b={bin_size} ({'fused' if fused else 'full logits'})"
        spread = f"{min(rates[case]):.1f}-{max(rates[case]):.1f}"
        print(f"  {label:34s} {rate:7.1f} img/s  (rounds {spread})  ratio to unet_lab {rate / lab:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5, help="timed repeats of the head + loss")
    parser.add_argument("--rounds", type=int, default=3, help="round-robin rounds of the training steps")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per model per round")
    parser.add_argument(
        "--chunks",
        type=int,
        nargs="*",
        default=[2**k for k in range(17, 24)],
        help="chunk bounds (logits elements) to time; none: skip part 1",
    )
    parser.add_argument("--skip-training", action="store_true", help="part 1 only")
    args = parser.parse_args()
    configure_threads()
    print(f"device {describe_device(torch.device('cpu'))}; torch {torch.__version__}")
    if args.chunks:
        head_and_loss(args.trials, args.chunks)
    if not args.skip_training:
        training(args.rounds, args.steps)


if __name__ == "__main__":
    main()
