"""GPU memory budget of every experiment of a profile, traced on the `meta` device (no GPU needed).

For each experiment that a profile trains (the four models, one row for the alpha ablation, the three
bin sizes of the bin ablation) it traces, with `torch.distributed._tools.mem_tracker.MemTracker`:

- train step: the steady-state step of `train.train_epoch`, through the public path:
  `task.inputs_targets(rgb)`, `out = model(x)` (under bf16 autocast), `task.loss(out, target)`,
  `zero_grad`, `backward`, Adam `step`. One untraced step before it creates the gradients and Adam
  states, so the traced step holds what every later step holds (the previous step's gradients live
  through the forward pass, as `train_epoch` frees them only just before `backward`).
- eval batch: one batch of `train.evaluate_loss_psnr` (model output, loss, RGB decoding, PSNR under
  `no_grad`) at the evaluation batch size (the training batch size, as `fit` uses), while the
  parameters, gradients and Adam states of training stay resident, as they do in `fit`.

Both peaks count every tensor alive at the worst moment: parameters, buffers, gradients, Adam states,
activations saved for backward and temporaries. Model and task are built as `train.build` builds them,
with uniform class weights (weights change values, not sizes), so no data is read. Because the tool only
calls the public path, it measures whatever `Task.loss` / `Task.to_rgb` do (e.g. a chunked, fused head).

bf16 autocast. The real run (`amp=True`) wraps the model's forward in `torch.autocast("cuda", bfloat16)`.
No autocast applies to meta tensors (CPU autocast skips them), so `CudaAutocastOnMeta` replays CUDA
autocast's casting rules at the Python level, around the same call only: convolutions, transposed
convolutions and matrix products get bf16 copies of their float32 inputs (and weights), ops on CUDA's
float32 list (softmax, log_softmax, losses, exp/log, norms, ...) get float32 inputs, `cat`/`stack`
promote to the widest input type, everything else (BatchNorm, ReLU, pooling, sigmoid, tanh) runs in the
type it receives. Since the mode sits above autograd, as CUDA autocast does, autograd saves the bf16
copies for backward, so saved activations are bf16 while parameters, gradients and Adam states stay
float32. Not modelled: an autocast region opened inside library code (e.g. inside `Task.loss`) runs in
float32 here, which can only overestimate; float32-list reductions that take a `dtype` argument on CUDA
(`sum`, `cumsum`, `prod`) copy their input here, a slight overestimate.

What the traced figure leaves out, hence `need`: the CUDA context (~0.5 GiB, outside
`torch.cuda.max_memory_allocated`), cuDNN/cuBLAS workspaces (from none to a few hundred MiB per call),
the caching allocator's rounding and fragmentation (typically 5-15% on a conv net) and anything a
`torch.compile` run adds. `need = MARGIN * (max(train, eval) + data) + OVERHEAD_GIB`, with the photos
`fit` keeps on the GPU as `data`: the uint8 training and test photos and the float32 test views,
counted for `--train-photos` / `--test-photos` photos (default: the paper's data set). Not counted: the
one-off float32 copy of all test photos that `crops.test_views` makes before training starts.

Validation (`--validate`): at a small batch and resolution on this CPU, in float32 and in bf16 (real
CPU autocast), the meta trace of a train step is compared with (a) the same tracker on real CPU
tensors, which checks the autocast emulation, and (b) the real peak RSS growth of the same step in a
fresh process (VmHWM, reset just before the step; glibc is told to hand large freed blocks back at once
so that RSS follows live memory), which also sees what no tensor holds (oneDNN scratch buffers, the CPU
analogue of cuDNN workspaces). The classifier must agree within 20%.

    python bench/memory_budget.py                          # paper profile, bf16 autocast as on CUDA
    python bench/memory_budget.py --profile cpu --dtype fp32 --eval-batch 64
    python bench/memory_budget.py --profile authors     # the published notebook's recipe on STL-10
    python bench/memory_budget.py --validate               # meta trace vs real CPU peak RSS
"""

import argparse
import gc
import json
import os
import subprocess
import sys
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.distributed._tools.mem_tracker import MemTracker
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_map

from colorize_lib.engine.config import PROFILE_NAMES, ExperimentConfig, make_config
from colorize_lib.engine.tasks import Task
from colorize_lib.engine.train import build, train_step
from colorize_lib.model import fused_head
from colorize_lib.model.fused_head import DEFAULT_CHUNK_ELEMENTS
from colorize_lib.model.metrics import psnr
from colorize_lib.model.models import count_parameters
from colorize_lib.reference import PAPER_TEST_IMAGES, PAPER_TRAIN_IMAGES, STL10_TEST_IMAGES, STL10_TRAIN_IMAGES

# The fused head turns autocast off around its own products; autocast has no meta kind, so while tracing on
# the meta device that step is a no-op (the trace applies CUDA's autocast rules itself, below).
_no_autocast = fused_head._no_autocast
fused_head._no_autocast = lambda device: nullcontext() if device.type == "meta" else _no_autocast(device)

GIB = 2**30
BIN_SIZES = (5, 10, 15)  # notebook 07's `bin_sizes`; notebook 06's alphas all cost the same memory
MARGIN = 1.15  # allocator rounding and fragmentation, cuDNN workspaces proportional to the batch
OVERHEAD_GIB = 1.0  # CUDA context (~0.5 GiB) plus cuBLAS/cuDNN handles and fixed workspaces
DTYPES = ("bf16", "fp32")

# CUDA autocast's op lists (aten/src/ATen/autocast_mode.cpp), by Python-level function name.
_CUDA_BF16_OPS = frozenset(
    {
        "conv1d",
        "conv2d",
        "conv3d",
        "conv_tbc",
        "conv_transpose1d",
        "conv_transpose2d",
        "conv_transpose3d",
        "convolution",
        "_convolution",
        "prelu",
        "addmm",
        "addmv",
        "addr",
        "matmul",
        "__matmul__",
        "__rmatmul__",
        "einsum",
        "mm",
        "mv",
        "linear",
        "addbmm",
        "baddbmm",
        "bmm",
        "chain_matmul",
        "multi_dot",
        "linalg_multi_dot",
        "linalg_vecdot",
        "scaled_dot_product_attention",
        "lstm_cell",
        "gru_cell",
        "rnn_tanh_cell",
        "rnn_relu_cell",
    }
)
_CUDA_FP32_OPS = frozenset(
    {
        "acos",
        "asin",
        "cosh",
        "erfinv",
        "exp",
        "expm1",
        "log",
        "log10",
        "log2",
        "log1p",
        "reciprocal",
        "rsqrt",
        "sinh",
        "tan",
        "pow",
        "__pow__",
        "softplus",
        "layer_norm",
        "group_norm",
        "norm",
        "frobenius_norm",
        "nuclear_norm",
        "cosine_similarity",
        "poisson_nll_loss",
        "cosine_embedding_loss",
        "nll_loss",
        "nll_loss2d",
        "hinge_embedding_loss",
        "kl_div",
        "l1_loss",
        "smooth_l1_loss",
        "huber_loss",
        "mse_loss",
        "margin_ranking_loss",
        "multilabel_margin_loss",
        "soft_margin_loss",
        "triplet_margin_loss",
        "multi_margin_loss",
        "binary_cross_entropy_with_logits",
        "dist",
        "pdist",
        "cdist",
        "renorm",
        "logsumexp",
        "softmax",
        "log_softmax",
        "cross_entropy",
        "cumsum",
        "cumprod",
        "sum",
        "prod",
    }
)
_CUDA_PROMOTE_OPS = frozenset(
    {
        "addcdiv",
        "addcmul",
        "atan2",
        "bilinear",
        "cross",
        "dot",
        "grid_sampler",
        "index_put",
        "scatter_add",
        "tensordot",
        "cat",
        "stack",
    }
)


class CudaAutocastOnMeta(TorchFunctionMode):
    """CUDA bf16 autocast's casting rules, applied to tensors of any device (see the module docstring)."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        if name in _CUDA_BF16_OPS:
            args, kwargs = _cast_floats((args, kwargs), torch.bfloat16)
        elif name in _CUDA_FP32_OPS:
            args, kwargs = _cast_floats((args, kwargs), torch.float32)
        elif name in _CUDA_PROMOTE_OPS:
            dtypes = [t.dtype for t in _tensors((args, kwargs)) if _castable(t)]
            if dtypes:
                widest = max(dtypes, key=lambda d: torch.finfo(d).bits)
                args, kwargs = _cast_floats((args, kwargs), widest)
        return func(*args, **kwargs)


def _cpu_autocast():
    # CPU autocast casts these models' ops as CUDA's does (convolutions to bf16, the rest as received).
    return torch.autocast("cpu", dtype=torch.bfloat16)


def _castable(t) -> bool:
    # Autocast casts floating tensors but float64 (autocast_mode.h, is_autocast_eligible).
    return isinstance(t, torch.Tensor) and t.is_floating_point() and t.dtype != torch.float64


def _tensors(tree) -> list:
    found = []
    tree_map(lambda t: found.append(t) if isinstance(t, torch.Tensor) else None, tree)
    return found


def _cast_floats(tree, dtype: torch.dtype):
    return tree_map(lambda t: t.to(dtype) if _castable(t) and t.dtype != dtype else t, tree)


class _MetaScalarsAreZero(TorchDispatchMode):
    """Reading a value from a meta tensor (`.item()`, `int(t)`) gives 0 instead of failing.

    Sizes never depend on such reads in this code base: they feed checks such as the bin-index range
    test in `ABGrid.decode`, and loss values that are only printed.
    """

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func is torch.ops.aten._local_scalar_dense.default and args[0].is_meta:
            return 0
        return func(*args, **(kwargs or {}))


@dataclass(frozen=True)
class Budget:
    """Traced peaks of one experiment, in bytes."""

    params: int
    train_peak: int
    eval_peak: int
    data: int  # photos and test views that `fit` keeps on the device

    @property
    def need(self) -> float:
        """GiB to plan for: traced peak plus data, with the allocator margin and fixed overhead."""
        return MARGIN * (max(self.train_peak, self.eval_peak) + self.data) / GIB + OVERHEAD_GIB


def experiments(profile: str) -> list[tuple[str, ExperimentConfig]]:
    """(row label, config) of every experiment the notebooks train under `profile`."""
    if profile not in PROFILE_NAMES:
        raise ValueError(f"parameter 'profile' = {profile!r} is invalid: expected one of {PROFILE_NAMES}")
    rows = [(name, make_config(name, profile)) for name in ("baseline", "unet_rgb", "unet_lab", "unet_classif")]
    rows.append(("alpha_ablation (each α)", make_config("alpha_ablation", profile)))
    rows += [(f"bin_ablation b={b}", make_config("bin_ablation", profile, bin_size=b)) for b in BIN_SIZES]
    return rows


def build_task_model(config: ExperimentConfig, device: str | torch.device = "meta") -> tuple[Task, torch.nn.Module]:
    """Task and model as training builds them (`train.build`, every class weighing 1), on `device`."""
    with torch.device(device):
        model, task = build(config)
    if torch.device(device).type == "meta":
        task.chunk_elements = DEFAULT_CHUNK_ELEMENTS["cuda"]  # the chunks a CUDA run would use
    return task, model


def make_optimizer(model: torch.nn.Module, config: ExperimentConfig) -> torch.optim.Adam:
    # foreach=True is what Adam picks for CUDA parameters; its temporaries are part of the peak.
    return torch.optim.Adam(model.parameters(), lr=config.lr, foreach=True)


def eval_batch(model, task: Task, rgb: torch.Tensor, autocast=nullcontext) -> None:
    """One batch of `train.evaluate_loss_psnr`."""
    with torch.no_grad():
        x, target = task.inputs_targets(rgb)
        with autocast():
            out = model(x)
        task.loss(out, target)
        psnr(task.to_rgb(out, x), rgb)


def _traced_peak(run, model, optimizer) -> int:
    tracker = MemTracker()  # one iteration per tracker
    tracker.track_external(model, optimizer)
    with tracker, _MetaScalarsAreZero():
        run()
    return sum(per_device["Total"] for per_device in tracker.get_tracker_snapshot("peak").values())


def data_bytes(config: ExperimentConfig, train_photos: int, test_photos: int) -> int:
    """uint8 photos (train + test) plus float32 test views, as `fit` holds them on the device."""
    photos = (train_photos + test_photos) * 3 * config.image_size**2
    views = test_photos * config.test_views * 3 * config.resolution**2 * 4
    return photos + views


def trace_experiment(
    config: ExperimentConfig,
    dtype: str = "bf16",
    eval_batch_size: int | None = None,
    train_photos: int = PAPER_TRAIN_IMAGES,
    test_photos: int = PAPER_TEST_IMAGES,
    device: str = "meta",
) -> Budget:
    """Peak memory of one steady-state train step and one eval batch of `config`, traced on `device`.

    device "meta" (no memory, no compute) emulates CUDA autocast for bf16; device "cpu" really runs
    the step, with CPU autocast for bf16 (used by `--validate` to check the emulation).
    """
    if dtype not in DTYPES:
        raise ValueError(f"parameter 'dtype' = {dtype!r} is invalid: expected one of {DTYPES}")
    if device not in ("meta", "cpu"):
        raise ValueError(f"parameter 'device' = {device!r} is invalid: expected 'meta' or 'cpu'")
    if eval_batch_size is None:
        eval_batch_size = config.batch_size
    if eval_batch_size < 1:
        raise ValueError(f"parameter 'eval_batch_size' = {eval_batch_size} is invalid: expected >= 1")
    autocast = nullcontext if dtype == "fp32" else CudaAutocastOnMeta if device == "meta" else _cpu_autocast
    task, model = build_task_model(config, device)
    optimizer = make_optimizer(model, config)
    side = config.resolution

    def batch(n: int) -> torch.Tensor:
        return torch.rand(n, 3, side, side, device=device)

    model.train()
    with _MetaScalarsAreZero():
        train_step(model, task, optimizer, batch(config.batch_size), autocast)  # creates grads and Adam states
    train_peak = _traced_peak(
        lambda: train_step(model, task, optimizer, batch(config.batch_size), autocast), model, optimizer
    )
    model.eval()
    eval_peak = _traced_peak(lambda: eval_batch(model, task, batch(eval_batch_size), autocast), model, optimizer)
    return Budget(count_parameters(model), train_peak, eval_peak, data_bytes(config, train_photos, test_photos))


def budget_table(
    profile: str,
    dtype: str = "bf16",
    eval_batch_size: int | None = None,
    train_photos: int = PAPER_TRAIN_IMAGES,
    test_photos: int = PAPER_TEST_IMAGES,
) -> list[dict]:
    """One row per experiment of `profile`: settings, parameters and traced peaks in GiB."""
    rows = []
    for label, config in experiments(profile):
        b = trace_experiment(config, dtype, eval_batch_size, train_photos, test_photos)
        rows.append(
            dict(
                experiment=label,
                model=config.model,
                resolution=config.resolution,
                batch=config.batch_size,
                eval_batch=eval_batch_size or config.batch_size,
                params=b.params,
                train_gib=b.train_peak / GIB,
                eval_gib=b.eval_peak / GIB,
                data_gib=b.data / GIB,
                need_gib=b.need,
            )
        )
    return rows


def format_report(rows: list[dict], profile: str, dtype: str) -> str:
    """The table and the summary line `<profile> profile peak: X GiB (experiment)`."""
    head = ("experiment", "model", "res", "batch", "eval b", "params", "train GiB", "eval GiB", "data GiB", "need GiB")
    lines = [
        f"{head[0]:<24} {head[1]:<13} {head[2]:>4} {head[3]:>5} {head[4]:>6} {head[5]:>7} "
        f"{head[6]:>9} {head[7]:>8} {head[8]:>8} {head[9]:>8}"
    ]
    for r in rows:
        lines.append(
            f"{r['experiment']:<24} {r['model']:<13} {r['resolution']:>4} {r['batch']:>5} "
            f"{r['eval_batch']:>6} {r['params'] / 1e6:>6.2f}M {r['train_gib']:>9.2f} "
            f"{r['eval_gib']:>8.2f} {r['data_gib']:>8.2f} {r['need_gib']:>8.1f}"
        )
    top = max(rows, key=lambda r: max(r["train_gib"], r["eval_gib"]))
    lines.append(f"dtype {dtype}; need = {MARGIN} x (max(train, eval) + data) + {OVERHEAD_GIB} GiB")
    lines.append(
        f"{profile} profile peak: {max(top['train_gib'], top['eval_gib']):.2f} GiB ({top['experiment']}), "
        f"need {top['need_gib']:.1f} GiB with data and margin"
    )
    return "\n".join(lines)


# --- validation against a real CPU measurement -------------------------------------------------------

CLASSIFIER_TOLERANCE = 0.20  # required agreement of the classifier's trace with the measured peak
VALIDATION_CASES = (  # (experiment, overrides): small enough for a few seconds on a 2-core CPU
    ("unet_classif", dict(resolution=64, batch_size=8, width=12)),
    ("unet_lab", dict(resolution=96, image_size=96, batch_size=16, width=12)),
)


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field} line (this measurement needs Linux)")


def measure_cpu_step(config: ExperimentConfig, dtype: str) -> int:
    """Peak RSS growth (bytes) of one steady-state train step on this CPU, in this process.

    dtype bf16 uses CPU autocast, whose casts agree with CUDA's for every module of these models
    (convolutions in bf16, the rest in the type received). Meant for a fresh process
    (`--measure-rss`): the baseline is the process with torch loaded and its kernels warmed up on a
    tiny model, before the measured model exists.
    """
    torch.set_num_threads(1)
    autocast = _cpu_autocast if dtype == "bf16" else nullcontext
    tiny = config.replace(width=2, batch_size=2, resolution=32)  # BatchNorm needs > 1 value per channel
    task, model = build_task_model(tiny, "cpu")
    train_step(model, task, make_optimizer(model, tiny), torch.rand(2, 3, 32, 32), autocast)
    del task, model
    gc.collect()
    base = _status_kib("VmRSS")
    task, model = build_task_model(config, "cpu")
    optimizer = make_optimizer(model, config)
    rgb = torch.rand(config.batch_size, 3, config.resolution, config.resolution)
    train_step(model, task, optimizer, rgb, autocast)  # creates grads and Adam states
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    train_step(model, task, optimizer, rgb, autocast)
    return (_status_kib("VmHWM") - base) * 1024


def validate(dtypes: tuple[str, ...] = DTYPES) -> list[dict]:
    """Meta-traced vs measured CPU peak of a train step, for each of VALIDATION_CASES and dtype."""
    results = []
    for name, overrides in VALIDATION_CASES:
        config = make_config(name, "smoke", **overrides)
        for dtype in dtypes:
            traced = trace_experiment(config, dtype).train_peak
            on_cpu = trace_experiment(config, dtype, device="cpu").train_peak
            # Large blocks straight from and back to the OS, so that RSS follows the live tensors.
            env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536", MALLOC_TRIM_THRESHOLD_="65536")
            cmd = [sys.executable, __file__, "--measure-rss", json.dumps(config.to_dict()), "--dtype", dtype]
            out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
            if out.returncode != 0:
                raise RuntimeError(f"measuring {name} ({dtype}) in a subprocess failed:\n{out.stderr}")
            measured = int(out.stdout.strip().splitlines()[-1])
            results.append(
                dict(
                    experiment=name,
                    dtype=dtype,
                    resolution=config.resolution,
                    batch=config.batch_size,
                    width=config.width,
                    traced_mib=traced / 2**20,
                    cpu_tensors_mib=on_cpu / 2**20,
                    measured_mib=measured / 2**20,
                    ratio=traced / measured,
                )
            )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="paper", choices=PROFILE_NAMES)
    parser.add_argument(
        "--dtype", default="bf16", choices=DTYPES, help="bf16: autocast as the CUDA run (amp=True); fp32: no autocast"
    )
    parser.add_argument(
        "--eval-batch",
        type=int,
        default=None,
        help="evaluation batch size (default: the training batch size, as fit uses)",
    )
    parser.add_argument("--train-photos", type=int, help="default: the paper's 5,882 (STL-10's 5,000 for authors)")
    parser.add_argument("--test-photos", type=int, help="default: the paper's 1,037 (STL-10's 8,000 for authors)")
    parser.add_argument("--validate", action="store_true", help="compare the trace with a real CPU step")
    parser.add_argument("--measure-rss", metavar="CONFIG_JSON", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.eval_batch is not None and args.eval_batch < 1:
        parser.error(f"--eval-batch must be >= 1, got {args.eval_batch}")
    if args.measure_rss:
        print(measure_cpu_step(ExperimentConfig.from_dict(json.loads(args.measure_rss)), args.dtype))
        return 0
    if args.validate:
        results = validate()
        for r in results:
            print(
                f"{r['experiment']:<13} {r['dtype']} {r['resolution']}² batch {r['batch']} width {r['width']}: "
                f"meta trace {r['traced_mib']:.1f} MiB, real CPU tensors traced {r['cpu_tensors_mib']:.1f} MiB, "
                f"measured peak RSS growth {r['measured_mib']:.1f} MiB, meta trace/measured {r['ratio']:.3f}"
            )
        off = [r for r in results if r["experiment"] == "unet_classif" and abs(r["ratio"] - 1) > CLASSIFIER_TOLERANCE]
        if off:
            print(f"FAIL: the classifier's trace is off the measurement by more than {CLASSIFIER_TOLERANCE:.0%}")
            return 1
        print(f"classifier within {CLASSIFIER_TOLERANCE:.0%} of the measurement: OK")
        return 0
    stl10 = args.profile == "authors"  # the authors' notebook setting trains on STL-10 (DATA=stl10)
    train_photos = args.train_photos or (STL10_TRAIN_IMAGES if stl10 else PAPER_TRAIN_IMAGES)
    test_photos = args.test_photos or (STL10_TEST_IMAGES if stl10 else PAPER_TEST_IMAGES)
    rows = budget_table(args.profile, args.dtype, args.eval_batch, train_photos, test_photos)
    print(format_report(rows, args.profile, args.dtype))
    return 0


if __name__ == "__main__":
    sys.exit(main())
