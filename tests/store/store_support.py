"""Helpers for the store tests: real stores, the commands as real processes, what a store holds.

(A helper module, not a conftest.py: a second conftest would shadow `from conftest import ...`
in other tests.)
"""

import contextlib
import functools
import hashlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

from mlflow.entities import ViewType
from mlflow.tracking import MlflowClient

from harness import REPO, run_cli
from scratchnet.tracking.names import CONFIG_HASH_TAG, FINISHED

TINY = ("trainer.epochs=2", "data.train_size=200", "trainer.progress=false")
CHAPTER = "loss_functions"  # the quickest chapter script


def uri_of(folder: Path) -> str:
    return f"sqlite:///{folder / 'mlflow.db'}"


def train(folder: Path, *overrides: str, cwd: Path) -> subprocess.CompletedProcess:
    """`scratchnet-train` of tiny digits runs into the store in `folder`."""
    return run_cli("scratchnet-train", f"tracking.uri={uri_of(folder)}", *TINY, *overrides, cwd=cwd)


def sweep(folder: Path, *overrides: str, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    """`scratchnet-train -m` of tiny digits runs into the store in `folder`."""
    args = ("-m", f"tracking.uri={uri_of(folder)}", *TINY, *overrides)
    return run_cli("scratchnet-train", *args, cwd=cwd, **kwargs)


def chapter(folder: Path, cwd: Path) -> subprocess.CompletedProcess:
    """`experiments/loss_functions.py` into the store in `folder`."""
    script = str(REPO / "experiments" / f"{CHAPTER}.py")
    return run_cli("python", script, f"tracking.uri={uri_of(folder)}", "points=11", cwd=cwd)


def store_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return run_cli("scratchnet-store", *args, cwd=cwd)


def ok(done: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file under `folder` by relative path, with the SHA-256 of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def store_digest(folder: Path) -> dict[str, str]:
    """A store's files by the SHA-256 of their bytes, but its database by the SHA-256 of its
    content (an SQL dump through a read-only connection, WAL included): a reader elsewhere that
    checkpoints the WAL, or removes it as it closes, changes the files' bytes, not the store."""
    db = folder / "mlflow.db"
    sqlite_files = {db.name, f"{db.name}-wal", f"{db.name}-shm"}
    files = {k: v for k, v in tree_digest(folder).items() if k not in sqlite_files}
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
        dump = "\n".join(con.iterdump())
    return files | {f"{db.name} (content)": hashlib.sha256(dump.encode()).hexdigest()}


def locations(folder: Path) -> dict[str, str]:
    """Every experiment's and run's recorded artifact location, read from the database."""
    with contextlib.closing(sqlite3.connect(folder / "mlflow.db")) as con:
        exps = con.execute("SELECT 'experiment ' || name, artifact_location FROM experiments")
        runs = con.execute("SELECT 'run ' || run_uuid, artifact_uri FROM runs")
        return dict(exps.fetchall()) | dict(runs.fetchall())


def counts(db: Path) -> tuple[int, int]:
    """(runs, metric rows) of a database, read in one transaction."""
    with contextlib.closing(sqlite3.connect(db)) as con:
        return (
            con.execute("SELECT count(*) FROM runs").fetchone()[0],
            con.execute("SELECT count(*) FROM metrics").fetchone()[0],
        )


def every_run(client: MlflowClient) -> list:
    ids = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL)]
    return client.search_runs(ids, run_view_type=ViewType.ALL, max_results=10000)


@functools.cache
def migrated_db(base: Path) -> Path:
    """An empty, migrated MLflow database under `base`, made once per process."""
    db = base / "store-migrated" / "mlflow.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    MlflowClient(tracking_uri=f"sqlite:///{db}").search_experiments()
    return db


def empty_store(folder: Path, base: Path) -> str:
    """A new store in `folder` (a copy of a migrated one: no migrations to wait for)."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(migrated_db(base), folder / "mlflow.db")
    return uri_of(folder)


def finished_run(client: MlflowClient, experiment_id: str, files: dict[str, str]) -> str:
    """A FINISHED run that looks like a scratchnet training run, with these text artifacts."""
    run_id = client.create_run(experiment_id, tags={CONFIG_HASH_TAG: "0" * 16}).info.run_id
    for name, text in files.items():
        client.log_text(run_id, text, name)
    client.set_terminated(run_id, FINISHED)
    return run_id


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 240) -> None:
    """Poll `url/health` until it answers; fail if `proc` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"exited with {proc.returncode}"
        with contextlib.suppress(OSError):
            if fetch(f"{url}/health"):
                return
        time.sleep(0.5)
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
