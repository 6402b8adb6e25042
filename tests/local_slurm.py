"""A real one-node Slurm with accounting, started from a config in a folder of its own, for the tests.

Debian's packages (slurmctld, slurmd, slurm-client, slurmdbd, munge, mariadb-server; `.ci/run` installs
them) run as this user without systemd: munged on its own socket and key, MariaDB on 127.0.0.1 with a
private data folder, slurmdbd, slurmctld, then slurmd, each in the foreground as a child of this process
so that `stop()` ends them by their PIDs. The node is this machine with its cores and two stand-in GPUs
(`--gres=gpu:1` gives a task `CUDA_VISIBLE_DEVICES`, as on a cluster); accounting is what lets `sacct`, and
so submitit, see a cancelled or failed task at once rather than never. Clients find the cluster through
the environment of `env()` (`SLURM_CONF`).

    python tests/local_slurm.py DIR     # start one and leave it running, for trying the commands by hand
"""

import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

# Slurm 22.05's slurmctld reaches slurmdbd through munge's default socket whatever AuthInfo says, so munged
# listens there: one such cluster per machine, or the machine's own munged where one answers.
MUNGE_SOCKET = Path("/run/munge/munge.socket.2")
DAEMONS = ("munged", "mariadbd", "slurmdbd", "slurmctld", "slurmd")
START_TIMEOUT_S = 60.0  # a bound against a daemon that never answers, not a speed figure


def missing() -> list[str]:
    """The programs of Debian's slurm, munge and MariaDB packages that this machine lacks."""
    needed = ["munged", "mungekey", "mariadbd", "mariadb-install-db", "slurmdbd", "slurmctld", "slurmd", "sbatch"]
    return [p for p in needed if not shutil.which(p, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _which(program: str) -> str:
    return shutil.which(program, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")


class LocalSlurm:
    def __init__(self, folder: Path, gpus: int = 2):
        self.folder = Path(folder)
        self.gpus = gpus
        self.processes: dict[str, subprocess.Popen] = {}
        self.host = socket.gethostname().split(".")[0]
        self.cpus = os.cpu_count() or 1

    # --- the cluster's files ---------------------------------------------------------------------------

    def _write_configs(self) -> None:
        f = self.folder
        for sub in ("munge", "db", "state", "spool", "log"):
            (f / sub).mkdir(parents=True, exist_ok=True)
        self.munge_socket = MUNGE_SOCKET
        self.ports = dict(db=_free_port(), dbd=_free_port(), ctld=_free_port(), slurmd=_free_port())
        auth = "AuthType=auth/munge\n"
        dbd = f / "slurmdbd.conf"
        dbd.write_text(
            auth
            + f"DbdHost=localhost\nDbdPort={self.ports['dbd']}\nSlurmUser=root\n"
            + f"LogFile={f / 'log' / 'slurmdbd.log'}\nPidFile={f / 'state' / 'slurmdbd.pid'}\n"
            + "StorageType=accounting_storage/mysql\nStorageHost=127.0.0.1\n"
            + f"StoragePort={self.ports['db']}\nStorageUser=root\nStorageLoc=slurm_acct_db\n"
        )
        dbd.chmod(0o600)  # slurmdbd refuses a config others can read
        for i in range(self.gpus):  # character devices that read like /dev/null: slurmd accepts nothing less
            device = f / f"gpu{i}"
            if not device.exists():
                os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        (f / "gres.conf").write_text(
            "".join(f"NodeName={self.host} Name=gpu File={f / f'gpu{i}'}\n" for i in range(self.gpus))
        )
        gres = f" Gres=gpu:{self.gpus}" if self.gpus else ""
        (f / "slurm.conf").write_text(
            auth
            + f"ClusterName=colorize\nSlurmctldHost={self.host}(127.0.0.1)\n"
            + f"SlurmctldPort={self.ports['ctld']}\nSlurmdPort={self.ports['slurmd']}\n"
            + "SlurmUser=root\nSlurmdUser=root\n"
            + f"StateSaveLocation={f / 'state'}\nSlurmdSpoolDir={f / 'spool'}\n"
            + f"SlurmctldPidFile={f / 'state' / 'slurmctld.pid'}\nSlurmdPidFile={f / 'state' / 'slurmd.pid'}\n"
            + f"SlurmctldLogFile={f / 'log' / 'slurmctld.log'}\nSlurmdLogFile={f / 'log' / 'slurmd.log'}\n"
            + "ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\nMpiDefault=none\n"
            + "SelectType=select/cons_tres\nSelectTypeParameters=CR_CPU\nReturnToService=2\n"
            + "JobAcctGatherType=jobacct_gather/none\n"
            + "AccountingStorageType=accounting_storage/slurmdbd\nAccountingStorageHost=localhost\n"
            + f"AccountingStoragePort={self.ports['dbd']}\n"
            + ("GresTypes=gpu\n" if self.gpus else "")
            + f"NodeName={self.host} NodeAddr=127.0.0.1 CPUs={self.cpus} State=UNKNOWN{gres}\n"
            + "PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP\n"
        )

    def env(self, base: dict | None = None) -> dict:
        """`base` (default: this process's environment) with the cluster's config and its programs on PATH."""
        env = dict(os.environ if base is None else base)
        env["SLURM_CONF"] = str(self.folder / "slurm.conf")
        env["PATH"] = env.get("PATH", "") + ":/usr/sbin:/sbin"
        return env

    # --- starting and stopping -----------------------------------------------------------------------

    def _spawn(self, name: str, command: list[str]) -> None:
        log = open(self.folder / "log" / f"{name}.out", "ab")
        self.processes[name] = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=self.env(), start_new_session=True
        )
        log.close()

    def _wait_for(self, name: str, ready, what: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if ready():
                return
            process = self.processes[name]
            if process.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        logs = sorted((self.folder / "log").glob(f"{name}*"))
        tail = "\n".join(p.read_text(errors="replace")[-1500:] for p in logs)
        raise RuntimeError(f"the test cluster's {name} did not {what} (logs {', '.join(map(str, logs))}):\n{tail}")

    def _port_open(self, port: int) -> bool:
        with socket.socket() as s:
            s.settimeout(0.5)
            return s.connect_ex(("127.0.0.1", port)) == 0

    def _run(self, *command: str) -> subprocess.CompletedProcess:
        return subprocess.run(command, env=self.env(), capture_output=True, text=True, timeout=30)

    def start(self) -> "LocalSlurm":
        self._write_configs()
        f = self.folder
        if not self._munge_answers():
            self._start_munged()
        db = f / "db"
        if not (db / "mysql").exists():
            subprocess.run(
                [_which("mariadb-install-db"), f"--datadir={db}", "--user=root", "--skip-test-db",
                 "--auth-root-authentication-method=normal"],
                check=True, capture_output=True,
            )  # fmt: skip
        self._spawn(
            "mariadbd",
            [
                _which("mariadbd"), "--no-defaults", f"--datadir={db}", "--user=root", "--bind-address=127.0.0.1",
                f"--port={self.ports['db']}", f"--socket={f / 'db' / 'mysqld.sock'}", "--skip-grant-tables",
                f"--pid-file={f / 'db' / 'mariadbd.pid'}", "--innodb-buffer-pool-size=32M",
            ],
        )  # fmt: skip
        self._wait_for("mariadbd", lambda: self._port_open(self.ports["db"]), "listen")
        # slurmdbd reads slurmdbd.conf beside $SLURM_CONF (it has no option for its config).
        self._spawn("slurmdbd", [_which("slurmdbd"), "-D"])
        # slurmctld must not start before slurmdbd answers, or it runs without accounting.
        self._wait_for("slurmdbd", lambda: self._port_open(self.ports["dbd"]), "listen")
        self._spawn("slurmctld", [_which("slurmctld"), "-D", "-i", "-f", str(f / "slurm.conf")])
        self._wait_for("slurmctld", lambda: self._run("scontrol", "ping").stdout.count("UP") >= 1, "answer a ping")
        self._spawn("slurmd", [_which("slurmd"), "-D", "-f", str(f / "slurm.conf")])
        self._wait_for("slurmd", self._node_idle, "bring its node up")
        return self

    def _start_munged(self) -> None:
        f = self.folder
        key = f / "munge" / "munge.key"
        subprocess.run([_which("mungekey"), "--create", f"--keyfile={key}"], check=True, capture_output=True)
        self.munge_socket.parent.mkdir(parents=True, exist_ok=True)
        self._spawn(
            "munged",
            [
                _which("munged"), "--foreground", "--force", f"--socket={self.munge_socket}", f"--key-file={key}",
                f"--pid-file={f / 'munge' / 'munged.pid'}", f"--log-file={f / 'log' / 'munged.log'}",
                f"--seed-file={f / 'munge' / 'munged.seed'}",
            ],
        )  # fmt: skip
        self._wait_for("munged", self._munge_answers, "answer")

    def _munge_answers(self) -> bool:
        if not self.munge_socket.exists():
            return False
        encoded = subprocess.run(["munge", "-n"], capture_output=True)
        decoded = subprocess.run(["unmunge"], input=encoded.stdout, capture_output=True)
        return encoded.returncode == 0 and decoded.returncode == 0

    def _node_idle(self) -> bool:
        out = self._run("sinfo", "--noheader", "--format=%t").stdout.split()
        return bool(out) and all(state in ("idle", "mix", "alloc") for state in out)

    def stop(self) -> None:
        """End every daemon by its PID (the reverse of the start order): SIGTERM, then SIGKILL after 10 s."""
        for name in reversed(DAEMONS):
            process = self.processes.pop(name, None)
            if process is None or process.poll() is not None:
                continue
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def __enter__(self) -> "LocalSlurm":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


if __name__ == "__main__":
    cluster = LocalSlurm(Path(sys.argv[1])).start()
    print(f"export SLURM_CONF={cluster.folder / 'slurm.conf'}  # daemons: " + ", ".join(
        f"{name} {p.pid}" for name, p in cluster.processes.items()))  # fmt: skip


# --- one cluster for a whole test run ----------------------------------------------------------------

_shared: LocalSlurm | None = None
_shared_lock = threading.Lock()


class Unavailable(RuntimeError):
    """This machine lacks Debian's slurm packages: the Slurm tests skip, saying so."""


def shared() -> LocalSlurm:
    """The test run's cluster, started at the first call (from any thread); `stop_shared` ends it."""
    global _shared
    with _shared_lock:
        if _shared is None:
            lacking = missing()
            if lacking:
                raise Unavailable(
                    f"no Slurm here ({', '.join(lacking)} not found): apt-get install slurmctld slurmd "
                    "slurm-client slurmdbd munge mariadb-server, as .ci/run does"
                )
            _shared = LocalSlurm(Path(tempfile.mkdtemp(prefix="colorize-slurm-"))).start()
        return _shared


def stop_shared() -> None:
    with _shared_lock:
        if _shared is not None:
            _shared.stop()
