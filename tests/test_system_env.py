"""`make reproduce ENV=system` on a Python shaped like the GPU machine's: torch, torchvision and the
scientific stack, no papermill/nbconvert/nbclient/ipykernel, and those brought only as wheels from
`make wheelhouse`, installed with --no-index. Takes ~3-5 min on 2 busy cores (the smoke reproduce most
of it; the wheelhouse download, ~40 s, is cached in pytest's cache across sessions)."""

import pytest
from scenarios import PYTHON_VERSION

pytestmark = pytest.mark.slow

# `system_env_runs` (conftest.py, scenarios.py): started in the background when collection ends.


def test_system_env_fails_naming_the_missing_notebook_tools(system_env_runs):
    proc = system_env_runs["before"]
    assert proc.returncode != 0
    # The notebook tools, and psutil (ipykernel's dependency, which the runner uses too); tqdm is there.
    assert "cannot import: papermill, nbconvert, nbclient, ipykernel, psutil\n" in proc.stderr
    assert f"make wheelhouse PYTHON_VERSION={PYTHON_VERSION}" in proc.stderr
    # Nothing was installed or run: no .venv, no notebook started.
    assert system_env_runs["state_before"] == dict(venv_made=False, notebooks_run=False)


def test_system_env_reproduces_with_the_wheelhouse_installed_offline(system_env_runs):
    repo, venv, install, proc = (system_env_runs[k] for k in ("repo", "venv", "install", "run"))
    assert install.returncode == 0, install.stdout + install.stderr  # pip --no-index: only the carried folder
    assert (repo / ".wheelhouse" / f"site-py{PYTHON_VERSION}" / "papermill").is_dir()

    reports = system_env_runs["reports"]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"ENV=system: {venv / 'bin' / 'python3'}" in proc.stdout
    assert sorted(p.name for p in reports.glob("*.html")) == sorted(
        [p.stem + ".html" for p in (repo / "notebooks").glob("[0-9][0-9]_*.ipynb")] + ["index.html"]
    )
    assert (reports / "tables" / "table1.csv").stat().st_size > 0
    # Nothing went into the venv itself, and no .venv was made.
    assert not (repo / ".venv").exists()
    assert not list(venv.glob("lib/python*/site-packages/papermill*"))
