"""Where `make train`'s runs execute, behind the one interface `train_all.follow` drives:

- `LocalPool`: this machine, WORKERS runs at a time, each a process of its own on a device of its own
  (with GPUs, worker i sees card i modulo their count; on a CPU, the cores are shared).
- `SlurmArray`: a Slurm cluster, every run one task of a job array submitted through submitit, one GPU
  per task, the longest runs first. The array is recorded in `<logs>/slurm-array.json`, so that a second
  `make train` follows the array still running, or submits only what is unfinished, and
  `make train EXECUTOR=slurm CANCEL=1` cancels it.

Both run the same command for a run (`train_command`), its output appended to the run's log, and report
each run's start and end as events. A run folder shows only finished files (`save_checkpoint` writes, then
renames), so a shared file system never serves half a checkpoint; who trains a run is the scheduler's
decision, not a lock's.
"""

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from . import estimate

STOP_GRACE_S = 30.0  # after Ctrl-C, how long a local worker may take to stop before it is killed


@dataclass
class Job:
    label: str  # unique among the runs of a study: the config's name, and its seed where seeds differ
    config: object  # ExperimentConfig
    seconds: float  # estimated training time left, on one worker
    log: Path
    photos: int = 0  # training photos: an epoch's images unless the config fixes samples_per_epoch
    where: str = ""  # the worker, GPU or Slurm task that runs it
    started: float = 0.0  # time.monotonic() when it was seen starting


def train_command(job: Job) -> list[str]:
    """The command that trains `job`'s run, its config saved beside its log."""
    config_file = job.log.with_suffix(".json")
    job.config.save(config_file)
    return [sys.executable, "-m", "colorize_lib.engine.train", str(config_file)]


def _environment(base: dict, threads: int | None = None) -> dict:
    env = dict(base, COLORIZE_TRAINED_BY="make train", PYTHONUNBUFFERED="1")
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    return env


# --- this machine -------------------------------------------------------------------------------------


class LocalPool:
    """WORKERS runs at a time on this machine. Ctrl-C stops every worker; each keeps its last finished epoch."""

    poll_s = 0.2

    def __init__(self, workers: int, gpus: int):
        self.workers, self.gpus = workers, gpus
        self.queue: list[Job] = []
        self.running: dict[int, tuple[Job, subprocess.Popen]] = {}  # slot -> job and its process

    def describe(self) -> str:
        where = (
            f"{self.gpus} GPU(s)"
            if self.gpus
            else f"a CPU of {os.cpu_count()} cores shared by {self.workers} worker(s)"
        )
        return f"WORKERS={self.workers} on {where}"

    def scale(self) -> float:
        """How much longer a run takes here than on one whole worker: on a CPU each of N workers has 1/N of it."""
        return 1 if self.gpus else self.workers

    def slots(self) -> int:
        return self.workers

    def expected(self, job: Job) -> str:
        return estimate.duration(job.seconds * self.scale())

    def submit(self, jobs: list[Job], say=print) -> None:
        self.queue = list(jobs)

    def unfinished(self) -> bool:
        return bool(self.queue or self.running)

    def poll(self) -> list[tuple[str, Job, str]]:
        """Events since the last call: ("start" | "done" | "failed", job, detail)."""
        events = []
        for slot, (job, process) in list(self.running.items()):
            if process.poll() is None:
                continue
            del self.running[slot]
            rc = process.returncode
            events.append(("done", job, "") if rc == 0 else ("failed", job, f"exit {rc}"))
        while self.queue and len(self.running) < self.workers:
            slot = min(set(range(self.workers)) - set(self.running))
            job = self.queue.pop(0)
            self.running[slot] = (job, self._start(job, slot))
            job.where, job.started = (
                (f"GPU {slot % self.gpus}" if self.gpus else f"worker {slot + 1}"),
                time.monotonic(),
            )
            events.append(("start", job, ""))
        return events

    def _start(self, job: Job, slot: int) -> subprocess.Popen:
        env = _environment(os.environ, None if self.gpus else max(1, (os.cpu_count() or 1) // self.workers))
        if self.gpus:
            env["CUDA_VISIBLE_DEVICES"] = str(slot % self.gpus)
        with open(job.log, "a") as log:  # appended: a resumed run keeps the output of its first part
            return subprocess.Popen(
                train_command(job),
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # Ctrl-C reaches make train only; it stops the workers itself
            )

    def seconds_left(self) -> list[float] | None:
        now = time.monotonic()
        left = [j.seconds * self.scale() for j in self.queue]
        return left + [max(0.0, j.seconds * self.scale() - (now - j.started)) for j, _ in self.running.values()]

    def interrupt(self, say) -> None:
        say(
            f"stopping {len(self.running)} worker(s); each keeps its last finished epoch: "
            "run make train again to resume"
        )
        processes = [p for _, p in self.running.values()]
        for p in processes:
            try:
                os.killpg(p.pid, signal.SIGINT)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + STOP_GRACE_S
        for p in processes:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


# --- a Slurm cluster ----------------------------------------------------------------------------------


@dataclass
class SlurmSettings:
    """The site's settings, from the Makefile's SLURM_* variables (docs/many-machines.md)."""

    partition: str | None = None
    account: str | None = None
    minutes: int = 240  # time limit of one run
    gpus: int = 1  # per run; 0 for CPU nodes
    cpus: int = 8  # per run: data loading and the CPU's share of a step
    parallel: int = 64  # tasks of the array running at a time
    poll_s: float = 15.0  # seconds between two looks at the array (one sacct call each)


ENDED = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "BOOT_FAIL", "DEADLINE"}
WAITING = {"PENDING", "UNKNOWN", "REQUEUED", "READY", "CONFIGURING", "RESIZING", "SUSPENDED"}
RUNNING = {"RUNNING", "COMPLETING", "STAGE_OUT", "PREEMPTED"}


def train_task(command: list[str], log: str) -> None:
    """One array task: train a run, its output appended to its log. A failure raises, so that Slurm (and
    sacct) records the task as FAILED and submitit keeps the traceback beside the task's own logs."""
    # Slurm sets CUDA_VISIBLE_DEVICES to the task's GPU; the CPU threads follow the task's share of cores.
    env = _environment(os.environ, int(os.environ.get("SLURM_CPUS_PER_TASK", "0")) or None)
    with open(log, "a") as out:
        out.write(f"# Slurm task {os.environ.get('SLURM_ARRAY_JOB_ID')}_{os.environ.get('SLURM_ARRAY_TASK_ID')}"
                  f" on {os.environ.get('SLURMD_NODENAME')}\n")  # fmt: skip
        out.flush()
        rc = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, env=env).returncode
    if rc != 0:
        raise RuntimeError(f"training exited with {rc}: see {log}")


class SlurmArray:
    """Every run one task of a Slurm job array. Ctrl-C leaves the array running."""

    def __init__(self, settings: SlurmSettings, logs: Path):
        try:
            import submitit  # noqa: F401  (imported where used; checked here, before anything is submitted)
        except ImportError:
            raise RuntimeError(
                "EXECUTOR=slurm needs submitit, which make env installs; with ENV=system: pip install submitit"
            ) from None
        self.settings = settings
        self.poll_s = settings.poll_s
        self.logs = Path(logs)
        self.folder = self.logs / "slurm"  # submitit's pickles and each task's own stdout/stderr
        self.state_file = self.logs / "slurm-array.json"
        self.tasks: dict[str, tuple[Job, object]] = {}  # label -> job and its submitit SlurmJob
        self.seen: dict[str, str] = {}  # label -> the last state reported
        self.last_look = -float("inf")

    def describe(self) -> str:
        s = self.settings
        where = (
            ", ".join(f"{k} {v}" for k, v in (("partition", s.partition), ("account", s.account)) if v)
            or "the default partition"
        )
        return f"EXECUTOR=slurm on {where}: {s.gpus} GPU(s) and {s.cpus} CPUs a run, {s.minutes} min each"

    def slots(self) -> int:
        return max(1, sum(1 for label in self.tasks if self.seen.get(label) in RUNNING))

    def expected(self, job: Job) -> str:
        """Its measured time left where it has trained an epoch; the reference CPU's figure means nothing here."""
        done, ms, _ = estimate.run_progress(job.config)
        if ms is None:
            return "time not measured yet"
        return estimate.duration((job.config.epochs - done) * (job.config.samples_per_epoch or job.photos) * ms / 1000)

    # the record of what was submitted, so a second make train follows it

    def _recorded(self) -> dict[str, str]:
        try:
            return json.loads(self.state_file.read_text())["tasks"]
        except FileNotFoundError:
            return {}
        except (ValueError, KeyError) as e:
            raise ValueError(f"{self.state_file} is not a make train record ({e}); delete it to submit afresh") from e

    def _record(self) -> None:
        from colorize_lib.files import atomic_write_text

        tasks = {label: task.job_id for label, (_, task) in self.tasks.items()}
        atomic_write_text(self.state_file, json.dumps(dict(tasks=tasks), indent=2, sort_keys=True) + "\n")

    def _look(self, force: bool = False) -> None:
        """One sacct call for every task (submitit's watcher), at most every poll_s unless forced."""
        from submitit.slurm.slurm import SlurmJob

        if force or time.monotonic() - self.last_look >= self.poll_s:
            SlurmJob.watcher.update()
            self.last_look = time.monotonic()

    def _state(self, task) -> str:
        return task.watcher.get_state(task.job_id, mode="cache").split()[0].upper()  # "CANCELLED by 0" -> CANCELLED

    def still_running(self, labels=None) -> dict[str, object]:
        """label -> SlurmJob of the recorded tasks (of `labels`, if given) still queued or running."""
        from submitit.slurm.slurm import SlurmJob

        recorded = {k: v for k, v in self._recorded().items() if labels is None or k in labels}
        tasks = {label: SlurmJob(folder=self.folder, job_id=job_id) for label, job_id in recorded.items()}
        self._look(force=True)
        return {label: t for label, t in tasks.items() if self._state(t) in WAITING | RUNNING}

    def arrays(self, tasks) -> str:
        return ", ".join(sorted({t.job_id.split("_")[0] for t in tasks}))

    def submit(self, jobs: list[Job], say=print) -> None:
        """Follow the tasks of `jobs` still running from an earlier make train; submit the rest as one array."""
        import submitit

        by_label = {j.label: j for j in jobs}
        attached = self.still_running(set(by_label))
        if attached:
            ids = self.arrays(attached.values())
            say(f"following Slurm array {ids}: {len(attached)} run(s) still queued or running")
        self.tasks = {label: (by_label[label], task) for label, task in attached.items()}
        rest = [j for j in jobs if j.label not in attached]
        if rest:
            s = self.settings
            executor = submitit.SlurmExecutor(folder=self.folder)
            executor.update_parameters(
                job_name="colorize-train",
                time=s.minutes,
                cpus_per_task=s.cpus,
                array_parallelism=s.parallel,
                stderr_to_stdout=True,
                **({"gres": f"gpu:{s.gpus}"} if s.gpus else {}),
                **({"partition": s.partition} if s.partition else {}),
                **({"account": s.account} if s.account else {}),
            )
            commands = [train_command(j) for j in rest]
            submitted = executor.map_array(train_task, commands, [str(j.log) for j in rest])
            self.tasks.update({j.label: (j, task) for j, task in zip(rest, submitted)})
            say(f"submitted Slurm array {self.arrays(submitted)}: {len(rest)} task(s), longest first")
        self._record()
        self.seen = {}

    def unfinished(self) -> bool:
        return any(self.seen.get(label) not in ENDED for label in self.tasks)

    def poll(self) -> list[tuple[str, Job, str]]:
        self._look()
        events = []
        for label, (job, task) in self.tasks.items():
            state, before = self._state(task), self.seen.get(label)
            if state == before or state in WAITING or before in ENDED:
                continue
            self.seen[label] = state
            if state in RUNNING:
                job.where, job.started = f"Slurm task {task.job_id}", time.monotonic()
                events.append(("start", job, ""))
            elif state == "COMPLETED":
                events.append(("done", job, ""))
            elif state == "CANCELLED":
                events.append(("cancelled", job, f"cancelled; Slurm's log {task.paths.stdout}"))
            else:  # FAILED, TIMEOUT, OUT_OF_MEMORY, NODE_FAIL, ...
                events.append(("failed", job, f"{state.lower()}; Slurm's log {task.paths.stdout}"))
        return events

    def seconds_left(self) -> list[float] | None:
        """Each unfinished run's time left: its own measured speed where it has trained an epoch, else the
        reference speed scaled as the cluster's measured runs are to it; None until some run is measured
        (the cluster's cards are not the reference CPU)."""
        from colorize_lib.engine.device import precision_of

        progress = {label: estimate.run_progress(job.config) for label, (job, _) in self.tasks.items()}
        ratios = [
            ms / estimate.reference_ms(job.config, precision_of(job.config))
            for label, (job, _) in self.tasks.items()
            if (ms := progress[label][1]) is not None
        ]
        if not ratios:
            return None
        ratio = statistics.median(ratios)
        left = []
        for label, (job, _) in self.tasks.items():
            if self.seen.get(label) in ENDED:
                continue
            done, ms, _ = progress[label]
            ms = ms or ratio * estimate.reference_ms(job.config, precision_of(job.config))
            left.append((job.config.epochs - done) * (job.config.samples_per_epoch or job.photos) * ms / 1000)
        return left

    def interrupt(self, say) -> None:
        active = [task for label, (_, task) in self.tasks.items() if self.seen.get(label) not in ENDED]
        ids = self.arrays(active)
        say(
            f"Slurm array {ids} keeps running ({len(active)} run(s) unfinished): `make train EXECUTOR=slurm` follows "
            f"it again, `make train EXECUTOR=slurm CANCEL=1` (or scancel {ids}) cancels it"
        )

    def cancel(self, say=print) -> int:
        """Cancel the recorded tasks still queued or running; returns how many."""
        active = self.still_running()
        if not active:
            say(f"no Slurm task of {self.state_file} is queued or running: nothing to cancel")
            return 0
        ids = self.arrays(active.values())
        subprocess.run(["scancel", *ids.split(", ")], check=True)
        say(f"cancelled Slurm array {ids} ({len(active)} run(s) unfinished); make train again submits what is left")
        return len(active)
