"""GPU check: what the paper profile needs on the card at hand, measured first, in one short slot.

    bash bench/gpu_check.sh                          # on the GPU machine: about 5 minutes on an H100/H200
    bash bench/gpu_check.sh --device cpu --tiny      # the same stages on a CPU at smoke sizes (CI runs it)
    bash bench/gpu_check.sh --stage-seconds 150,180,60 --log check.log

Three stages, each its own process group with its own time bound, each streaming to the terminal and to
the log (default: gpu_check.log in the work folder, named at the start) as it goes:

1. measure (`python bench/gpu_check.py measure`, about 2 minutes on an H100/H200): every distinct model
   shape of the paper and authors' profiles (`study_configs`: the four models, the classifier at b = 5,
   10 and 15 with the fused head, the field's classifier, the authors' 25.5M U-Net) at the profile's
   batch, resolution, width and precision: training images/s after warm-up, evaluation images/s, peak
   memory beside `bench/memory_budget.py`'s meta-device estimate, the share of a training step spent
   drawing the batch; U-Net LAB's share of the card's dense bf16 peak; then the projected wall time of
   `make reproduce PROFILE=paper` (paper data) with one training seed per run and with three, and of
   `PROFILE=authors DATA=stl10`; last, what deterministic kernels cost against cuDNN autotuning;
2. rehearsal: all eight notebooks at the paper's shapes, two steps per run (`make reproduce ENV=system
   PROFILE=rehearsal`; `--tiny`: the smoke profile's notebooks 01 and 02);
3. colorize: photos/s colorizing a 1-megapixel photo with each paper-profile model.

A stage that fails or runs out of its time is named with its status, and the next one starts; Ctrl-C
stops the running stage. In every case the check ends with a summary table: card, driver, commit, each
stage's status and time, and every figure measured (stage 1 writes each as a JSON line the moment it has
it, so a stopped stage still reports what it measured). The notebook tools come from the carried
wheelhouse (`.wheelhouse/pyX.Y`, `make wheelhouse PYTHON_VERSION=X.Y` where there is network) when this
Python lacks them, installed into the work folder while stage 1 runs. Nothing is downloaded.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("measure", "rehearsal", "colorize")
BOUNDS_S = {"cuda": (150, 180, 60), "cpu": (300, 420, 120)}  # per stage, by device
NOTEBOOK_TOOLS = ("papermill", "nbconvert", "nbclient", "ipykernel")
# Dense (no sparsity) bf16 tensor-core peaks in FLOP/s, from NVIDIA's data sheets; first match wins.
BF16_PEAK = {
    "H100 PCIe": 756e12,
    "H100 NVL": 835e12,
    "H100": 989e12,
    "H200": 989e12,
    "GH200": 989e12,
    "A100": 312e12,
    "L40S": 362e12,
    "L4": 121e12,
    "A10G": 70e12,
}
# What each projection counts: its data source and photos (train, test), from colorize_lib.reference.
PROJECTED = {"paper": "paper", "authors": "stl10"}
TINY = dict(resolution=32, image_size=64, width=4, batch_size=4)  # --tiny: every shape at smoke size


# --- stage 1: measure (its own process; imports torch) -------------------------------------------------


def shape_key(config) -> tuple:
    """What a training step's speed depends on: two runs with one key share one measurement."""
    c = config
    return (c.model, c.resolution, c.width, c.levels, c.batch_size, c.bin_size, c.bins, c.targets, c.amp)


def shapes(profile: str) -> list:
    """(label, config) for each distinct shape of `profile`'s study, in study order."""
    from colorize_lib.engine.config import study_configs

    seen, out = set(), []
    for c in study_configs(profile, PROJECTED[profile]):
        if shape_key(c) in seen:
            continue
        seen.add(shape_key(c))
        label = c.model if c.model != "unet_classif" else f"unet_classif b={c.bin_size}"
        label += " field" if c.bins == "in_gamut" else ""
        out.append((f"{label} ({profile})", c))
    return out


def measure(args) -> None:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from colorize_lib.engine.device import describe_device, setup

    device = setup(0, deterministic=True, device=args.device)
    card = torch.cuda.get_device_name(device) if device.type == "cuda" else describe_device(device)
    record = _recorder(args.results)
    record(kind="device", card=card, torch=torch.__version__, python=sys.version.split()[0])
    print(f"device: {card}; torch {torch.__version__}; python {sys.version.split()[0]}", flush=True)
    results: dict[tuple, dict] = {}
    lab = None
    for profile in ("paper", "authors"):
        for label, study_config in shapes(profile):
            config = study_config.replace(device=args.device, **(TINY if args.tiny else {}))
            try:
                r = measure_shape(config, device, args)
            except torch.cuda.OutOfMemoryError as e:
                r = dict(error=f"out of memory: {str(e).split('. ')[0]}")
            r.update(kind="shape", label=label, profile=profile, resolution=config.resolution, batch=config.batch_size)
            record(**r)
            print(_shape_line(r), flush=True)
            results[shape_key(study_config)] = r  # what the projection looks up
            lab = lab or (config if config.model == "unet_lab" and profile == "paper" else None)
    if lab is not None:
        flops, seconds = step_time(lab, device, args, deterministic=True, counter=FlopCounterMode(display=False))
        name, peak = bf16_peak(card) if device.type == "cuda" else (card, None)
        share = flops / seconds / peak if peak else None
        record(kind="lab_flops", flops=flops, step_s=seconds, peak=peak, share=share)
        said = f"{share:.3f} of {peak / 1e12:.0f} TFLOP/s (datasheet, {name})" if share else "no bf16 peak known here"
        print(
            f"U-Net LAB step: {flops / 1e12:.2f} TFLOP in {seconds * 1e3:.1f} ms = {flops / seconds / 1e12:.1f} "
            f"TFLOP/s; share of the card's dense bf16 peak: {said}",
            flush=True,
        )
    for profile in ("paper", "authors"):
        for seeds in (None, 1):  # the profile's (three for every run a verdict compares), SEEDS=1
            p = projection(profile, seeds, results)
            record(kind="projection", **p)
            print(_projection_lines(p), flush=True)
    if lab is not None:
        _, fast = step_time(lab, device, args, deterministic=False)
        record(kind="determinism", deterministic_s=seconds, autotuned_s=fast)
        print(
            f"U-Net LAB step: {seconds * 1e3:.1f} ms with deterministic kernels, {fast * 1e3:.1f} ms with cuDNN "
            f"autotuning: determinism costs {seconds / fast - 1:+.0%}",
            flush=True,
        )


def _recorder(path: Path):
    def record(**fields) -> None:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(fields) + "\n")

    return record


def _photos(config, device):
    from colorize_lib.data import load_image_set

    data = load_image_set("bundled", config.image_size, config.seed, config.test_fraction, upscale_small=True)
    return data.to(device)


def _trainer(config, device):
    """The model, its task, Adam, one step (train.train_step, as `fit` calls it) and a crop sampler."""
    import torch

    from colorize_lib.data.crops import CropSampler
    from colorize_lib.engine.device import autocast, memory_format, precision
    from colorize_lib.engine.train import build, train_step

    data = _photos(config, device)
    model, task = build(config, data)
    numerics = precision(device, config.amp)
    layout = memory_format(device, numerics, config.width)
    model = model.to(device, memory_format=layout).train()
    if task.kind == "bins":
        task.weights = task.weights.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    sampler = CropSampler(data.train, config.resolution, config.crop_scale, 64 * config.batch_size, config.seed)

    def step(rgb):
        return train_step(model, task, optimizer, rgb, lambda: autocast(device, numerics), layout)

    return data, model, task, numerics, step, sampler


def _batches(sampler, batch_size: int):
    epoch = 0
    while True:
        epoch += 1
        yield from sampler.epoch(epoch, batch_size)


def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure_shape(config, device, args) -> dict:
    """Training and evaluation images/s, peak memory, the meta estimate and the data share of one shape."""
    import torch
    from memory_budget import GIB, trace_experiment  # bench/, beside this script

    from colorize_lib.data.crops import test_views
    from colorize_lib.engine.inference import eval_batch_size, infer

    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    data, model, task, numerics, step, sampler = _trainer(config, device)
    batches = _batches(sampler, config.batch_size)
    for _ in range(args.warmup):
        step(next(batches))
    _sync(device)
    steps, t0 = 0, time.perf_counter()
    while steps < args.min_steps or time.perf_counter() - t0 < args.min_seconds:
        step(next(batches))
        steps += 1
        if steps % 5 == 0:
            _sync(device)
    _sync(device)
    train_s = (time.perf_counter() - t0) / steps
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None
    t0 = time.perf_counter()
    for _ in range(args.min_steps):  # drawing the batch alone: crops, flips, the float conversion
        next(batches)
    _sync(device)
    data_s = (time.perf_counter() - t0) / args.min_steps
    model.eval()
    views = test_views(data.test, config.resolution, 1)
    views = views.repeat(-(-args.eval_images // len(views)), 1, 1, 1)[: args.eval_images]
    infer(model, task, views[:2], eval_batch_size(config), numerics)  # warm-up
    _sync(device)
    t0 = time.perf_counter()
    infer(model, task, views, eval_batch_size(config), numerics)
    _sync(device)
    eval_rate = len(views) / (time.perf_counter() - t0)
    estimate = trace_experiment(config).train_peak / GIB
    return dict(
        model=config.model,
        precision=numerics,
        train_rate=config.batch_size / train_s,
        eval_rate=eval_rate,
        peak_gib=peak,
        estimate_gib=estimate,
        data_share=data_s / train_s,
        key=list(shape_key(config)),
    )


def step_time(config, device, args, deterministic: bool, counter=None) -> tuple[float, float]:
    """(FLOPs of one training step, counted once under `counter`, else 0; seconds per step after warm-up)."""
    import torch

    torch.use_deterministic_algorithms(deterministic, warn_only=True)
    torch.backends.cudnn.benchmark = not deterministic
    _, _, _, _, step, sampler = _trainer(config, device)
    batches = _batches(sampler, config.batch_size)
    flops = 0
    if counter is not None:
        with counter:
            step(next(batches))
        flops = counter.get_total_flops()
    for _ in range(args.warmup):
        step(next(batches))
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(args.min_steps):
        step(next(batches))
    _sync(device)
    return flops, (time.perf_counter() - t0) / args.min_steps


def bf16_peak(card: str) -> tuple[str, float | None]:
    return card, next((peak for key, peak in BF16_PEAK.items() if key in card), None)


def projection(profile: str, seeds: int | None, results: dict[tuple, dict]) -> dict:
    """Training and evaluation seconds of every run of `profile` on its data (`study_configs`: each training
    seed a run; `seeds`: SEEDS=, None the profile's): crops per epoch (or one pass over the training photos)
    x epochs at the shape's training rate, plus the test and validation photos scored after every epoch and
    once more for the tables."""
    from colorize_lib.engine.config import study_configs
    from colorize_lib.reference import PAPER_TEST_IMAGES, PAPER_TRAIN_IMAGES, STL10_TEST_IMAGES, STL10_TRAIN_IMAGES

    train_images, test_images = {
        "paper": (PAPER_TRAIN_IMAGES, PAPER_TEST_IMAGES),
        "authors": (STL10_TRAIN_IMAGES, STL10_TEST_IMAGES),
    }[profile]
    train_s = eval_s = 0.0
    missing = []
    configs = study_configs(profile, PROJECTED[profile], seeds=seeds)
    for c in configs:
        r = results.get(shape_key(c))
        if r is None or "error" in r:
            missing.append(c.name)
            continue
        val = round(train_images * c.val_fraction)
        train_s += c.epochs * (c.samples_per_epoch or train_images - val) / r["train_rate"]
        eval_s += (c.epochs + 1) * (test_images + val) / r["eval_rate"]
    return dict(profile=profile, seeds=seeds, runs=len(configs), train_s=train_s, eval_s=eval_s, missing=missing)


def _shape_line(r: dict) -> str:
    if "error" in r:
        return f"  {r['label']:34s} FAILED: {r['error']}"
    peak = "   n/a" if r["peak_gib"] is None else f"{r['peak_gib']:6.2f}"
    return (
        f"  {r['label']:34s} {r['resolution']:3d}² batch {r['batch']:3d} {r['precision']:7s} train "
        f"{r['train_rate']:9.1f} img/s  eval {r['eval_rate']:9.1f} img/s  peak {peak} GiB (estimate "
        f"{r['estimate_gib']:6.2f})  data {r['data_share']:.1%} of a step"
    )


def _projection_lines(p: dict) -> str:
    what = "make reproduce PROFILE=paper DATA=paper" if p["profile"] == "paper" else "PROFILE=authors DATA=stl10"
    seeds = "SEEDS=1" if p["seeds"] == 1 else "the profile's seeds (3 for every run a verdict compares)"
    seeds += f", {p['runs']} runs"
    line = (
        f"projected {what}, {seeds}: {(p['train_s'] + p['eval_s']) / 3600:.2f} h of training and evaluation "
        f"({p['train_s'] / 3600:.2f} h training), plus the notebooks' own time (the rehearsal's)"
    )
    return line + (f"; no rate for {', '.join(p['missing'])}" if p["missing"] else "")


# --- the check: stages as process groups, streamed, bounded; the summary ---------------------------------


class Stage:
    def __init__(self, name: str, bound: int, command: list[str], notebooks: Path | None = None):
        self.name, self.bound, self.command, self.notebooks = name, bound, command, notebooks
        self.status, self.seconds, self.lines = "not run", 0.0, []

    def logs(self) -> list[Path]:
        """The logs of notebooks this stage started and has not finished (the rehearsal's)."""
        if self.notebooks is None:
            return []
        logs = self.notebooks.glob("*.ipynb.log")
        return [p for p in logs if not p.with_name(p.name.removesuffix(".log")).exists()]


def run_stage(stage: Stage, env: dict, log) -> None:
    """Run `stage` in its own process group, every output line to the terminal and the log as it comes;
    stop the group (SIGTERM, then SIGKILL) when its time is up or on Ctrl-C."""
    say(log, f"\n== stage {stage.name} (at most {stage.bound} s): {' '.join(stage.command)}")
    t0 = time.monotonic()
    proc = subprocess.Popen(
        stage.command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,
        bufsize=1,
    )

    def pump():
        for line in proc.stdout:
            stage.lines.append(line.rstrip("\n"))
            say(log, line.rstrip("\n"))

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        rc = proc.wait(timeout=stage.bound)
        stage.status = "ok" if rc == 0 else f"FAILED (exit {rc})"
    except subprocess.TimeoutExpired:
        for log_file in stage.logs():  # where a notebook was when its time ran out
            say(log, f"-- the last lines of {log_file}:")
            say(log, "\n".join(log_file.read_text(errors="replace").splitlines()[-15:]))
        _stop(proc)
        stage.status = f"OUT OF TIME after {stage.bound} s"
    except KeyboardInterrupt:
        _stop(proc, signal.SIGINT)
        stage.status = "stopped (Ctrl-C or SIGTERM)"
        raise
    finally:
        reader.join(timeout=5)
        stage.seconds = time.monotonic() - t0
        say(log, f"== stage {stage.name}: {stage.status}, {stage.seconds:.0f} s")


def _stop(proc: subprocess.Popen, first=signal.SIGTERM, grace_s: float = 10.0) -> None:
    """Signal the stage's process group (the notebook runner stops its kernel on SIGTERM), then kill it."""
    try:
        os.killpg(proc.pid, first)
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def say(log, text: str) -> None:
    print(text, flush=True)
    log.write(text + "\n")
    log.flush()


def notebook_tools(python: str, work: Path, env: dict, log) -> subprocess.Popen | None:
    """Start installing papermill, nbconvert, nbclient and ipykernel from the carried wheelhouse into the work
    folder when `python` lacks them (returns the pip process, or None when nothing is needed)."""
    check = [python, "-c", f"import {', '.join(NOTEBOOK_TOOLS)}"]
    if subprocess.run(check, env=env, capture_output=True).returncode == 0:
        return None
    version = subprocess.run(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True
    ).stdout.strip()
    wheels = ROOT / ".wheelhouse" / f"py{version}"
    if not wheels.is_dir():
        say(
            log,
            f"notebook tools: {', '.join(NOTEBOOK_TOOLS)} are not importable and {wheels} is missing; "
            f"build it where there is network (make wheelhouse PYTHON_VERSION={version}) and carry .wheelhouse",
        )
        return None
    say(log, f"notebook tools: installing from {wheels} into {work / 'site'} while stage 1 runs")
    command = [
        python,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-index",
        "--find-links",
        str(wheels),
        "--target",
        str(work / "site"),
        *NOTEBOOK_TOOLS,
    ]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def summary(stages: list[Stage], work: Path, args, log) -> None:
    records = []
    results = work / "measured.jsonl"
    if results.exists():
        records = [json.loads(line) for line in results.read_text().splitlines() if line.strip()]
    device = next((r for r in records if r["kind"] == "device"), {})
    say(
        log,
        "\n== summary of the GPU check"
        + (" (tiny: smoke-sized models, nothing real is projected)" if args.tiny else ""),
    )
    say(
        log,
        f"card: {device.get('card', 'unknown')}; driver {driver()}; torch {device.get('torch', '?')}; "
        f"python {device.get('python', '?')}; commit {commit(args)}; log {args.log}",
    )
    say(log, f"{'stage':10s} {'status':34s} {'time':>6s}")
    for s in stages:
        say(log, f"{s.name:10s} {s.status:34s} {s.seconds:5.0f}s")
    shapes_ = [r for r in records if r["kind"] == "shape"]
    if shapes_:
        say(log, "per shape (training at the profile's batch and precision; peak memory against the meta estimate):")
        for r in shapes_:
            say(log, _shape_line(r))
    for r in records:
        if r["kind"] == "lab_flops":
            achieved = r["flops"] / r["step_s"]
            share = f"{r['share']:.3f} of the card's dense bf16 peak" if r["share"] else "no dense bf16 peak known here"
            say(log, f"U-Net LAB: {achieved / 1e12:.2f} TFLOP/s achieved, {share}")
        if r["kind"] == "determinism":
            say(
                log,
                f"U-Net LAB: deterministic kernels cost {r['deterministic_s'] / r['autotuned_s'] - 1:+.0%} against "
                f"cuDNN autotuning ({r['deterministic_s'] * 1e3:.1f} against {r['autotuned_s'] * 1e3:.1f} ms a step)",
            )
    notebooks = rehearsal_times(work / "reports", stages[1])
    if notebooks:
        say(log, "rehearsal, seconds per notebook (its fixed cost: two steps per run, two test photos):")
        say(log, "  " + ", ".join(f"{n} {s:.0f}" for n, s in notebooks.items()))
    overhead = sum(notebooks.values()) if len(notebooks) == 8 else None
    for r in records:
        if r["kind"] == "projection":
            hours = (r["train_s"] + r["eval_s"] + (overhead or 0)) / 3600
            whose = (
                "with the rehearsal's notebook time"
                if overhead
                else "without the notebooks' own time (no full rehearsal)"
            )
            say(log, _projection_lines(r).split(":")[0] + f": {hours:.2f} h {whose}")
    speeds = [line.strip() for line in stages[2].lines if "photos/s" in line]
    if speeds:
        say(log, "colorize, photos/s for a 1-megapixel photo:")
        for line in speeds:
            say(log, "  " + line)


def rehearsal_times(reports: Path, stage: Stage) -> dict[str, float]:
    """Seconds each notebook of the rehearsal took (the runner's record, reports/.timings.json)."""
    try:
        timings = json.loads((reports / ".timings.json").read_text())
    except (OSError, ValueError):
        return {}
    entries = next(iter(timings.values()), {})
    return {name: entry["seconds"] for name, entry in sorted(entries.items())}


def driver() -> str:
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"], capture_output=True, text=True
        )
        return out.stdout.strip() or "none"
    except OSError:
        return "none (no nvidia-smi)"


def commit(args) -> str:
    if args.commit:
        return args.commit
    out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return out.stdout.strip() or "unknown (no git here: pass --commit)"


def check(args) -> int:
    python = sys.executable
    work = Path(tempfile.mkdtemp(prefix="gpu_check."))
    args.log = args.log or work / "gpu_check.log"
    bounds = [int(b) for b in args.stage_seconds.split(",")] if args.stage_seconds else BOUNDS_S[args.device]
    if len(bounds) != 3:
        raise SystemExit(f"--stage-seconds {args.stage_seconds!r}: expected three numbers, e.g. 150,180,60")
    env = dict(os.environ, COLORIZE_DATA_DIR=str(work / "data"), MPLBACKEND="Agg", PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("COLORIZE_RUN_STARTED", None)
    tiny = ["--tiny"] if args.tiny else []
    measure_cmd = [
        python,
        str(Path(__file__)),
        "measure",
        "--device",
        args.device,
        "--results",
        str(work / "measured.jsonl"),
        *tiny,
    ]
    profile, target = (
        ("smoke", str(work / "reports" / "notebooks" / "02_baseline_cnn.ipynb"))
        if args.tiny
        else ("rehearsal", "reproduce")
    )
    rehearsal_cmd = [
        "make",
        "--no-print-directory",
        "-C",
        str(ROOT),
        target,
        "ENV=system",
        f"PYTHON={python}",
        f"PROFILE={profile}",
        f"REPORTS={work / 'reports'}",
    ]
    speed_args = (
        ["--profile", "smoke", "--side", "96", "--rounds", "1", "--photos", "1"]
        if args.tiny
        else ["--profile", "paper", "--rounds", "2", "--photos", "2"]
    )
    colorize_cmd = [python, str(ROOT / "bench" / "colorize_speed.py"), *speed_args]
    stages = [Stage(n, b, c) for n, b, c in zip(STAGES, bounds, (measure_cmd, rehearsal_cmd, colorize_cmd))]
    stages[1].notebooks = work / "reports" / "notebooks"
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a job's end (timeout, scancel): as Ctrl-C
    with open(args.log, "a", encoding="utf-8") as log:
        say(log, f"== GPU check: python {sys.version.split()[0]} ({python}); work folder {work}; log {args.log}")
        status = 0
        try:
            installing = notebook_tools(python, work, env, log)
            run_stage(stages[0], env, log)
            if installing is not None:
                out, _ = installing.communicate()
                if installing.returncode:
                    say(log, f"notebook tools: pip failed (exit {installing.returncode}):\n{out}")
                env["PYTHONPATH"] = os.pathsep.join([env["PYTHONPATH"], str(work / "site")])
            run_stage(stages[1], env, log)
            run_stage(stages[2], env, log)
        except KeyboardInterrupt:
            status = 130
        summary(stages, work, args, log)
    return status or (0 if all(s.status == "ok" for s in stages) else 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", default="check", choices=("check", "measure"))
    parser.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    parser.add_argument("--tiny", action="store_true", help="smoke-sized models and notebooks: a quick CPU check")
    parser.add_argument("--stage-seconds", help="time bounds of the three stages, e.g. 150,180,60")
    parser.add_argument("--log", type=Path, help="log file (default: gpu_check.log in the work folder)")
    parser.add_argument("--commit", help="the commit checked, where the tree has no .git")
    parser.add_argument("--results", type=Path, help="measure: JSON lines to append each figure to")
    parser.add_argument("--warmup", type=int, default=3, help="measure: steps before timing")
    parser.add_argument("--min-steps", type=int, default=5, help="measure: timed steps at least")
    parser.add_argument("--min-seconds", type=float, default=1.5, help="measure: timed seconds at least")
    parser.add_argument("--eval-images", type=int, default=64, help="measure: images colorized to time evaluation")
    args = parser.parse_args()
    # Ctrl-C stops a stage whoever started the check: a shell that starts a job in the background (nohup, a CI
    # runner) leaves SIGINT ignored, and Python then installs no KeyboardInterrupt of its own.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if args.command == "measure":
        if args.tiny:
            args.min_seconds, args.eval_images = 0.0, 8
        measure(args)
        return
    sys.exit(check(args))


if __name__ == "__main__":
    main()
