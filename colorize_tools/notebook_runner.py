"""Run the study's notebooks one at a time for `make reproduce`, saying what happens as it happens.

    python -m colorize_tools.notebook_runner run NOTEBOOK OUT.ipynb --profile P --data D  # one notebook (make's rule)
    python -m colorize_tools.notebook_runner finish REPORTS                                 # Table 1, the index

`run` prints a line before the notebook (`[4/8] 04_unet_lab · elapsed 6:12 · about 14 min left`;
estimate.py says how the time left is known), then streams each epoch, resume and in-epoch progress
line of the kernel as it comes (`04_unet_lab │ unet_lab epoch 3/12 ...`), while OUT.log gets everything
the kernel prints. The executed notebook is written to OUT.partial and renamed to OUT only when every
cell has run, so make never mistakes a half-run notebook for a finished one; then it is rendered as
REPORTS/NAME.html in the same process. Streams are coalesced: a progress bar leaves its final line in
the notebook, not one line per refresh.

Cheap around the notebook (bench/notebook_overhead.py has the figures): the time left, which needs the
study's configs and so torch, is worked out in a thread while the kernel starts on another core; the
kernel is stopped at once after its last cell rather than waited for; the report is rendered without
a second interpreter.

A failing cell leaves OUT's folder NAME.failed.ipynb, the tail of the log, and an error naming the
notebook, the cell and the command that resumes. Ctrl-C (SIGINT) or SIGTERM stops the kernel and
anything it started within seconds, removes OUT.partial and exits 130; the next `make reproduce`
skips finished notebooks and `train.fit` resumes an interrupted training from its last epoch.

`COLORIZE_RUN_STARTED` (Unix seconds, set by the Makefile once per make) dates the whole run for
the elapsed time; the times each notebook took go to REPORTS/.timings.json for later estimates.
"""

import argparse
import logging
import math
import os
import re
import shlex
import signal
import sys
import threading
import time
import traceback
import warnings
from contextlib import contextmanager
from pathlib import Path

from colorize_lib.paths import PROJECT_ROOT

from . import estimate
from .notebook_deps import notebook_files

# Kernel output lines shown on the terminal: per-epoch lines, in-epoch progress, resume notices.
SHOWN = re.compile(r"\bepoch \d+/\d+\b|^resuming ")
PARTIAL_RESUME = re.compile(r"^resuming .* after epoch (\d+)/(\d+)")
EPOCH_SECONDS = re.compile(r" img/s  (\d+(?:\.\d+)?)s  ETA ")  # an epoch line's training seconds (train.py)
HEADER_WAIT_S = 60.0  # the kernel's lines wait at most this long for the header line
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
LOG_TAIL_LINES = 40
STOP_WAIT_S = 3.0  # grace after SIGTERM before the kernel and its children are killed
TABLE1_COLUMNS = [
    ("model", "model"),
    ("psnr_db", "ours"),
    ("gray_psnr_db", "gray"),
    ("delta_vs_gray_db", "Δ vs gray"),
    ("paper_psnr_db", "paper"),
]


class KernelStream:
    """File-like sink for one kernel stream (papermill writes each chunk as it arrives): every line
    goes to the log, the lines SHOWN go to the terminal prefixed with the notebook's name."""

    def __init__(self, name: str, log, seen: list[str], ready: threading.Event | None = None):
        self.name, self.log, self.seen, self.ready = name, log, seen, ready  # ready: the header is out
        self.pending = self.last = ""

    def write(self, text: str) -> int:
        pieces = re.split(r"(\r|\n)", self.pending + text)
        self.pending = ""
        i = 0
        while i < len(pieces):
            piece = pieces[i]
            ended = i + 1 < len(pieces)
            # A piece after a carriage return is a complete status (tqdm writes "\r<status>" in one
            # call); only a plain unfinished line waits for the rest of it.
            after_cr = i > 0 and pieces[i - 1] == "\r"
            if ended or after_cr:
                if piece:
                    self._line(piece)
            else:
                self.pending = piece
            i += 2
        return len(text)

    def flush(self) -> None:
        self.log.flush()

    def close(self) -> None:
        if self.pending:
            self._line(self.pending)
            self.pending = ""

    def _line(self, line: str) -> None:
        line = ANSI.sub("", line).rstrip()
        if not line or line == self.last:  # tqdm repeats a bar's last refresh when it closes
            return
        self.last = line
        self.log.write(line + "\n")
        if SHOWN.search(line):
            self.seen.append(line)
            if self.ready is not None:
                self.ready.wait(HEADER_WAIT_S)
            print(f"{self.name} │ {line}", flush=True)


def run_notebook(
    notebook: Path,
    out: Path,
    profile: str,
    data: str,
    seed: int = 0,
    test_fraction: float | None = None,
    seeds: int | None = None,
) -> int:
    """Execute `notebook` into `out` and render it as REPORTS/NAME.html (see the module docstring); return
    the exit status. `test_fraction` (None: the profile's) is the share of photo groups held out for test;
    `seeds` (None: the profile's) the training seeds of each run a verdict compares, passed to the notebooks
    that train such runs (those with a `seeds` parameter)."""
    notebook, out = Path(notebook), Path(out)
    if not notebook.is_file():
        raise FileNotFoundError(f"notebook {notebook} does not exist")
    name, reports = notebook.stem, out.parent.parent
    out.parent.mkdir(parents=True, exist_ok=True)
    partial, log_path = out.with_name(out.name + ".partial"), out.with_name(out.name + ".log")
    failed = out.with_name(f"{name}.failed.ipynb")
    failed.unlink(missing_ok=True)
    started = time.monotonic()

    # jsonschema, which papermill's nbformat imports, builds rfc3987_syntax's IRI grammar when that package is
    # installed (about 1 s; jupyterlab's dependencies bring it). No notebook field has an IRI format to
    # check: jsonschema does without the checker when the import fails, as this makes it.
    sys.modules.setdefault("rfc3987_syntax", None)
    import papermill  # slow to import; not needed by `finish`
    from papermill.exceptions import PapermillExecutionError

    # papermill warns that NAME.ipynb.partial does not end in .ipynb; the name is deliberate.
    warnings.filterwarnings("ignore", message="The specified file .* does not end in one of")

    seen: list[str] = []
    log_path.unlink(missing_ok=True)
    # Absolute: the kernel runs in notebooks/, and REPORTS (default `reports`) may be relative.
    progress = out.with_name(out.name + ".progress").resolve()
    header = Header(notebook, out, profile, data, seeds, dict(seed=seed, test_fraction=test_fraction))
    resume = resume_command(profile, data, reports, seed, test_fraction, seeds)
    parameters = dict(profile=profile, data=data, seed=seed, test_fraction=test_fraction)
    if seeds is not None and "seeds" in papermill.inspect_notebook(str(notebook)):
        parameters["seeds"] = seeds
    with (
        open(log_path, "a", encoding="utf-8") as log,
        _papermill_log(log),
        _stderr_to(log),  # append mode: the kernel writes to the same file through descriptor 2
        _progress_from(progress, KernelStream(name, log, seen, header.printed)),
        _environment(COLORIZE_HEADLESS="1"),  # widgets show their static version (colorize.compare_photo)
    ):
        streams = [KernelStream(name, log, seen, header.printed) for _ in ("stdout", "stderr")]
        header.start()
        try:
            with _stop_children_on_signal():
                papermill.execute_notebook(
                    str(notebook),
                    str(partial),
                    parameters=parameters,
                    kernel_name="python3",
                    cwd=str(notebook.parent),
                    progress_bar=False,
                    stdout_file=streams[0],
                    stderr_file=streams[1],
                    coalesce_streams=True,
                    # Every file the notebook writes is complete when its last cell ends: a graceful
                    # shutdown would only wait a second or two for the interpreter to tear down.
                    shutdown_kernel="immediate",
                    on_cell_execute=_log_cell(log, started),
                )
        except KeyboardInterrupt:
            header.wait()
            _interrupted(name, streams, partial, log, resume)
        except Exception as e:  # a cell raised, the kernel died, a parameter was refused...
            header.wait()
            where = _failed_cell(e) if isinstance(e, PapermillExecutionError) else f" ({type(e).__name__})"
            _failed(notebook, e, where, streams, partial, log, log_path, resume)
            return 1
        for s in streams:
            s.close()
    header.wait()
    os.replace(partial, out)
    from .html_export import render  # nbconvert: imported once the notebook has run

    render(out, reports / f"{name}.html")
    seconds = time.monotonic() - started
    print(f"{name} │ done in {estimate.clock(seconds)}", flush=True)
    if not _resumed_partway(seen):  # a resumed run's time says little of a full one
        overhead = seconds - sum(float(m.group(1)) for line in seen if (m := EPOCH_SECONDS.search(line)))
        estimate.record_timing(reports, estimate.run_key(profile, data), name, seconds, overhead)
    return 0


class Header:
    """The run-level line before a notebook's output (`[4/8] 04_unet_lab · elapsed 6:12 · about 14 min
    left`). Its time left needs the study's configs, hence torch: it is worked out in a thread while the
    kernel starts in its own process, and the kernel's lines wait for it (`printed`)."""

    def __init__(
        self, notebook: Path, out: Path, profile: str, data: str, seeds: int | None = None, common: dict | None = None
    ):
        # Absolute: papermill changes the working directory to the notebook's while it runs.
        self.args = (notebook.absolute(), out.absolute(), profile, data, seeds, common)
        self.printed = threading.Event()
        self.thread = threading.Thread(target=self._announce, name="time-left", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def wait(self) -> None:
        self.printed.wait(HEADER_WAIT_S)

    def _announce(self) -> None:
        try:
            _kernel_launched()
            print(header_line(*self.args), flush=True)
        except Exception as e:  # the estimate must never stop a notebook; the notebook reports its own errors
            print(f"[{self.args[0].stem}] (no time left: {type(e).__name__}: {e})", flush=True)
        finally:
            self.printed.set()


def _log_cell(log, started: float):
    """A hook writing `[12.3 s] cell 7: study.decodings(...)` to the log as each cell starts: where a slow
    or stuck notebook is, read in the log while it runs."""

    def hook(cell, cell_index):
        first = next((line.strip() for line in cell.source.splitlines() if line.strip()), "")
        log.write(f"[{time.monotonic() - started:.1f} s] cell {cell_index}: {first[:100]}\n")
        log.flush()

    return hook


def _kernel_launched(timeout_s: float = 5.0) -> None:
    """Return once this process has a child (the kernel), or after `timeout_s`: the estimate's imports
    would otherwise share the interpreter with the kernel's launch and delay it."""
    import psutil

    me, deadline = psutil.Process(), time.monotonic() + timeout_s
    while not me.children() and time.monotonic() < deadline:
        time.sleep(0.02)


def _interrupted(name: str, streams, partial: Path, log, resume: str) -> None:
    """After Ctrl-C: the kernel is gone (see _stop_children_on_signal); drop the partial notebook, say
    how to go on, and exit 130."""
    for s in streams:
        s.close()
    partial.unlink(missing_ok=True)
    partial.with_suffix(".progress").unlink(missing_ok=True)  # NAME.ipynb.progress (_progress_from)
    log.write("interrupted\n")
    log.flush()
    _restore_stderr()
    print(
        f"\ninterrupted: {name} stopped; nothing was written under its final name.\n"
        f"  finished notebooks are kept; `{resume}` runs the rest, resuming an interrupted training "
        "from its last epoch",
        file=sys.stderr,
        flush=True,
    )
    # The event loop and kernel sockets are left mid-call: leave without running their cleanup,
    # which could wait on a kernel that is gone.
    os._exit(130)


def _failed(notebook: Path, e: Exception, where: str, streams, partial: Path, log, log_path: Path, resume: str) -> None:
    """Keep the executed copy as NAME.failed.ipynb, show the log's tail and what failed where."""
    for s in streams:
        s.close()
    log.write(ANSI.sub("", _describe(e)) + "\n")
    log.flush()
    failed = partial.with_name(f"{notebook.stem}.failed.ipynb")
    if partial.exists():
        os.replace(partial, failed)
    _restore_stderr()
    _print_tail(log_path)
    print(
        f"error: notebook {notebook} failed{where}\n"
        f"  executed copy: {failed if failed.exists() else 'none'}  log: {log_path}\n"
        f"  after fixing the cause, resume with: {resume}",
        file=sys.stderr,
        flush=True,
    )


def resume_command(
    profile: str, data: str, reports: Path, seed: int = 0, test_fraction: float | None = None, seeds: int | None = None
) -> str:
    cmd = f"make reproduce PROFILE={shlex.quote(profile)} DATA={shlex.quote(data)}"
    if seed:
        cmd += f" SEED={seed}"
    if seeds is not None:
        cmd += f" SEEDS={seeds}"
    if test_fraction is not None:
        cmd += f" TEST_FRACTION={test_fraction:g}"
    if Path(reports).resolve() != (PROJECT_ROOT / "reports").resolve():
        cmd += f" REPORTS={shlex.quote(str(reports))}"
    return cmd


def header_line(
    notebook: Path, out: Path, profile: str, data: str, seeds: int | None = None, common: dict | None = None
) -> str:
    """'[k/N] NAME · elapsed M:SS · about X min left' (or 'time left: measuring', see estimate.py). `common`:
    the notebooks' seed and test fraction, part of the identity (so of the folder) of every run measured."""
    names = sorted(p.stem for p in notebook.parent.glob("[0-9][0-9]_*.ipynb"))
    k = names.index(notebook.stem) if notebook.stem in names else 0
    started = _run_started()
    line = f"[{k + 1}/{len(names)}] {notebook.stem} · elapsed {estimate.clock(time.time() - started)}"
    try:
        reports = out.parent.parent
        n_train = estimate.train_images(reports)
        work = estimate.study_work(names, profile, data, n_train, since=started, seeds=seeds, **(common or {}))
    except ValueError:  # a profile the config refuses: the notebook will say so itself
        return line
    todo = [notebook.stem] + [n for n in names[k + 1 :] if _will_run(n, k, names, out.parent, notebook.parent)]
    recorded = estimate.load_timings(reports).get(estimate.run_key(profile, data), {})
    return f"{line} · {estimate.about(estimate.expected_seconds(todo, work, recorded))}"


def _will_run(name: str, k: int, names: list[str], executed: Path, sources: Path) -> bool:
    """Whether make will run notebook `name` after the one at index k. Mirrors the Makefile: a notebook
    reruns when it, the settings or a library file it imports (`notebook_deps`) is newer than its
    output; the last one summarises all others, so it runs whenever one of them does."""
    if name == names[-1]:
        return True
    out = executed / f"{name}.ipynb"
    if not out.exists():
        return True
    notebook = sources / f"{name}.ipynb"
    deps = [notebook, executed.parent / ".settings", *notebook_files(notebook)]
    return any(d.exists() and d.stat().st_mtime > out.stat().st_mtime for d in deps)


def _run_started() -> float:
    raw = os.environ.get("COLORIZE_RUN_STARTED", "")
    try:
        return float(raw)
    except ValueError:
        return time.time()  # run by hand, not by make: the run starts now


def _resumed_partway(seen: list[str]) -> bool:
    for line in seen:
        m = PARTIAL_RESUME.search(line)
        if m and int(m.group(1)) < int(m.group(2)):
            return True
    return False


def _failed_cell(e) -> str:
    """' in cell In [3], line 9 (`config = make_config(...)`): ValueError: ...' from papermill's error."""
    count = f"In [{e.exec_count}]" if e.exec_count else f"#{e.cell_index}"
    # IPython marks the raising line of each frame with '---->'; the first frame is the cell's own.
    marked = re.search(r"^-+> *(\d+) (.*)$", ANSI.sub("", "\n".join(e.traceback or [])), re.MULTILINE)
    if marked:
        where, code = f", line {marked.group(1)}", marked.group(2).strip()
    else:
        where, code = "", next((ln.strip() for ln in (e.source or "").splitlines() if ln.strip()), "")
    return f" in cell {count}{where} (`{code[:80]}`): {e.ename}: {ANSI.sub('', str(e.evalue))}"


def _describe(e: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(e), e)) if not hasattr(e, "traceback") else str(e)


def _print_tail(log_path: Path) -> None:
    lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    print("\n".join(lines[-LOG_TAIL_LINES:]), flush=True)


_saved_stderr: list[int] = []


@contextmanager
def _stderr_to(log):
    """Point file descriptor 2 at the log while the notebook runs: the kernel inherits it, and its
    start-up warnings and papermill's own messages belong in the log, not between the epoch lines."""
    sys.stderr.flush()
    _saved_stderr.append(os.dup(2))
    os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        _restore_stderr()


@contextmanager
def _progress_from(path: Path, stream: KernelStream, poll_s: float = 0.2):
    """The kernel's in-epoch progress, kept out of the notebook: the kernel appends it to `path`
    (COLORIZE_PROGRESS_FILE, engine/progress.py), and a thread hands what arrives to `stream` (the log;
    the progress lines also to the terminal). A file, not the kernel's stderr: ipykernel forwards
    anything written to its file descriptor 2 into the notebook."""
    path.write_text("")
    done = threading.Event()

    def follow():
        with open(path, encoding="utf-8", errors="replace", newline="") as progress:
            while True:
                finished = done.is_set()  # read once more after the notebook ended: nothing is lost
                text = progress.read()
                if text:
                    stream.write(text)
                elif finished:
                    break
                else:
                    time.sleep(poll_s)
        stream.close()

    reader = threading.Thread(target=follow, name="kernel-progress", daemon=True)
    reader.start()
    try:
        with _environment(COLORIZE_PROGRESS_FILE=str(path)):
            yield
    finally:
        done.set()
        reader.join(timeout=10)
        path.unlink(missing_ok=True)


@contextmanager
def _environment(**values: str):
    """Environment variables for the kernel papermill starts (it inherits this process's), restored after."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _restore_stderr() -> None:
    if _saved_stderr:
        sys.stderr.flush()
        fd = _saved_stderr.pop()
        os.dup2(fd, 2)
        os.close(fd)


@contextmanager
def _papermill_log(log):
    """papermill's own warnings (unknown parameters, a dead kernel) go to the notebook's log."""
    handler = logging.StreamHandler(log)
    handler.setLevel(logging.WARNING)
    logger = logging.getLogger("papermill")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


@contextmanager
def _stop_children_on_signal():
    """On SIGINT or SIGTERM: stop the kernel and whatever it started, then raise KeyboardInterrupt.

    The kernel runs in its own session (jupyter_client starts it so), so a Ctrl-C at the terminal
    never reaches it; without this it would train on after make has given up. Installing our own
    handler also keeps asyncio from turning the first Ctrl-C into a slow graceful kernel shutdown."""

    def stop(signum, frame):
        for s in (signal.SIGINT, signal.SIGTERM):
            signal.signal(s, signal.SIG_IGN)  # a second Ctrl-C must not cut the cleanup short
        _stop_children()
        raise KeyboardInterrupt

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _stop_children() -> None:
    import psutil

    children = psutil.Process().children(recursive=True)
    for child in children:
        try:
            child.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(children, timeout=STOP_WAIT_S)
    for child in alive:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=STOP_WAIT_S)


def print_summary(reports: Path) -> None:
    """Table 1 from REPORTS/tables/table1.csv and where the reports are."""
    reports = Path(reports)
    path = reports / "tables" / "table1.csv"
    if not path.exists():
        raise FileNotFoundError(f"results table {path} does not exist: notebook 08_summary writes it")
    import pandas as pd

    table = pd.read_csv(path)
    missing = [c for c, _ in TABLE1_COLUMNS if c not in table]
    if missing:
        raise ValueError(f"results table {path} lacks columns {missing}; expected {[c for c, _ in TABLE1_COLUMNS]}")
    rows = [[title for _, title in TABLE1_COLUMNS]]
    for _, r in table.iterrows():
        rows.append([str(r["model"])] + [_cell(r[c], signed=c.startswith("delta")) for c, _ in TABLE1_COLUMNS[1:]])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    print("\nTable 1: test PSNR (dB)")
    for row in rows:
        print("  " + row[0].ljust(widths[0]) + "".join("  " + v.rjust(w) for v, w in zip(row[1:], widths[1:])))
    started = os.environ.get("COLORIZE_RUN_STARTED")
    took = f" · make reproduce took {estimate.clock(time.time() - float(started))}" if started else ""
    print(f"\nreports: {(reports / 'index.html').resolve()}{took}", flush=True)
    if started and not _ran_since(reports, float(started)):
        print("every notebook was up to date: nothing reran", flush=True)


def _ran_since(reports: Path, started: float) -> list[str]:
    """The notebooks executed since `started` (epoch seconds), by their executed copies' times."""
    executed = sorted((reports / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    return [p.stem for p in executed if p.stat().st_mtime >= started]


def _cell(value, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:+.2f}" if signed else f"{value:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m colorize_tools.notebook_runner", description=__doc__.splitlines()[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute one notebook")
    run.add_argument("notebook", type=Path)
    run.add_argument("out", type=Path, help="executed notebook to write (its .partial and .log go beside it)")
    run.add_argument("--profile", required=True)
    run.add_argument("--data", required=True)
    run.add_argument("--seed", type=int, default=0, help="the notebooks' seed (photo split, training)")
    run.add_argument(
        "--test-fraction", type=float, help="share of photo groups held out for test (default: the profile's)"
    )
    run.add_argument("--seeds", type=int, help="training seeds of each run a verdict compares (the profile's)")
    finish = sub.add_parser("finish", help="print Table 1 and the index page's path")
    finish.add_argument("reports", type=Path)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    sys.stdout.reconfigure(errors="replace")  # the │ and Δ on a terminal that cannot show them
    try:
        if args.command == "run":
            return run_notebook(
                args.notebook, args.out, args.profile, args.data, args.seed, args.test_fraction, args.seeds
            )
        print_summary(args.reports)
        return 0
    except KeyboardInterrupt:  # before the notebook started: nothing to clean up
        return 130


if __name__ == "__main__":
    status = main()
    # Every file is written and closed by now; the interpreter's own teardown (torch's and zmq's modules,
    # loaded for the notebook) would take another half second of each notebook for nothing.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
