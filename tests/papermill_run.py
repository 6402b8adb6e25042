"""Run one notebook headless through papermill, as `make reproduce` does (the tests' shared command)."""

import subprocess
import sys
from pathlib import Path


def run_notebook(notebook: Path, out: Path, env: dict, timeout: int, cwd: Path | None = None, **params) -> None:
    """Execute `notebook` into `out` with papermill parameters `params`; fail the test with papermill's
    stderr tail if it does not finish."""
    cmd = [sys.executable, "-m", "papermill", str(notebook), str(out), "-k", "python3", "--no-progress-bar"]
    if cwd is not None:
        cmd += ["--cwd", str(cwd)]
    for name, value in params.items():
        cmd += ["-p", name, str(value)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{notebook.name} failed:\n{proc.stderr[-3000:]}"
