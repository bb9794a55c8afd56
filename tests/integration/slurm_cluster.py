"""A real single-node SLURM cluster for the integration tests, from Debian's packages.

`slurm_cluster(folder)` writes its own `slurm.conf` and `slurmdbd.conf` (one node, this host,
at 127.0.0.1; accounting in a MariaDB of its own), makes a munge key and socket of its own,
starts `munged`, `mariadbd`, `slurmdbd`, `slurmctld` and `slurmd` in the foreground as our
children, waits until `sinfo` shows the node idle, and on the way out cancels every job left,
then stops every daemon by pid (SIGTERM, then SIGKILL), also when the test fails. Nothing of
the machine's own munge, MariaDB or SLURM set-up is read or touched: clients find the cluster
through `SLURM_CONF` only.

Accounting is not optional for submitit: it learns that a job ended without writing its
result (cancelled, killed, out of time) only from `sacct`; without it the launching process
waits for such a job forever.

slurmctld, slurmd and slurmdbd (22.05) listen on all interfaces; every address they are
given, and so every connection between them, sbatch, srun, sacct and the jobs, is 127.0.0.1.
MariaDB listens on 127.0.0.1 only.
"""

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from integration_support import free_port, pid_alive, port_open

SBIN = Path("/usr/sbin")
DAEMONS = ("munged", "mariadbd", "slurmdbd", "slurmctld", "slurmd")  # in start order
TOOLS = ("mariadb-install-db", "mariadb", "sinfo", "squeue", "sbatch", "srun", "scancel", "sacct",
         "sacctmgr")  # fmt: skip
PACKAGES = "slurm-wlm slurmdbd munge mariadb-server"
CLUSTER = "scratchnet-test"
NODE_CPUS = 2
PARTITION = "debug"
ACCOUNT = "scratchnet"  # an account root may charge (besides its default, root)
ACCOUNTING_DB = "slurm_acct_db"
KILL_WAIT_S = 10  # scancel: SIGTERM, then SIGKILL this much later (slurm.conf KillWait)


def slurm_missing() -> str | None:
    """Why a SLURM cluster cannot be started here, or None when it can."""
    missing = [name for name in DAEMONS if not (SBIN / name).exists()]
    missing += [name for name in TOOLS if shutil.which(name) is None]
    if missing:
        return f"not installed: {', '.join(missing)} (apt-get install {PACKAGES})"
    if os.geteuid() != 0:
        return "the SLURM daemons must run as root (slurmd starts jobs as their users)"
    return None


def node_name() -> str:
    """The node's name: `hostname -s`, which slurmd matches against NodeName."""
    return socket.gethostname().split(".")[0]


def real_memory_mb() -> int:
    """The node's memory for slurm.conf (slurmd drains a node with less than configured)."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 9 // 10 // 1024
    raise RuntimeError("no MemTotal in /proc/meminfo")


def free_ports(count: int) -> list[int]:
    """`count` distinct TCP ports nobody listens on right now."""
    ports: set[int] = set()
    while len(ports) < count:
        ports.add(free_port())
    return sorted(ports)


@dataclass(frozen=True)
class Layout:
    """Where a cluster keeps everything, all under one folder, and its ports."""

    root: Path
    ctld_port: int
    slurmd_port: int
    dbd_port: int
    db_port: int

    @property
    def ports(self) -> tuple[int, ...]:
        return (self.ctld_port, self.slurmd_port, self.dbd_port, self.db_port)

    @property
    def conf(self) -> Path:
        return self.root / "slurm.conf"

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def spool(self) -> Path:
        return self.root / "spool"

    @property
    def log(self) -> Path:
        return self.root / "log"

    @property
    def munge(self) -> Path:
        return self.root / "munge"

    @property
    def sockets(self) -> Path:
        return self.root / "sockets"

    @property
    def db(self) -> Path:
        return self.root / "db"

    @property
    def munge_socket(self) -> Path:
        return self.sockets / "munge.socket"

    @property
    def db_socket(self) -> Path:
        return self.sockets / "mariadb.sock"


def slurm_conf(lay: Layout) -> str:
    """slurm.conf of a one-node cluster kept entirely in the layout's folder."""
    node = node_name()
    return f"""\
ClusterName={CLUSTER}
SlurmctldHost={node}(127.0.0.1)
SlurmctldPort={lay.ctld_port}
SlurmdPort={lay.slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={lay.munge_socket}
StateSaveLocation={lay.state}
SlurmdSpoolDir={lay.spool}
SlurmctldPidFile={lay.root / "slurmctld.pid"}
SlurmdPidFile={lay.root / "slurmd.pid"}
SlurmctldLogFile={lay.log / "slurmctld.log"}
SlurmdLogFile={lay.log / "slurmd.log"}
PlugStackConfig={lay.root / "plugstack.conf"}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort={lay.dbd_port}
AccountingStoragePass={lay.munge_socket}
AccountingStorageEnforce=associations
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
KillWait={KILL_WAIT_S}
NodeName={node} NodeAddr=127.0.0.1 CPUs={NODE_CPUS} RealMemory={real_memory_mb()} State=UNKNOWN
PartitionName={PARTITION} Nodes={node} Default=YES MaxTime=INFINITE State=UP
"""


def slurmdbd_conf(lay: Layout, password: str) -> str:
    """slurmdbd.conf: the accounting daemon on 127.0.0.1, its tables in our MariaDB."""
    return f"""\
AuthType=auth/munge
AuthInfo=socket={lay.munge_socket}
DbdHost={node_name()}
DbdAddr=127.0.0.1
DbdPort={lay.dbd_port}
SlurmUser=root
PidFile={lay.root / "slurmdbd.pid"}
LogFile={lay.log / "slurmdbd.log"}
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort={lay.db_port}
StorageUser=slurm
StoragePass={password}
StorageLoc={ACCOUNTING_DB}
"""


def daemon_commands(lay: Layout) -> dict[str, list[str]]:
    """Every daemon in the foreground, so that its pid is our child's."""
    munge = lay.munge
    return {
        "munged": [
            str(SBIN / "munged"), "--foreground", f"--socket={lay.munge_socket}",
            f"--key-file={munge / 'munge.key'}", f"--pid-file={munge / 'munged.pid'}",
            f"--seed-file={munge / 'munged.seed'}", f"--log-file={lay.log / 'munged.log'}",
        ],
        "mariadbd": [
            str(SBIN / "mariadbd"), "--no-defaults", f"--datadir={lay.db}", "--user=root",
            "--bind-address=127.0.0.1", f"--port={lay.db_port}", f"--socket={lay.db_socket}",
            "--skip-name-resolve", "--skip-log-bin", "--innodb-buffer-pool-size=32M",
            f"--pid-file={lay.root / 'mariadbd.pid'}", f"--log-error={lay.log / 'mariadbd.log'}",
        ],
        "slurmdbd": [str(SBIN / "slurmdbd"), "-D"],
        "slurmctld": [str(SBIN / "slurmctld"), "-D", "-i"],  # -i: no saved state to recover
        "slurmd": [str(SBIN / "slurmd"), "-D"],
    }  # fmt: skip


def write_files(lay: Layout) -> None:
    """Folders, configs and secrets: the munge key and slurmdbd.conf readable by root only.

    munged refuses a socket folder without execute permission for all, and a key readable by
    anyone but its owner; slurmdbd refuses a config readable by others.
    """
    for folder in (lay.state, lay.spool, lay.log, lay.sockets, lay.db):
        folder.mkdir(mode=0o755)
    lay.munge.mkdir(mode=0o700)
    key = lay.munge / "munge.key"
    key.touch(mode=0o400)
    key.write_bytes(secrets.token_bytes(1024))
    (lay.root / "plugstack.conf").write_text("")  # not the machine's /etc/slurm/plugstack.conf
    lay.conf.write_text(slurm_conf(lay))
    dbd = lay.root / "slurmdbd.conf"
    dbd.touch(mode=0o600)
    dbd.write_text(slurmdbd_conf(lay, secrets.token_urlsafe(16)))


@dataclass
class Cluster:
    """A running cluster: its layout, the daemons' processes, and how clients reach it."""

    lay: Layout
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        """What a client (sbatch, sinfo, a sweep) needs in its environment to reach us."""
        return {"SLURM_CONF": str(self.lay.conf)}

    def client(self, *cmd: str, timeout: float = 30) -> subprocess.CompletedProcess:
        """Run a SLURM client command (`sinfo`, `scancel`, ...) against this cluster."""
        env = {**os.environ, **self.env}
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)

    def log(self, name: str) -> str:
        """A daemon's log (`slurmctld`, `slurmd`, `slurmdbd`, ...), for error messages."""
        path = self.lay.log / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def sacct(self, job_id: str, fields: str = "State") -> dict[str, list[str]]:
        """`<array job>_<task>` -> the accounting `fields` (comma-separated) of each task."""
        done = self.client("sacct", "-j", job_id, "-X", "-n", "-P", "-o", f"JobID,{fields}")
        assert done.returncode == 0, done.stderr
        rows = [line.split("|") for line in done.stdout.splitlines() if line]
        return {job: values for job, *values in rows}

    def start(self, name: str, cmd: list[str] | None = None) -> None:
        """Start one daemon in its own session; its stdout/stderr go to `log/<name>.out`."""
        with (self.lay.log / f"{name}.out").open("wb") as out:
            self.procs[name] = subprocess.Popen(
                cmd or daemon_commands(self.lay)[name],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
                start_new_session=True,
            )

    def wait_for(self, what: str, ready: Callable[[], bool], timeout: float = 60) -> None:
        """Poll `ready()` until true; fail naming `what` if a daemon exits or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = {n: p.returncode for n, p in self.procs.items() if p.poll() is not None}
            if dead:
                logs = "\n".join(f"--- {n} ---\n{self.log(n)[-2000:]}" for n in dead)
                raise RuntimeError(f"{dead} exited while waiting for {what}\n{logs}")
            if ready():
                return
            time.sleep(0.2)
        raise RuntimeError(f"no {what} after {timeout} s")

    def node_idle(self) -> bool:
        """Whether sinfo shows our node idle."""
        done = self.client("sinfo", "--noheader", "--nodes", node_name(), "--format", "%T")
        return done.returncode == 0 and done.stdout.strip() == "idle"


def sql(lay: Layout, statement: str) -> subprocess.CompletedProcess:
    """One statement to our MariaDB as its root, over its unix socket."""
    cmd = ["mariadb", "--no-defaults", f"--socket={lay.db_socket}", "-u", "root", "-e", statement]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


def start_accounting(cluster: Cluster) -> None:
    """MariaDB with a database and user for slurmdbd, then slurmdbd on 127.0.0.1."""
    lay = cluster.lay
    install = subprocess.run(
        ["mariadb-install-db", "--no-defaults", f"--datadir={lay.db}", "--user=root",
         "--auth-root-authentication-method=socket", "--skip-test-db"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-2000:]
    cluster.start("mariadbd")
    cluster.wait_for("MariaDB", lambda: sql(lay, "SELECT 1").returncode == 0)
    conf = (lay.root / "slurmdbd.conf").read_text()
    password = conf.split("StoragePass=", 1)[1].split()[0]
    grant = sql(
        lay,
        f"CREATE DATABASE {ACCOUNTING_DB}; "
        f"CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY '{password}'; "
        f"GRANT ALL ON {ACCOUNTING_DB}.* TO 'slurm'@'127.0.0.1';",
    )
    assert grant.returncode == 0, grant.stderr
    cluster.start("slurmdbd")
    cluster.wait_for("slurmdbd", lambda: port_open(lay.dbd_port))


def add_account(cluster: Cluster) -> None:
    """The account ACCOUNT in the accounting database, with root as a user who may charge it."""
    for entity in (("account", ACCOUNT), ("user", "root", f"account={ACCOUNT}")):
        done = cluster.client("sacctmgr", "--immediate", "add", *entity)
        assert done.returncode == 0, done.stdout + done.stderr


def processes_of(cluster: Cluster) -> list[int]:
    """Live processes started for this cluster (slurmstepd, jobs): SLURM_CONF names our file."""
    mark = f"SLURM_CONF={cluster.lay.conf}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and int(proc.name) != os.getpid():
            with contextlib.suppress(OSError):
                if mark in (proc / "environ").read_bytes().split(b"\0"):
                    found.append(int(proc.name))
    return [pid for pid in found if pid_alive(pid)]


def stop_process(proc: subprocess.Popen, grace: float = 20) -> None:
    """SIGTERM one daemon, SIGKILL it after `grace` s, and reap it."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def stop(cluster: Cluster) -> None:
    """Cancel every job and wait for them, stop the daemons by pid, kill any leftover."""
    ctld = cluster.procs.get("slurmctld")
    if ctld is not None and ctld.poll() is None:
        cluster.client("scancel", "--full", "--user", "root")
        deadline = time.monotonic() + KILL_WAIT_S + 10
        while time.monotonic() < deadline:
            queue = cluster.client("squeue", "--noheader", "--format", "%i")
            if queue.returncode != 0 or not queue.stdout.strip():
                break
            time.sleep(0.5)
    for name in reversed(DAEMONS):
        if name in cluster.procs:
            stop_process(cluster.procs[name])
    for pid in processes_of(cluster):  # a slurmstepd or job that outlived its daemons
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def slurm_cluster(folder: Path) -> Iterator[Cluster]:
    """A one-node cluster with accounting in `folder` (empty), up until the block ends."""
    cluster = Cluster(Layout(folder, *free_ports(4)))
    write_files(cluster.lay)
    try:
        cluster.start("munged")
        cluster.wait_for("munge socket", cluster.lay.munge_socket.exists)
        start_accounting(cluster)
        cluster.start("slurmctld")
        cluster.start("slurmd")
        cluster.wait_for("an idle node in sinfo", cluster.node_idle)
        add_account(cluster)
        yield cluster
    finally:
        stop(cluster)
