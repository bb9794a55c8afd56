"""Helpers for the fault suite: `scratchnet-train` as a real process, a real store, real signals.

A helper module, not a conftest.py, like tests/harness.py (whose paths and CLI runner it uses).
Every wait polls with a deadline; every process started here is killed, with its process
group, when the test ends.
"""

import contextlib
import math
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

from mlflow.entities import Run
from mlflow.tracking import MlflowClient

from harness import BIN, all_runs, run_cli
from scratchnet.tracking.names import LEASE_TAG_PREFIX, PARENT_TAG, SWEEP_PARENT_TAG

PROG = "scratchnet-train"
EXIT_USAGE, EXIT_INTERRUPTED = 2, 130
QUIET = ("trainer.progress=false", "tracking.log_weights=false", "tracking.log_figure=false")
POLL_S = 0.25
T = TypeVar("T")


def train(
    store_uri: str,
    *overrides: str,
    cwd: Path,
    multirun: bool = False,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """One `scratchnet-train` process (`-m` if `multirun`) on `store_uri`, run to its end."""
    flags = ["-m"] if multirun else []
    store = f"tracking.uri={store_uri}"
    return run_cli(PROG, *flags, store, *QUIET, *overrides, cwd=cwd, env=env, timeout=600)


def error_line(done: subprocess.CompletedProcess) -> str:
    """The single stderr line of a usage error (exit 2), or an AssertionError saying why not."""
    lines = done.stderr.strip().splitlines()
    assert done.returncode == EXIT_USAGE, f"exit {done.returncode}: {done.stderr[-2000:]}"
    assert len(lines) == 1, f"expected one line on stderr, got:\n{done.stderr[-3000:]}"
    assert lines[0].startswith(f"{PROG}: error: "), lines[0]
    return lines[0]


def store_runs(store_uri: str) -> list[Run]:
    """Every run in the store; [] when the store was never created."""
    db = Path(store_uri.removeprefix("sqlite:///"))
    return all_runs(MlflowClient(tracking_uri=store_uri)) if db.is_file() else []


def split(runs: Sequence[Run]) -> tuple[list[Run], list[Run]]:
    """(sweep parents, child runs)."""
    parents = [r for r in runs if r.data.tags.get(SWEEP_PARENT_TAG) == "true"]
    children = [r for r in runs if PARENT_TAG in r.data.tags]
    return parents, children


def leases(client: MlflowClient) -> list[str]:
    """The sweep lease tags of every experiment (`scratchnet.tracking.lease`)."""
    found = client.search_experiments()
    return [key for e in found for key in e.tags if key.startswith(LEASE_TAG_PREFIX)]


def epochs_logged(client: MlflowClient, run: Run) -> int:
    return len(client.get_metric_history(run.info.run_id, "test_acc"))


def metric_rows(db: Path) -> list[tuple[str, float, int]]:
    """(key, value, is_nan) of every metric row, read straight from the SQLite file."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return conn.execute("SELECT key, value, is_nan FROM metrics").fetchall()


def all_finite(rows: Sequence[tuple[str, float, int]]) -> bool:
    return all(not is_nan and math.isfinite(value) for _, value, is_nan in rows)


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 240) -> T:
    """Poll `probe` until it returns something truthy; fail naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):  # the store may not exist yet
            found = probe()
            if found:
                return found
        time.sleep(POLL_S)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@contextlib.contextmanager
def started(
    store_uri: str, *overrides: str, cwd: Path, multirun: bool = False, log_stdout: bool = False
) -> Iterator:
    """A `scratchnet-train` process in its own process group, killed (group and all) at exit;
    its stderr in `cwd/stderr.log` (and its stdout, where Hydra logs, in `cwd/stdout.log`)."""
    args = [str(BIN / PROG), *(["-m"] if multirun else []), f"tracking.uri={store_uri}"]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    env.pop("HYDRA_FULL_ERROR", None)
    with (cwd / "stderr.log").open("w") as err, (cwd / "stdout.log").open("w") as out:
        proc = subprocess.Popen(
            [*args, *QUIET, *overrides],
            cwd=cwd,
            stdout=out if log_stdout else subprocess.DEVNULL,
            stderr=err,
            env=env,
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def stderr_of(cwd: Path) -> str:
    return (cwd / "stderr.log").read_text()


def child_pids(pid: int) -> list[int]:
    """Direct children of `pid`, from /proc (no psutil needed)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found += [int(p) for p in (task / "children").read_text().split()]
    return found


def loky_workers(pid: int) -> list[int]:
    """The joblib/loky worker processes of a sweep's parent (not its resource trackers): forked
    from its fork server, or spawned by loky itself."""
    workers = []
    for child in child_pids(pid):
        with contextlib.suppress(OSError):
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            if b"multiprocessing.forkserver" in cmdline:
                workers += child_pids(child)
            elif b"popen_loky" in cmdline:
                workers.append(child)
    return workers


def running_children(client: MlflowClient, count: int, min_epochs: int) -> list[Run] | None:
    """`count` child runs RUNNING with at least `min_epochs` logged each, else None."""
    _, children = split(all_runs(client))
    running = [r for r in children if r.info.status == "RUNNING"]
    if len(running) >= count and all(epochs_logged(client, r) >= min_epochs for r in running):
        return running
    return None
