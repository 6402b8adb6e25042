"""`make train`: every distinct run of a profile, WORKERS at a time, each in a process of its own on a
device of its own; the notebooks then reload the runs by identity (`fit` finds them finished) and train
nothing.

- Runs: `experiments.study_configs` for the profile, data, seed and test fraction, each distinct run once,
  longest first (`estimate`: the run's own measured speed where it has one, else the reference speed, times
  the epochs it has left), each handed to the first free worker, so the wall time approaches the longest
  run's. Finished runs are skipped; unfinished ones resume from their last epoch.
- Workers: a run is `python -m colorize_lib.engine.train CONFIG` in its own session. With GPUs, worker i
  sees one card (`CUDA_VISIBLE_DEVICES`, i modulo their count); on a CPU the cores are shared
  (`OMP_NUM_THREADS` = cores / workers). Its output goes to `<logs>/<run>.log`; here, one line per start
  and end with the time left. Ctrl-C stops every worker (each keeps its last finished epoch).
- Several machines on one checkpoint folder: `--shard k/K` takes every K-th run of the longest-first list,
  from the k-th, so K machines split the study; the run lock (`engine.runlock`) keeps any two processes
  off one run whatever they are told.

    python -m colorize_tools.train_all --profile cpu --workers 2
    python -m colorize_tools.train_all --profile paper --data paper --workers 8 --shard 1/2   # machine 1 of 2
"""

import argparse
import heapq
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import estimate

STOP_GRACE_S = 30.0  # after Ctrl-C, how long a worker may take to stop before it is killed


@dataclass
class Job:
    label: str  # unique among the runs of a study: the config's name, and its seed where seeds differ
    config: object  # ExperimentConfig
    seconds: float  # estimated training time left, on one worker
    log: Path
    process: subprocess.Popen | None = None
    started: float = 0.0
    slot: int = -1
    stopped: list = field(default_factory=list)


def parse_shard(text: str | None) -> tuple[int, int]:
    """'k/K' -> (k, K) with 1 <= k <= K; None -> (1, 1)."""
    if not text:
        return 1, 1
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise ValueError(f"parameter 'shard' = {text!r} is invalid: expected k/K, e.g. 1/2") from None
    if not 1 <= k <= n:
        raise ValueError(f"parameter 'shard' = {text!r} is invalid: expected k/K with 1 <= k <= K")
    return k, n


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


def plan(configs: list, shard: str | None, logs: Path, train_photos: dict[tuple, int]):
    """(jobs still to train for this shard, longest first; count of finished runs of this shard).
    `train_photos`: photos_key -> training photos, the epoch of a run that makes one pass over them."""
    k, n = parse_shard(shard)
    seeds = {c.name: set() for c in configs}
    for c in configs:
        seeds[c.name].add(c.seed)
    jobs = []
    for c in configs:
        label = c.name if c.seed == min(seeds[c.name]) else f"{c.name}-seed{c.seed}"
        jobs.append(Job(label, c, run_seconds(c, train_photos[photos_key(c)]), logs / f"{label}.log"))
    # Dealt by the whole run's length at the float32 reference speed, the same list on every machine whatever
    # it has trained or computes in (each shard gets a share of long and short runs); then longest left first.
    dealt = sorted(jobs, key=lambda j: (-_reference_seconds(j.config, train_photos[photos_key(j.config)]), j.label))
    mine = sorted(dealt[k - 1 :: n], key=lambda j: (-j.seconds, j.label))
    todo = [j for j in mine if j.seconds > 0]
    return todo, len(mine) - len(todo)


def _reference_seconds(config, train_photos: int) -> float:
    return config.epochs * (config.samples_per_epoch or train_photos) * estimate.reference_ms(config, "float32") / 1000


def run_seconds(config, train_photos: int) -> float:
    """Estimated seconds of training `config`'s run still needs on one worker (0: finished): its own
    measured speed where it has trained an epoch, else the reference speed of the project's 2-core CPU."""
    from colorize_lib.engine.precision import precision_of

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


def _environment(slot: int, workers: int, gpus: int) -> dict:
    env = dict(os.environ, COLORIZE_TRAINED_BY="make train", PYTHONUNBUFFERED="1")
    if gpus:
        env["CUDA_VISIBLE_DEVICES"] = str(slot % gpus)
    else:
        env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // workers))
    return env


def _gpus() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def _start(job: Job, slot: int, workers: int, gpus: int) -> None:
    config_file = job.log.with_suffix(".json")
    job.config.save(config_file)
    log = open(job.log, "a")  # appended: a resumed run keeps the output of its first part
    job.process = subprocess.Popen(
        [sys.executable, "-m", "colorize_lib.engine.train", str(config_file)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=_environment(slot, workers, gpus),
        start_new_session=True,  # Ctrl-C reaches this process only; it stops the workers itself
    )
    log.close()
    job.started, job.slot = time.monotonic(), slot


def _stop(running: list[Job]) -> None:
    for job in running:
        try:
            os.killpg(job.process.pid, signal.SIGINT)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + STOP_GRACE_S
    for job in running:
        try:
            job.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(job.process.pid, signal.SIGKILL)
            job.process.wait()


def train_all(jobs: list[Job], workers: int, gpus: int, say=print) -> list[Job]:
    """Run `jobs` (longest first) on `workers` slots; return the failed ones. Ctrl-C (or SIGTERM) stops
    them all, then raises KeyboardInterrupt."""
    queue, running, failed, done = list(jobs), [], [], 0
    scale = 1 if gpus else workers  # on a CPU, each of N workers has 1/N of the cores
    t0 = time.monotonic()
    # A flag, not an exception: Ctrl-C between starting a worker and counting it would leave it running.
    stop = threading.Event()
    handlers = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while (queue or running) and not stop.is_set():
            while queue and len(running) < workers and not stop.is_set():
                slot = min(set(range(workers)) - {j.slot for j in running})
                job = queue.pop(0)
                _start(job, slot, workers, gpus)
                running.append(job)
                where = f"GPU {slot % gpus}" if gpus else f"worker {slot + 1}"
                say(f"start {job.label} on {where} ({estimate.duration(job.seconds * scale)}); log {job.log}")
            time.sleep(0.2)
            for job in [j for j in running if j.process.poll() is not None]:
                running.remove(job)
                took = estimate.clock(time.monotonic() - job.started)
                if job.process.returncode == 0:
                    done += 1
                    status = f"done  {job.label} in {took}"
                else:
                    failed.append(job)
                    status = f"FAILED {job.label} (exit {job.process.returncode}) after {took}: see {job.log}"
                left = [j.seconds * scale for j in queue] + [
                    max(0.0, j.seconds * scale - (time.monotonic() - j.started)) for j in running
                ]
                say(
                    f"{status} · {done + len(failed)}/{len(jobs)} · elapsed {estimate.clock(time.monotonic() - t0)}"
                    f" · {estimate.about(makespan(left, workers)) if left else 'nothing left'}"
                )
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    if stop.is_set():
        say(f"stopping {len(running)} worker(s); each keeps its last finished epoch: run make train again to resume")
        _stop(running)
        raise KeyboardInterrupt
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m colorize_tools.train_all", description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--data", default="bundled")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", type=int, help="training seeds of each run a verdict compares (the profile's)")
    parser.add_argument("--test-fraction", type=float, default=None)
    parser.add_argument("--workers", type=int, default=1, help="runs trained at a time (one per GPU)")
    parser.add_argument("--shard", default=None, help="k/K: this machine's share of the runs")
    parser.add_argument("--logs", type=Path, default=None, help="folder of the runs' logs (default: REPORTS/train)")
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # a line per run as it happens, through make's pipe too
    if args.workers < 1:
        parser.error(f"parameter 'workers' = {args.workers} is invalid: expected a count >= 1")
    from colorize_lib import paths
    from colorize_lib.data import load_images
    from colorize_lib.engine.experiments import study_configs

    logs = args.logs or paths.REPORTS_DIR / "train"
    logs.mkdir(parents=True, exist_ok=True)
    try:
        parse_shard(args.shard)
        configs = study_configs(
            args.profile, args.data, seeds=args.seeds, seed=args.seed, test_fraction=args.test_fraction
        )
    except ValueError as e:
        parser.error(str(e))
    # The photos first, each cached set built once here rather than by several workers at a time.
    photos = {}
    for config in configs:
        if photos_key(config) not in photos:
            photos[photos_key(config)] = len(load_images(config).train)
    jobs, finished = plan(configs, args.shard, logs, photos)
    gpus = _gpus()
    workers = args.workers
    shard = f" (shard {args.shard})" if args.shard else ""
    where = f"{gpus} GPU(s)" if gpus else f"a CPU of {os.cpu_count()} cores shared by {workers} worker(s)"
    scale = 1 if gpus else workers
    print(
        f"make train PROFILE={args.profile} DATA={args.data} SEED={args.seed}{shard}: {len(jobs)} run(s) to train, "
        f"{finished} finished; WORKERS={workers} on {where}"
    )
    if not jobs:
        print("nothing to train: the notebooks will reload every run")
        return 0
    projected = makespan([j.seconds * scale for j in jobs], workers)
    measured = sum(1 for j in jobs if estimate.run_progress(j.config)[1] is not None)
    one = sum(j.seconds for j in jobs)
    print(
        f"projected wall time {estimate.duration(projected)} (one worker: {estimate.duration(one)};"
        f" longest run: {estimate.duration(jobs[0].seconds * scale)}), from the measured speed of {measured} run(s) and"
        f" the 2-core CPU's reference speed for {len(jobs) - measured}"
        + (" (a GPU is faster: bench/gpu_check.sh measures it)" if gpus else "")
    )
    t0 = time.monotonic()
    try:
        failed = train_all(jobs, workers, gpus)
    except KeyboardInterrupt:
        return 130
    took = estimate.clock(time.monotonic() - t0)
    print(f"make train: {len(jobs) - len(failed)} of {len(jobs)} run(s) trained in {took}")
    if failed:
        print("failed: " + ", ".join(f"{j.label} ({j.log})" for j in failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
