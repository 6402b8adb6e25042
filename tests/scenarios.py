"""The suite's long end-to-end scenarios, run in background threads while the other tests run.

Each scenario is a function of a fresh folder and the environment the session started with, returning
what its tests read; `conftest.py` starts, when collection ends, every scenario a collected test asks for
(by fixture name), and the fixture of the same name waits for it. They spend their time in subprocesses
(make, papermill kernels, pip), so on two cores they overlap with the in-process tests and with each
other. One scenario serves every test that only reads its results: the interrupted and resumed smoke
`make reproduce` is also the smoke run whose reports tests/test_notebooks.py inspects.

The environment is copied when collection ends, before any test runs: a test's `monkeypatch.setenv`
(a checkpoint folder, a precision) must not leak into a scenario started beside it.
"""

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from importlib import metadata
from pathlib import Path

import psutil

from colorize_lib.paths import PROJECT_ROOT

SCENARIOS = {}  # fixture name -> function(root, env, config) -> result
_started: dict[str, Future] = {}
_walls: dict[str, list[float]] = {}  # name -> [start, end] (time.monotonic), for the session's summary
_pool = ThreadPoolExecutor(max_workers=5, thread_name_prefix="scenario")
# The order they start in: longest first by the wall times the session's summary prints (five run at a
# time, and a long one started last would end the session after everything else), except the run lock's,
# which is short and timed against a run's sleeping steps, so it starts at once as it always has.
START_ORDER = (
    "system_env_runs",
    "reproduce_runs",
    "gpu_check_run",
    "slurm_runs",
    "runlock_runs",
    "train_runs",
    "coverage_runs",
    "diff_runs",
    "bad_folder_runs",
)
_lock = threading.Lock()


def scenario(function):
    SCENARIOS[function.__name__] = function
    return function


def start(name: str, env: dict, config) -> Future:
    """Start scenario `name` once (later calls return the same future)."""
    with _lock:
        if name not in _started:
            root = Path(tempfile.mkdtemp(prefix=f"colorize-{name}-"))
            _started[name] = _pool.submit(_timed, name, root, dict(env), config)
        return _started[name]


def _timed(name: str, root: Path, env: dict, config):
    _walls[name] = [time.monotonic()]
    try:
        return SCENARIOS[name](root, env, config)
    finally:
        _walls[name].append(time.monotonic())


def walls(since: float) -> list[str]:
    """A line per scenario started: when it started and how long it ran (a CI log then shows the suite's
    critical path), or that it was still running."""
    lines = []
    for name, times in sorted(_walls.items(), key=lambda item: item[1][0]):
        start = f"started at {times[0] - since:5.0f} s"
        took = f"ran {times[1] - times[0]:5.0f} s" if len(times) == 2 else "still running"
        lines.append(f"{name:16s} {start}, {took}")
    return lines


# --- the smoke `make reproduce`, interrupted in notebook 04 and run again to the end ---------------

STEP_DELAY_S = 1.5  # per training step of the first run: 2 steps an epoch on the smoke profile
INTERRUPT_AFTER = "04_unet_lab │ unet_lab epoch 1/2  train"  # the epoch line: epoch 1 is checkpointed


def make_command(root: Path) -> list[str]:
    return ["make", "-C", str(PROJECT_ROOT), "reproduce", "PROFILE=smoke", f"REPORTS={root / 'reports'}"]


def make_env(base: dict, root: Path, **env) -> dict:
    full_env = dict(base, COLORIZE_DATA_DIR=str(root / "data"), MPLBACKEND="Agg", **env)
    full_env.pop("COLORIZE_RUN_STARTED", None)
    return slowed(full_env) if "COLORIZE_STEP_DELAY_S" in env else full_env


SLOW_STEPS = Path(__file__).resolve().parent / "slow_steps"


def slowed(env: dict, seconds: float | None = None) -> dict:
    """`env` with every optimiser step of its processes slowed (tests/slow_steps/sitecustomize.py): by
    `seconds`, or by the COLORIZE_STEP_DELAY_S it has."""
    env = dict(env, PYTHONPATH=os.pathsep.join(filter(None, [str(SLOW_STEPS), env.get("PYTHONPATH")])))
    if seconds is not None:
        env["COLORIZE_STEP_DELAY_S"] = str(seconds)
    return env


class Lines(queue.Queue):
    """(arrival time, line) for each output line of a process, then None at the end of its output."""

    def __init__(self, proc: subprocess.Popen):
        super().__init__()
        self.pipe = f"pipe:[{os.fstat(proc.stdout.fileno()).st_ino}]"  # to name who holds it open if it stays open


def _read_lines(proc: subprocess.Popen) -> Lines:
    lines = Lines(proc)

    def pump():
        for line in proc.stdout:
            lines.put((time.monotonic(), line.rstrip("\n")))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _pipe_holders(pipe: str) -> list[str]:
    """Processes other than this one with `pipe` among their open files: what keeps an output from ending."""
    holders = []
    for p in psutil.process_iter():
        if p.pid == os.getpid():
            continue
        try:
            if any(os.readlink(f"/proc/{p.pid}/fd/{fd}") == pipe for fd in os.listdir(f"/proc/{p.pid}/fd")):
                holders.append(f"{p.pid} {' '.join(p.cmdline())[:200]}")
        except (OSError, psutil.Error):
            pass
    return holders


def _collect(lines: Lines, until: str | None, deadline_s: float) -> list[tuple[float, str]]:
    got, end = [], time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            item = lines.get(timeout=max(0.1, end - time.monotonic()))
        except queue.Empty:
            break
        if item is None:
            return got
        got.append(item)
        if until is not None and until in item[1]:
            return got
    holders = "\n".join(_pipe_holders(lines.pipe))
    raise AssertionError(
        f"no {until or 'end of output'!r} within {deadline_s} s; output so far:\n"
        + "\n".join(t for _, t in got[-40:])
        + f"\nprocesses holding the output open:\n{holders}"
    )


def _processes_using(data_dir) -> list[psutil.Process]:
    found = []
    for p in psutil.process_iter():
        try:
            if p.environ().get("COLORIZE_DATA_DIR") == str(data_dir):
                found.append(p)
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            pass
    return found


@scenario
def reproduce_runs(root: Path, env: dict, config) -> dict:
    """First run: slowed steps, SIGINT to make's process group (as Ctrl-C in a terminal) once notebook 04
    has checkpointed its first epoch. Second run: to the end. Returns both runs' output and the state
    the interruption left."""
    first = subprocess.Popen(
        make_command(root),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=make_env(env, root, COLORIZE_STEP_DELAY_S=str(STEP_DELAY_S), COLORIZE_PROGRESS_AFTER_S="0"),
        start_new_session=True,  # its own process group, as a terminal gives it
    )
    try:
        lines = _read_lines(first)
        before = _collect(lines, INTERRUPT_AFTER, deadline_s=900)
        os.killpg(first.pid, signal.SIGINT)
        first.wait(timeout=60)  # a bound against hanging, not a speed figure
        before += _collect(lines, None, deadline_s=30)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    executed = root / "reports" / "notebooks"
    left_running = _processes_using(root / "data")
    mtimes = {p.name: p.stat().st_mtime_ns for p in executed.glob("*.ipynb")}
    interrupted_state = dict(
        rc=first.returncode,
        left_running=[p.cmdline() for p in left_running],
        files=sorted(p.name for p in (root / "reports").rglob("*") if p.is_file()),
        checkpoints=sorted(p.name for p in (root / "data" / "checkpoints").rglob("*.pt")),
    )
    second = subprocess.run(make_command(root), capture_output=True, text=True, timeout=900, env=make_env(env, root))
    return dict(root=root, first=before, interrupted=interrupted_state, mtimes=mtimes, second=second)


# --- the intervals' one-sided errors over simulated studies -----------------------------------------------


@scenario
def coverage_runs(root: Path, env: dict, config) -> list[dict]:
    """tests/coverage_cells.py in a process of its own: numpy in the pytest process would hold the other
    tests back (tests/test_stats.py reads the cells)."""
    script = Path(__file__).resolve().parent / "coverage_cells.py"
    proc = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


# --- two notebooks on a folder of bad files; a second seed and `make diff` ---------------------------------


@scenario
def bad_folder_runs(root: Path, env: dict, config) -> dict:
    """Notebooks 01 and 02 (smoke, through papermill) on a folder seeded with every kind of bad file
    (tests/test_bad_folder_end_to_end.py seeds it and reads the tables)."""
    from papermill_run import run_notebook
    from test_bad_folder_end_to_end import seed_folder

    from colorize_lib.paths import NOTEBOOKS_DIR

    expected = seed_folder(root / "photos")
    env = make_env(env, root, COLORIZE_REPORTS_DIR=str(root / "reports"))
    for name in ("01_data", "02_baseline_cnn"):
        run_notebook(
            NOTEBOOKS_DIR / f"{name}.ipynb",
            root / f"{name}.ipynb",
            env,
            timeout=300,
            profile="smoke",
            data=f"folder:{root / 'photos'}",
            test_fraction=0.2,
        )
    return dict(root=root, expected=expected)


@scenario
def diff_runs(root: Path, env: dict, config) -> dict:
    """Notebook 02 (and 01, which it needs) through make with seed 0, then seed 1; then make with a newer
    report checker (must rerun nothing), a dry run with newer losses, and `make diff`
    (tests/test_makefile.py reads them)."""
    reports = root / "reports"
    env = make_env(env, root)
    target = reports / "notebooks" / "02_baseline_cnn.ipynb"

    def make(*args):
        cmd = ["make", "-C", str(PROJECT_ROOT), *args, "PROFILE=smoke", f"REPORTS={reports}"]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)

    seeds = [make(str(target), f"SEED={seed}") for seed in (0, 1)]
    if any(run.returncode for run in seeds):
        return dict(seeds=seeds)
    before = target.stat().st_mtime_ns
    # `-W` makes a file new in make's imagination only: the checkout's files, which other runs read, keep
    # their times. The dry run takes the settings file as old (-o), as it is unchanged.
    again = make("-W", "colorize_tools/browser_check.py", str(target), "SEED=1")
    unchanged = target.stat().st_mtime_ns == before
    dry = make("-n", "-W", "colorize_lib/model/losses.py", "-o", str(reports / ".settings"), str(target), "SEED=1")
    return dict(reports=reports, seeds=seeds, again=again, unchanged=unchanged, dry=dry, diff=make("diff"))


# --- `make reproduce ENV=system` on a Python shaped like the GPU machine's --------------------------

# What the GPU machine's Python brings (its PyTorch, torchvision and scientific stack), with their dependencies.
MACHINE_PACKAGES = ["torch", "torchvision", "numpy", "pandas", "matplotlib", "scikit-image", "pillow", "tqdm"]
PYTHON_VERSION = "{}.{}".format(*sys.version_info[:2])


def outside_env(base: dict, **extra) -> dict:
    """`base` without an outer make's variables (MAKEFLAGS carries its command line) or Python setup."""
    drop = {
        "MAKEFLAGS",
        "MFLAGS",
        "MAKELEVEL",
        "VIRTUAL_ENV",
        "CONDA_PREFIX",
        "CONDA_DEFAULT_ENV",
        "PYTHONPATH",
        "PYTHONHOME",
        "ENV",
    }
    return {**{k: v for k, v in base.items() if k not in drop}, **extra}


def _canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def distribution_closure(roots):
    """Installed distributions of `roots` and their dependencies (markers evaluated for this Python)."""
    from packaging.requirements import Requirement

    found, todo = {}, list(roots)
    while todo:
        name = _canonical(todo.pop())
        if name in found:
            continue
        dist = metadata.distribution(name)
        found[name] = dist
        for line in dist.requires or []:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return found


def link_packages(dists, folder: Path):
    """Symlink each distribution's top-level files into `folder`: a site directory holding exactly these."""
    folder.mkdir()
    for dist in dists.values():
        for top in {Path(f).parts[0] for f in dist.files or [] if not str(f).startswith("..")}:
            src = Path(dist.locate_file(top))
            if src.exists() and not (folder / top).exists() and top != "__pycache__":
                (folder / top).symlink_to(src)


def wheelhouse(env: dict, cache_root: Path | None) -> Path:
    """The checkout's own .wheelhouse/pyX.Y when it is complete (carried to a machine with no network),
    else `make wheelhouse` into `cache_root` (pytest's cache, kept across sessions: pip skips wheels
    already there)."""
    from colorize_tools.environment import WHEELHOUSE_MODULES, wheelhouse_gaps

    carried = PROJECT_ROOT / ".wheelhouse" / f"py{PYTHON_VERSION}"
    if carried.is_dir() and not wheelhouse_gaps(carried, PYTHON_VERSION, sorted(WHEELHOUSE_MODULES.values())):
        return carried
    root = cache_root or Path(tempfile.mkdtemp(prefix="colorize-wheelhouse-"))
    proc = subprocess.run(
        [
            "make",
            "-C",
            str(PROJECT_ROOT),
            "wheelhouse",
            f"PYTHON_VERSION={PYTHON_VERSION}",
            f"PYTHON={sys.executable}",
            f"WHEELHOUSE={root}",
        ],
        env=outside_env(env),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"wheelhouse {root}/py{PYTHON_VERSION}:" in proc.stdout
    return root / f"py{PYTHON_VERSION}"


def _machine(root: Path, env: dict) -> tuple[Path, Path, dict]:
    """A copy of the checkout and a venv whose only packages are MACHINE_PACKAGES (symlinked from ours)."""
    repo = root / "repo"
    anywhere = shutil.ignore_patterns(
        ".git", ".venv", ".wheelhouse", ".pytest_cache", "__pycache__", "build", "*.egg-info"
    )

    def ignore(folder, names):
        # The generated data/ and reports/ of the checkout, not colorize_lib/data (the data room).
        top = {"data", "reports"} & set(names) if Path(folder) == PROJECT_ROOT else set()
        return anywhere(folder, names) | top

    shutil.copytree(PROJECT_ROOT, repo, symlinks=True, ignore=ignore)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    link_packages(distribution_closure(MACHINE_PACKAGES), root / "machine-site")
    site = Path(
        subprocess.run(
            [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (site / "machine-packages.pth").write_text(f"{root / 'machine-site'}\n")
    machine_env = outside_env(
        env, PATH=f"{venv / 'bin'}:{env['PATH']}", COLORIZE_DATA_DIR=str(root / "data"), MPLBACKEND="Agg"
    )
    return repo, venv, machine_env


def _make(repo, env, *args, timeout=900):
    return subprocess.run(["make", "-C", str(repo), *args], env=env, capture_output=True, text=True, timeout=timeout)


@scenario
def system_env_runs(root: Path, env: dict, config) -> dict:
    """On the machine-shaped venv: `make reproduce ENV=system` before the wheelhouse (must fail, naming
    what is missing, installing nothing), then `make install-wheelhouse` (pip --no-index) and the smoke
    reproduce."""
    repo, venv, machine_env = _machine(root, env)
    reports = repo / "reports"
    smoke = ("reproduce", "ENV=system", "PROFILE=smoke", f"REPORTS={reports}")
    before = _make(repo, machine_env, *smoke, timeout=300)
    state_before = dict(venv_made=(repo / ".venv").exists(), notebooks_run=(reports / "notebooks").exists())
    cache = getattr(config, "cache", None)  # None under -p no:cacheprovider
    house = wheelhouse(env, Path(cache.mkdir("wheelhouse")) if cache is not None else None)
    shutil.copytree(house, repo / ".wheelhouse" / f"py{PYTHON_VERSION}")
    install = _make(repo, machine_env, "install-wheelhouse", timeout=600)
    run = _make(repo, machine_env, *smoke) if install.returncode == 0 else None
    return dict(
        repo=repo, venv=venv, before=before, state_before=state_before, install=install, run=run, reports=reports
    )


# --- one trainer per run: a second process that asks for a run being trained waits, then reloads it -----


@scenario
def runlock_runs(root: Path, env: dict, config) -> dict:
    """The first trainer is held at its first step (a gate file: tests/slow_steps) until the second process,
    asking for the same run, has said that it waits; then the gate opens, the first trains to its end and the
    second reloads its run. No race with the machine's load: the gate, not a sleep, keeps the first busy."""
    from colorize_lib.engine.checkpoint import LOCK_FILE
    from colorize_lib.engine.config import make_config

    config_path = make_config("baseline", "smoke", epochs=3, batch_size=4, samples_per_epoch=32).save(
        root / "config.json"
    )
    cmd = [sys.executable, "-m", "colorize_lib.engine.train", str(config_path), "--run-dir", str(root / "run")]
    gate = root / "gate"
    gate.touch()
    env = dict(env, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    first = subprocess.Popen(
        cmd,
        env=slowed(dict(env, COLORIZE_STEP_GATE=str(gate))),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    second = None
    try:
        deadline = time.monotonic() + 300  # a bound against hanging, not a speed figure
        lock = root / "run" / LOCK_FILE
        while not lock.exists() or not lock.read_text():
            assert time.monotonic() < deadline and first.poll() is None, "the first trainer did not start"
            time.sleep(0.05)
        second = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines = _read_lines(second)
        said = _collect(lines, "waiting for it", deadline_s=300)
        gate.unlink()
        second.wait(timeout=300)
        said += _collect(lines, None, deadline_s=30)
        out_first, _ = first.communicate(timeout=300)
    finally:
        gate.unlink(missing_ok=True)
        for process in (first, second):
            if process is not None:
                process.kill()
    waiter = subprocess.CompletedProcess(cmd, second.returncode, stdout="\n".join(t for _, t in said), stderr="")
    return dict(root=root, first=first, out_first=out_first, second=waiter)


# --- the GPU check's CPU form: bench/gpu_check.sh end to end at smoke sizes -----------------------------


SHAPE_LINE = re.compile(r"^  \S.* \(paper\) +\d+² batch +\d+ .* train +[\d.]+ img/s")


@scenario
def gpu_check_run(root: Path, env: dict, config) -> dict:
    """bench/gpu_check.sh --device cpu --tiny twice: stopped by Ctrl-C (SIGINT to its process group, as a
    terminal sends it) once the first shape is measured, then run to its end."""
    env = dict(env, PYTHON=sys.executable, TMPDIR=str(root), OMP_NUM_THREADS="1")
    command = ["bash", "bench/gpu_check.sh", "--device", "cpu", "--tiny"]
    stopped = subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    before = []
    try:
        for line in stopped.stdout:
            before.append(line.rstrip("\n"))
            if SHAPE_LINE.match(line):
                os.killpg(stopped.pid, signal.SIGINT)
                break
        after = stopped.stdout.read().splitlines()
        stopped.wait(timeout=120)
    finally:
        stopped.kill()
    whole = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=900)
    return dict(before=before, after=after, stopped_rc=stopped.returncode, whole=whole)


# --- `make train`: two workers, Ctrl-C, the rerun, then make reproduce ---------------------------------------------

TRAIN_STEP_DELAY_S = 0.5  # smoke runs have 4 steps (8 for the long budget arm): each a few seconds


def train_command(root: Path, *args: str) -> list[str]:
    return [
        "make",
        "-C",
        str(PROJECT_ROOT),
        "train",
        "PROFILE=smoke",
        "WORKERS=2",
        f"REPORTS={root / 'reports'}",
        *args,
    ]


@scenario
def train_runs(root: Path, env: dict, config) -> dict:
    """`make train WORKERS=2` with slowed steps, SIGINT to make's process group (Ctrl-C) once three runs are
    done; `make train` again to the end; then notebook 02 through papermill, which must reload its run. (That
    `make reproduce` as a whole trains nothing after it follows from the run folders: the test compares them
    with those of the smoke `make reproduce`, so the suite runs the notebooks once.) Returns the outputs and
    what the interruption left finished."""
    from colorize_lib.engine.config import study_configs
    from colorize_lib.engine.train import is_finished

    slowed = make_env(env, root, COLORIZE_STEP_DELAY_S=str(TRAIN_STEP_DELAY_S))
    first = subprocess.Popen(
        train_command(root),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=slowed,
        start_new_session=True,
    )
    try:
        lines = _read_lines(first)
        before = [t for _, t in _collect(lines, "· 3/", deadline_s=600)]
        os.killpg(first.pid, signal.SIGINT)
        first.wait(timeout=120)  # a bound against hanging, not a speed figure
        before += [t for _, t in _collect(lines, None, deadline_s=30)]
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    left_running = [p.cmdline() for p in _processes_using(root / "data")]
    checkpoints = root / "data" / "checkpoints"
    finished = sorted(p.name for p in checkpoints.glob("*") if is_finished(p))  # selected.pt alone: not yet
    second = subprocess.run(train_command(root), capture_output=True, text=True, timeout=900, env=make_env(env, root))
    notebook = root / "02_baseline_cnn.ipynb"
    papermill = [sys.executable, "-m", "papermill", str(PROJECT_ROOT / "notebooks" / notebook.name), str(notebook)]
    reload = subprocess.run(
        [*papermill, "-k", "python3", "--no-progress-bar", "-p", "profile", "smoke"],
        capture_output=True,
        text=True,
        timeout=600,
        env=make_env(env, root, COLORIZE_REPORTS_DIR=str(root / "reports")),
    )
    return dict(
        root=root,
        first=before,
        first_rc=first.returncode,
        left_running=left_running,
        finished=finished,
        second=second,
        reload=reload,
        notebook=notebook.read_text() if notebook.exists() else "",
        runs=len(study_configs("smoke")),
    )


# --- `make train EXECUTOR=slurm` on a real one-node Slurm (tests/local_slurm.py) -------------------------------


def _slurm_tasks(env: dict) -> list[str]:
    """The job ids of the cluster's queued and running tasks."""
    out = subprocess.run(["squeue", "--noheader", "--format=%i"], env=env, capture_output=True, text=True, timeout=30)
    return out.stdout.split()


@scenario
def slurm_runs(root: Path, env: dict, config) -> dict:
    """The smoke study through `make train EXECUTOR=slurm`, with slowed steps: Ctrl-C once a run is done (the
    array keeps running); make train again, which follows the array, and `make train CANCEL=1` from beside it
    once two more are done; make train a third time, which submits what is unfinished and trains it to the
    end; a fourth, which finds nothing to train."""
    import local_slurm

    try:
        cluster = local_slurm.shared()
    except local_slurm.Unavailable as e:
        return dict(unavailable=str(e))
    slowed = cluster.env(make_env(env, root, COLORIZE_STEP_DELAY_S=str(TRAIN_STEP_DELAY_S)))
    # The tasks follow the cluster's 1 CPU each (SLURM_CPUS); a look at the array every second.
    command = train_command(root, "EXECUTOR=slurm", "SLURM_CPUS=1", "SLURM_POLL_S=1")
    outputs, queued = [], []

    def follow_until(until: str, count: int, then) -> None:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=slowed, start_new_session=True
        )
        try:
            lines, got = _read_lines(process), []
            while sum(until in t for _, t in got) < count:
                got += _collect(lines, until, deadline_s=600)
            then(process)
            process.wait(timeout=120)  # a bound against hanging, not a speed figure
            got += _collect(lines, None, deadline_s=60)
        finally:
            process.kill()
        outputs.append(dict(lines=[t for _, t in got], rc=process.returncode))

    def interrupt(process):
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C: make and make train

    def cancel(process):
        outputs.append(subprocess.run([*command, "CANCEL=1"], capture_output=True, text=True, env=slowed, timeout=120))

    follow_until("done ", 1, interrupt)
    queued.append(_slurm_tasks(slowed))
    follow_until("done ", 2, cancel)
    queued.append(_slurm_tasks(slowed))
    third = subprocess.run(command, capture_output=True, text=True, env=slowed, timeout=900)
    fourth = subprocess.run(command, capture_output=True, text=True, env=slowed, timeout=300)
    return dict(root=root, interrupted=outputs[0], cancel=outputs[1], followed=outputs[2], queued=queued,
                third=third, fourth=fourth, logs=root / "reports" / "train")  # fmt: skip
