"""One trainer per run on a machine: a process that trains a run holds an OS lock on its folder. A second
process that asks for the same run (a reader in JupyterLab while `make reproduce` trains it) says who holds
it, waits, and then reloads the finished run instead of training it at the same time. The kernel releases
the lock on any exit of the holder, SIGKILL included, so a killed trainer never leaves a run locked. Across
machines the scheduler (`make train EXECUTOR=slurm`) decides who trains a run: `flock` on a network file
system is not reliable, so nothing here counts on it."""

import datetime as dt
import fcntl
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = ".lock"


@contextmanager
def run_lock(run_dir: Path, log=print) -> Iterator[None]:
    """Hold the exclusive lock of `run_dir` (its `.lock` file) for the block, waiting for another holder."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"{run_dir.name} is being trained by {_holder(fd)}: waiting for it, then reloading the run")
            fcntl.flock(fd, fcntl.LOCK_EX)
        me = dict(pid=os.getpid(), host=socket.gethostname(), since=dt.datetime.now().isoformat(timespec="seconds"))
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def _holder(fd: int) -> str:
    try:
        who = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return f"process {who['pid']} on {who['host']} (since {who['since']})"
    except (ValueError, KeyError):
        return "another process"
