"""`make reproduce ENV=system` on a Python shaped like the GPU machine's: torch, torchvision and the
scientific stack, no papermill/nbconvert/nbclient/ipykernel, and those brought only as wheels from
`make wheelhouse`, installed with --no-index. Takes ~3-5 min on 2 busy cores (the smoke reproduce most
of it; the wheelhouse download, ~40 s, is cached in pytest's cache across sessions)."""

import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from colorize_lib.paths import PROJECT_ROOT
from colorize_tools.environment import WHEELHOUSE_MODULES, wheelhouse_gaps

pytestmark = pytest.mark.slow

# What the GPU machine's Python brings (its PyTorch, torchvision and scientific stack), with their dependencies.
MACHINE_PACKAGES = ["torch", "torchvision", "numpy", "pandas", "matplotlib", "scikit-image", "pillow", "tqdm"]
PYTHON_VERSION = "{}.{}".format(*sys.version_info[:2])


def outside_env(**extra):
    """os.environ without an outer make's variables (MAKEFLAGS carries its command line) or Python setup."""
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
    return {**{k: v for k, v in os.environ.items() if k not in drop}, **extra}


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


@pytest.fixture(scope="session")
def wheelhouse(request):
    """The checkout's own .wheelhouse/pyX.Y when it is complete (carried to a machine with no network),
    else `make wheelhouse` into pytest's cache, kept across sessions: pip skips wheels already there."""
    carried = PROJECT_ROOT / ".wheelhouse" / f"py{PYTHON_VERSION}"
    if carried.is_dir() and not wheelhouse_gaps(carried, PYTHON_VERSION, sorted(WHEELHOUSE_MODULES.values())):
        return carried
    root = Path(request.config.cache.mkdir("wheelhouse"))
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
        env=outside_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"wheelhouse {root}/py{PYTHON_VERSION}:" in proc.stdout
    return root / f"py{PYTHON_VERSION}"


@pytest.fixture(scope="module")
def machine(tmp_path_factory):
    """A copy of the checkout and a venv whose only packages are MACHINE_PACKAGES (symlinked from ours)."""
    root = tmp_path_factory.mktemp("system-env")
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
    env = outside_env(
        PATH=f"{venv / 'bin'}:{os.environ['PATH']}", COLORIZE_DATA_DIR=str(root / "data"), MPLBACKEND="Agg"
    )
    return repo, venv, env


def make(repo, env, *args, timeout=900):
    return subprocess.run(["make", "-C", str(repo), *args], env=env, capture_output=True, text=True, timeout=timeout)


def test_system_env_fails_naming_the_missing_notebook_tools(machine):
    repo, venv, env = machine
    proc = make(repo, env, "reproduce", "ENV=system", "PROFILE=smoke", f"REPORTS={repo / 'reports'}", timeout=300)
    assert proc.returncode != 0
    # The notebook tools, and psutil (ipykernel's dependency, which the runner uses too); tqdm is there.
    assert "cannot import: papermill, nbconvert, nbclient, ipykernel, psutil\n" in proc.stderr
    assert f"make wheelhouse PYTHON_VERSION={PYTHON_VERSION}" in proc.stderr
    # Nothing was installed or run: no .venv, no notebook started.
    assert not (repo / ".venv").exists() and not (repo / "reports" / "notebooks").exists()


def test_system_env_reproduces_with_the_wheelhouse_installed_offline(machine, wheelhouse):
    repo, venv, env = machine
    shutil.copytree(wheelhouse, repo / ".wheelhouse" / f"py{PYTHON_VERSION}")
    proc = make(repo, env, "install-wheelhouse", timeout=600)  # pip --no-index: only the carried folder
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (repo / ".wheelhouse" / f"site-py{PYTHON_VERSION}" / "papermill").is_dir()

    reports = repo / "reports"
    proc = make(repo, env, "reproduce", "ENV=system", "PROFILE=smoke", f"REPORTS={reports}")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"ENV=system: {venv / 'bin' / 'python3'}" in proc.stdout
    assert sorted(p.name for p in reports.glob("*.html")) == sorted(
        [p.stem + ".html" for p in (repo / "notebooks").glob("[0-9][0-9]_*.ipynb")] + ["index.html"]
    )
    assert (reports / "tables" / "table1.csv").stat().st_size > 0
    # Nothing went into the venv itself, and no .venv was made.
    assert not (repo / ".venv").exists()
    assert not list(venv.glob("lib/python*/site-packages/papermill*"))
