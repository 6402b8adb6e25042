import os
import resource
import tempfile
import time

os.environ.setdefault("MPLBACKEND", "Agg")
# Caches and checkpoints that tests make go to a throw-away folder, not the project's data/.
# Set before any test imports colorize_lib.paths, which reads it once.
os.environ.setdefault("COLORIZE_DATA_DIR", tempfile.mkdtemp(prefix="colorize-test-data-"))
# Tables and figures that library calls write (study.*, reports.save_table) go to a throw-away folder too.
os.environ.setdefault("COLORIZE_REPORTS_DIR", tempfile.mkdtemp(prefix="colorize-test-reports-"))

import pytest  # noqa: E402
import scenarios  # noqa: E402


def pytest_collection_modifyitems(session, config, items):
    """The tests that read a background scenario go last (stable order otherwise): the rest run meanwhile."""
    items.sort(key=lambda item: any(name in item.fixturenames for name in scenarios.SCENARIOS))


def pytest_collection_finish(session):
    """Start, in background threads, the end-to-end scenarios the collected tests read (scenarios.py), with
    the environment as it is now, before any test changes it. A `--collect-only` starts none: nothing would
    read them, and the session would wait for them to end."""
    if session.config.option.collectonly:
        return
    env = dict(os.environ)
    for name in sorted(scenarios.SCENARIOS, key=scenarios.START_ORDER.index):
        if any(name in getattr(item, "fixturenames", ()) for item in session.items):
            scenarios.start(name, env, session.config)


def _scenario(name: str):
    """A session fixture that waits for scenario `name` (started when collection ended) and returns it."""

    @pytest.fixture(scope="session", name=name)
    def waiting(request):
        return scenarios.start(name, dict(os.environ), request.config).result()

    waiting.__doc__ = scenarios.SCENARIOS[name].__doc__
    return waiting


reproduce_runs = _scenario("reproduce_runs")  # smoke make reproduce, interrupted in 04, then completed
system_env_runs = _scenario("system_env_runs")  # make reproduce ENV=system, before and after the wheelhouse
runlock_runs = _scenario("runlock_runs")  # two processes asking for one run
gpu_check_run = _scenario("gpu_check_run")  # bench/gpu_check.sh's CPU form at smoke sizes
train_runs = _scenario("train_runs")  # make train WORKERS=2, interrupted, run again, then make reproduce
slurm_runs = _scenario("slurm_runs")  # make train EXECUTOR=slurm: Ctrl-C, follow again, cancel, finish
bad_folder_runs = _scenario("bad_folder_runs")  # notebooks 01 and 02 on a folder of bad files
diff_runs = _scenario("diff_runs")  # notebook 02 with two seeds, then make diff
coverage_runs = _scenario("coverage_runs")  # the intervals' one-sided errors over simulated studies


@pytest.fixture(scope="session")
def slurm_cluster():
    """The test run's one-node Slurm (tests/local_slurm.py); the test skips, saying why, without the packages."""
    import local_slurm

    try:
        return local_slurm.shared()
    except local_slurm.Unavailable as e:
        pytest.skip(str(e))


_SESSION_START = time.monotonic()


def pytest_terminal_summary(terminalreporter):
    """Each background scenario's wall time beside --durations' slowest tests."""
    lines = scenarios.walls(_SESSION_START)
    if lines:
        terminalreporter.write_sep("=", "background scenarios (wall time from the session's start)")
        for line in lines:
            terminalreporter.write_line(line)
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    terminalreporter.write_line(
        f"CPU time: {own.ru_utime + own.ru_stime:.0f} s in pytest's process, "
        f"{children.ru_utime + children.ru_stime:.0f} s in its finished subprocesses; "
        f"wall {time.monotonic() - _SESSION_START:.0f} s on {os.cpu_count()} cores"
    )


def pytest_sessionfinish(session, exitstatus):
    import local_slurm

    local_slurm.stop_shared()


@pytest.fixture(scope="session")
def smoke_run(reproduce_runs):
    """The folder of a complete smoke `make reproduce`: reports/ (tables, figures, runs, HTML) and data/."""
    assert reproduce_runs["second"].returncode == 0, reproduce_runs["second"].stdout[-3000:]
    return reproduce_runs["root"]
