"""`make train`: every distinct run of a profile, trained before (or instead of) the notebooks, which then
reload the runs by identity (`fit` finds them finished) and train nothing.

- Runs: `experiments.study_configs` for the profile, data, seed(s) and test fraction, each distinct run once,
  longest first (`estimate`: the run's own measured speed where it has one, else the reference speed, times
  the epochs it has left), so the wall time approaches the longest run's. Finished runs are skipped;
  unfinished ones resume from their last epoch.
- Where: `executors.LocalPool` (this machine, WORKERS at a time) or `executors.SlurmArray` (a Slurm cluster,
  one job array through submitit). Either way a run is `python -m colorize_lib.engine.train CONFIG`, its
  output in `<logs>/<run>.log`; here, one line per start and end with the time left. Ctrl-C stops the local
  workers (each keeps its last finished epoch) and leaves a Slurm array running.

    python -m colorize_tools.train_all --profile cpu --workers 2
    python -m colorize_tools.train_all --profile paper --data paper --executor slurm --slurm-partition gpu
"""

import argparse
import heapq
import signal
import sys
import threading
import time
from pathlib import Path

from . import estimate
from .executors import Job, LocalPool, SlurmArray, SlurmSettings


def photos_key(config) -> tuple:
    """What decides a config's photos (`data.load_images`): runs with one key share one cached set."""
    return (
        config.data,
        config.image_size,
        config.seed,
        config.test_fraction,
        config.val_fraction,
        config.upscale_small,
        config.max_test_images,
    )


def plan(configs: list, logs: Path, train_photos: dict[tuple, int]) -> tuple[list[Job], int]:
    """(jobs still to train, longest first; count of finished runs). `train_photos`: photos_key -> training
    photos, the epoch of a run that makes one pass over them."""
    seeds = {c.name: set() for c in configs}
    for c in configs:
        seeds[c.name].add(c.seed)
    jobs = []
    for c in configs:
        label = c.name if c.seed == min(seeds[c.name]) else f"{c.name}-seed{c.seed}"
        photos = train_photos[photos_key(c)]
        jobs.append(Job(label, c, run_seconds(c, photos), logs / f"{label}.log", photos))
    todo = sorted((j for j in jobs if j.seconds > 0), key=lambda j: (-j.seconds, j.label))
    return todo, len(jobs) - len(todo)


def run_seconds(config, train_photos: int) -> float:
    """Estimated seconds of training `config`'s run still needs on one worker (0: finished): its own
    measured speed where it has trained an epoch, else the reference speed of the project's 2-core CPU."""
    from colorize_lib.engine.device import precision_of

    done, ms, _ = estimate.run_progress(config)
    if done >= config.epochs:
        return 0.0
    ms = ms or estimate.reference_ms(config, precision_of(config))
    return (config.epochs - done) * (config.samples_per_epoch or train_photos) * ms / 1000


def makespan(seconds: list[float], workers: int) -> float:
    """Wall time of running jobs of these lengths longest first, each on the first free of `workers`."""
    free = [0.0] * max(1, workers)
    for s in sorted(seconds, reverse=True):
        heapq.heapreplace(free, free[0] + s)
    return max(free)


def follow(executor, jobs: list[Job], say=print) -> list[Job]:
    """Hand `jobs` (longest first) to `executor` and report each start and end with the time left; return
    the runs that failed or were cancelled. Ctrl-C (or SIGTERM): the executor's `interrupt` (local workers
    stop, a Slurm array keeps running), then KeyboardInterrupt."""
    ended, failed = 0, []
    t0 = time.monotonic()
    # A flag, not an exception: Ctrl-C between starting a worker and counting it would leave it running.
    stop = threading.Event()
    handlers = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        executor.submit(jobs, say)
        while executor.unfinished() and not stop.is_set():
            for kind, job, detail in executor.poll():
                if kind == "start":
                    say(f"start {job.label} on {job.where} ({executor.expected(job)}); log {job.log}")
                    continue
                ended += 1
                took = f" in {estimate.clock(time.monotonic() - job.started)}" if job.started else ""
                if kind == "done":
                    status = f"done  {job.label}{took}"
                else:
                    failed.append(job)
                    status = f"{kind.upper()} {job.label} ({detail}){took}: see {job.log}"
                left = executor.seconds_left()
                when = (
                    "nothing left"
                    if left == []
                    else estimate.about(None if left is None else makespan(left, executor.slots()))
                )
                say(f"{status} · {ended}/{len(jobs)} · elapsed {estimate.clock(time.monotonic() - t0)} · {when}")
            stop.wait(executor.poll_s)
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    if stop.is_set():
        executor.interrupt(say)
        raise KeyboardInterrupt
    return failed


def _gpus() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m colorize_tools.train_all", description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--data", default="bundled")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", type=int, help="training seeds of each run a verdict compares (the profile's)")
    parser.add_argument("--test-fraction", type=float, default=None)
    parser.add_argument("--executor", choices=("local", "slurm"), default="local")
    parser.add_argument("--workers", type=int, default=1, help="local: runs trained at a time (one per GPU)")
    parser.add_argument("--cancel", action="store_true", help="slurm: cancel the array make train submitted")
    defaults = SlurmSettings()
    for name, kind, text in (
        ("partition", str, "partition"),
        ("account", str, "account to charge"),
        ("minutes", int, "time limit of one run, minutes"),
        ("gpus", int, "GPUs per run (0: CPU nodes)"),
        ("cpus", int, "CPUs per run"),
        ("parallel", int, "array tasks running at a time"),
        ("poll-s", float, "seconds between looks at the array"),
    ):
        default = getattr(defaults, name.replace("-", "_"))
        parser.add_argument(f"--slurm-{name}", type=kind, default=default, help=f"slurm: {text} ({default})")
    parser.add_argument("--logs", type=Path, default=None, help="folder of the runs' logs (default: REPORTS/train)")
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # a line per run as it happens, through make's pipe too
    if args.workers < 1:
        parser.error(f"parameter 'workers' = {args.workers} is invalid: expected a count >= 1")
    for name in ("minutes", "cpus", "parallel", "poll_s"):
        if getattr(args, f"slurm_{name}") <= 0:
            parser.error(
                f"parameter 'slurm_{name}' = {getattr(args, f'slurm_{name}')} is invalid: expected a number > 0"
            )
    if args.slurm_gpus < 0:
        parser.error(f"parameter 'slurm_gpus' = {args.slurm_gpus} is invalid: expected a count >= 0")
    from colorize_lib import paths
    from colorize_lib.data import load_images
    from colorize_lib.engine.config import study_configs

    logs = args.logs or paths.REPORTS_DIR / "train"
    logs.mkdir(parents=True, exist_ok=True)
    if args.executor == "slurm":
        settings = SlurmSettings(**{k: getattr(args, f"slurm_{k}") for k in SlurmSettings.__dataclass_fields__})
        try:
            executor = SlurmArray(settings, logs)
        except RuntimeError as e:
            parser.error(str(e))
    else:
        executor = LocalPool(args.workers, _gpus())
    if args.cancel:
        if args.executor != "slurm":
            parser.error("parameter 'cancel' needs EXECUTOR=slurm: a local make train stops with Ctrl-C")
        executor.cancel()
        return 0
    try:
        configs = study_configs(
            args.profile, args.data, seeds=args.seeds, seed=args.seed, test_fraction=args.test_fraction
        )
    except ValueError as e:
        parser.error(str(e))
    # The photos first, each cached set built once here rather than by several runs at a time.
    photos = {}
    for config in configs:
        if photos_key(config) not in photos:
            photos[photos_key(config)] = len(load_images(config).train)
    jobs, finished = plan(configs, logs, photos)
    print(
        f"make train PROFILE={args.profile} DATA={args.data} SEED={args.seed}: {len(jobs)} run(s) to train, "
        f"{finished} finished; {executor.describe()}"
    )
    if not jobs:
        print("nothing to train: the notebooks will reload every run")
        return 0
    if isinstance(executor, LocalPool):
        _print_projection(jobs, executor)
    t0 = time.monotonic()
    try:
        failed = follow(executor, jobs)
    except KeyboardInterrupt:
        return 130
    took = estimate.clock(time.monotonic() - t0)
    print(f"make train: {len(jobs) - len(failed)} of {len(jobs)} run(s) trained in {took}")
    if failed:
        print("not trained: " + ", ".join(f"{j.label} ({j.log})" for j in failed), file=sys.stderr)
        return 1
    return 0


def _print_projection(jobs: list[Job], pool: LocalPool) -> None:
    scale = pool.scale()
    projected = makespan([j.seconds * scale for j in jobs], pool.workers)
    measured = sum(1 for j in jobs if estimate.run_progress(j.config)[1] is not None)
    one = sum(j.seconds for j in jobs)
    print(
        f"projected wall time {estimate.duration(projected)} (one worker: {estimate.duration(one)};"
        f" longest run: {estimate.duration(jobs[0].seconds * scale)}), from the measured speed of {measured} run(s) and"
        f" the 2-core CPU's reference speed for {len(jobs) - measured}"
        + (" (a GPU is faster: bench/gpu_check.sh measures it)" if pool.gpus else "")
    )


if __name__ == "__main__":
    sys.exit(main())
