import os
import tempfile

os.environ.setdefault("MPLBACKEND", "Agg")
# Caches and checkpoints that tests make go to a throw-away folder, not the project's data/.
# Set before any test imports colorize_lib.paths, which reads it once.
os.environ.setdefault("COLORIZE_DATA_DIR", tempfile.mkdtemp(prefix="colorize-test-data-"))
# Tables and figures that library calls write (study.*, reports.save_table) go to a throw-away folder too.
os.environ.setdefault("COLORIZE_REPORTS_DIR", tempfile.mkdtemp(prefix="colorize-test-reports-"))

import pytest  # noqa: E402
import scenarios  # noqa: E402


def pytest_collection_finish(session):
    """Start, in background threads, the end-to-end scenarios the collected tests read (scenarios.py), with
    the environment as it is now, before any test changes it."""
    env = dict(os.environ)
    for name in scenarios.SCENARIOS:
        if any(name in getattr(item, "fixturenames", ()) for item in session.items):
            scenarios.start(name, env, session.config)


@pytest.fixture(scope="session")
def reproduce_runs(request):
    """The smoke `make reproduce`, interrupted in notebook 04 and run again to the end (scenarios.py)."""
    return scenarios.start("reproduce_runs", dict(os.environ), request.config).result()


@pytest.fixture(scope="session")
def smoke_run(reproduce_runs):
    """The folder of a complete smoke `make reproduce`: reports/ (tables, figures, runs, HTML) and data/."""
    assert reproduce_runs["second"].returncode == 0, reproduce_runs["second"].stdout[-3000:]
    return reproduce_runs["root"]


@pytest.fixture(scope="session")
def system_env_runs(request):
    """`make reproduce ENV=system` before and after the wheelhouse is installed (scenarios.py)."""
    return scenarios.start("system_env_runs", dict(os.environ), request.config).result()
