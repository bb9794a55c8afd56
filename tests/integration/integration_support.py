"""Real servers for the integration tests: the PostgreSQL + MLflow stack and a bare MLflow UI.

Every process started here is stopped by the context managers that start it, also when the
test fails. (A helper module, not a conftest.py: a second conftest would shadow
`from conftest import ...` in the other tests.)
"""

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mlflow.entities import Run
from mlflow.tracking import MlflowClient

from harness import REPO, all_runs, run_cli
from scratchnet.tracking.names import PARENT_TAG, SWEEP_PARENT_TAG

SERVER_SCRIPT = REPO / "scripts" / "server.py"
TINY = ("trainer.epochs=3", "data.train_size=200", "trainer.progress=false")
ARTIFACTS = ("config.yaml", "model")  # learning_curves.png only with tracking.log_figure


def postgres_missing() -> str | None:
    """Why the PostgreSQL stack cannot run here, or None when it can."""
    if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")) and not shutil.which("initdb"):
        return "PostgreSQL is not installed (apt-get install postgresql)"
    if os.geteuid() == 0 and not shutil.which("runuser"):
        return "running as root needs runuser to start PostgreSQL as the postgres user"
    if importlib.util.find_spec("psycopg") is None:
        return "psycopg is not installed (pip install -e '.[server]')"
    return None


def load_server_script():
    """`scripts/server.py` as a module: its process and port probes serve the tests too."""
    spec = importlib.util.spec_from_file_location("scratchnet_server_script", SERVER_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_server = load_server_script()
free_port = _server.free_port
pid_alive = _server.pid_alive


def port_open(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:port."""
    return _server.port_open("127.0.0.1", port)


def group_alive(pgid: int) -> bool:
    """Whether any live (non-zombie) process of the process group `pgid` is left."""
    return bool(_server.group_members(pgid))


def processes_mentioning(text: str) -> list[int]:
    """Live processes whose command line contains `text`."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline and pid_alive(int(proc.name)):
            found.append(int(proc.name))
    return found


@contextlib.contextmanager
def shared_tmp_dir(prefix: str) -> Iterator[Path]:
    """A fresh folder that the `postgres` user can reach too (pytest's tmp is mode 700)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def server_script(folder: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    """Run `scripts/server.py --dir folder ...`."""
    return subprocess.run(
        [sys.executable, str(SERVER_SCRIPT), "--dir", str(folder), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@dataclass
class Stack:
    """A running PostgreSQL + MLflow server pair, as `server.py status --json` reports it."""

    folder: Path
    uri: str
    port: int
    pg_port: int
    mlflow_pid: int
    postgres_pid: int

    def stop(self) -> subprocess.CompletedProcess:
        return server_script(self.folder, "stop")


@contextlib.contextmanager
def server_stack(folder: Path) -> Iterator[Stack]:
    """`server.py start` on free loopback ports; `server.py stop` on the way out, always."""
    port, pg_port = free_port(), free_port()
    try:
        started = server_script(
            folder, "start", "--port", str(port), "--pg-port", str(pg_port), "--workers", "1"
        )
        assert started.returncode == 0, started.stderr[-3000:]
        status = json.loads(server_script(folder, "status", "--json").stdout)
        yield Stack(
            folder, status["uri"], port, pg_port, status["mlflow_pid"], status["postgres_pid"]
        )
    finally:
        server_script(folder, "stop")


def restart_mlflow(stack: Stack, down_seconds: float) -> None:
    """Kill the stack's MLflow server outright (its whole process group, as a crash or the
    OOM killer would), keep it down `down_seconds`, then start it again on the same port and
    PostgreSQL, and wait until it answers."""
    layout = _server.Layout(stack.folder)
    state = _server.load_state(layout)
    os.killpg(stack.mlflow_pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while group_alive(stack.mlflow_pid) or port_open(stack.port):
        _server.reap(stack.mlflow_pid)
        assert time.monotonic() < deadline, "the killed server still holds its port"
        time.sleep(0.05)
    time.sleep(down_seconds)
    state.mlflow_pid = stack.mlflow_pid = _server.start_mlflow(layout, state, 1, [])
    _server.save_state(layout, state)  # so that `server.py stop` stops the new one
    _server.wait_healthy(state, 180)


@contextlib.contextmanager
def postgres_stack() -> Iterator[Stack]:
    """A stack (`server_stack`) in a fresh folder the `postgres` user can reach; skips the
    test where PostgreSQL cannot run (`postgres_missing`)."""
    import pytest

    reason = postgres_missing()
    if reason:
        pytest.skip(reason)
    with shared_tmp_dir("scratchnet-stack-") as folder, server_stack(folder) as running:
        yield running


@contextlib.contextmanager
def postgres_db(folder: Path) -> Iterator[str]:
    """PostgreSQL alone (scripts/server.py's cluster, no MLflow server) on a free port; yields
    its SQLAlchemy URI over the cluster's unix socket (trust), stopped on the way out."""
    layout = _server.Layout(folder)
    port = free_port()
    _server.init_cluster(layout)
    try:
        _server.start_postgres(layout, port)
        yield (
            f"postgresql+psycopg://{_server.DB_USER}@/{_server.DB_NAME}"
            f"?host={layout.socket}&port={port}"
        )
    finally:
        _server.stop_postgres(layout)


def count_metric_rows(stack: Stack, run_ids: list[str]) -> int:
    """Rows of MLflow's `metrics` table for these runs, read from PostgreSQL itself."""
    import psycopg  # the `server` extra; the stack fixture skips without it

    password = (stack.folder / "pg" / "password").read_text().strip()
    dsn = f"host=127.0.0.1 port={stack.pg_port} dbname=mlflow user=mlflow password={password}"
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT count(*) FROM metrics WHERE run_uuid = ANY(%s)", (run_ids,)
        ).fetchone()
    assert row is not None
    return row[0]


@dataclass
class Server:
    """A `mlflow server` process started by `mlflow_ui`."""

    url: str
    proc: subprocess.Popen

    def wait(self) -> None:
        """Block until it answers `/health`."""
        wait_healthy(self.url, self.proc)


@contextlib.contextmanager
def mlflow_ui(store_uri: str, artifacts: Path, port: int | None = None) -> Iterator[Server]:
    """`mlflow server` on a SQLite store at `port` (default: a free loopback port), not waited
    for: `.wait()`."""
    port = port or free_port()
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    cmd = [
        sys.executable, "-m", "mlflow", "server",
        "--backend-store-uri", store_uri,
        "--artifacts-destination", str(artifacts),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    try:
        yield Server(f"http://127.0.0.1:{port}", proc)
    finally:
        stop_group(proc)


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 180) -> None:
    """Poll `url/health` until it answers 200; fail if `proc` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"mlflow server exited with {proc.returncode}"
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    raise AssertionError(f"{url} not healthy after {timeout} s")


def stop_group(proc: subprocess.Popen, grace: float = 20) -> None:
    """SIGTERM the process group `proc` leads, SIGKILL it after `grace` s, reap `proc`."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def sweep(uri: str, cwd: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """A real `scratchnet-train -m` sweep of tiny digits runs logging to `uri`."""
    done = run_cli(
        "scratchnet-train", "-m", f"tracking.uri={uri}", *TINY, *args, cwd=cwd, timeout=timeout
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def parent_and_children(client: MlflowClient) -> tuple[Run, list[Run]]:
    """The store's only sweep parent and the runs that name it as their parent."""
    runs = all_runs(client)
    (parent,) = [r for r in runs if r.data.tags.get(SWEEP_PARENT_TAG) == "true"]
    kids = [r for r in runs if r.data.tags.get(PARENT_TAG) == parent.info.run_id]
    return parent, kids
