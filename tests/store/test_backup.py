"""`scratchnet-store backup` while a real sweep is writing: a sound copy of one instant.

Two ways to know "the source at the backup's instant": with the writers running, the counts
the backup reports are read in the very read transaction it copies, and must match the copy
and lie between the source's counts just before and just after; with the sweep's process
paused (SIGSTOP) around the backup, the source cannot change, so the copy must equal it.
"""

import contextlib
import re
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from store_support import (
    TINY,
    counts,
    locations,
    ok,
    stop_group,
    store_cli,
    uri_of,
)

from harness import BIN
from scratchnet.tracking.relocation import is_inside, local_path
from scratchnet.tracking.sqlite_store import quick_check

pytestmark = pytest.mark.slow
JOBS = 16  # small jobs: the sweep is still writing when the backup copies
REPORTED = re.compile(r"(\d+) runs, (\d+) metric rows, (\d+) artifact files; integrity ok")


@contextlib.contextmanager
def running_sweep(
    folder: Path, cwd: Path, jobs: int = JOBS, epochs: int = 2
) -> Iterator[subprocess.Popen]:
    """A `scratchnet-train -m` sweep of `jobs` runs of `epochs` each (basic launcher: one
    process), started in the background."""
    seeds = f"seed=range({jobs})"
    tiny = [o for o in TINY if not o.startswith("trainer.epochs=")]
    args = ("-m", f"tracking.uri={uri_of(folder)}", *tiny, f"trainer.epochs={epochs}", seeds)
    args = (*args, "tracking.experiment=live")
    with (cwd / "sweep.log").open("w") as log:
        proc = subprocess.Popen(
            [str(BIN / "scratchnet-train"), *args],
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield proc
        finally:
            stop_group(proc)


def tail(cwd: Path) -> str:
    """The end of the sweep's log, for a failing assertion's message."""
    return (cwd / "sweep.log").read_text()[-3000:]


def finished_runs(db: Path) -> int:
    if not db.is_file():
        return 0
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as con:
        try:
            return con.execute("SELECT count(*) FROM runs WHERE status = 'FINISHED'").fetchone()[0]
        except sqlite3.OperationalError:  # the schema is still being made
            return 0


def wait_for_finished_runs(db: Path, proc: subprocess.Popen, at_least: int = 2) -> None:
    deadline = time.monotonic() + 300
    while finished_runs(db) < at_least:
        assert proc.poll() is None, tail(db.parent.parent.parent)
        assert time.monotonic() < deadline, "the sweep finished no run in 300 s"
        time.sleep(0.2)


def metric_rows(db: Path) -> set[tuple]:
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as con:
        return set(con.execute("SELECT run_uuid, key, step, value FROM metrics"))


def assert_sound_copy_of_its_own(dest: Path) -> None:
    assert quick_check(dest / "mlflow.db") == []
    assert all(is_inside(local_path(loc), dest) for loc in locations(dest).values())


def test_backup_while_a_sweep_writes_is_the_instant_it_counted(tmp_path):
    src, dest = tmp_path / "live" / "mlruns", tmp_path / "backup"
    # 8 jobs of 3,000 epochs (seconds each; a run writes whole seconds of epochs per call):
    # the sweep outlasts the backup, even when a loaded machine makes its command slow to start.
    with running_sweep(src, tmp_path, jobs=8, epochs=3000) as proc:
        wait_for_finished_runs(src / "mlflow.db", proc, at_least=1)
        before = counts(src / "mlflow.db")
        done = ok(store_cli("backup", str(dest), "--store", str(src), cwd=tmp_path))
        after = counts(src / "mlflow.db")
        assert proc.wait(timeout=600) == 0, tail(tmp_path)
    final = counts(src / "mlflow.db")
    runs, rows, _ = map(int, REPORTED.search(done.stdout).groups())
    assert counts(dest / "mlflow.db") == (runs, rows)  # the copy holds what was counted
    assert before[0] <= runs <= after[0] and before[1] <= rows <= after[1]
    assert runs <= final[0] and rows < final[1]  # counted while the sweep was still writing
    assert finished_runs(src / "mlflow.db") == 8 + 1  # and the sweep lost nothing: all FINISHED
    assert metric_rows(dest / "mlflow.db") <= metric_rows(src / "mlflow.db")  # no torn rows
    assert_sound_copy_of_its_own(dest)


def test_backup_with_the_sweep_paused_holds_exactly_what_the_source_holds(tmp_path):
    src, dest = tmp_path / "live" / "mlruns", tmp_path / "backup"
    with running_sweep(src, tmp_path, jobs=6) as proc:
        wait_for_finished_runs(src / "mlflow.db", proc)
        proc.send_signal(signal.SIGSTOP)  # no writer until SIGCONT
        try:
            source = counts(src / "mlflow.db")
            done = ok(store_cli("backup", str(dest), "--store", str(src), cwd=tmp_path))
            assert counts(src / "mlflow.db") == source  # paused indeed
            source_rows = metric_rows(src / "mlflow.db")
        finally:
            proc.send_signal(signal.SIGCONT)
        assert proc.wait(timeout=600) == 0, tail(tmp_path)
    runs, rows, files = map(int, REPORTED.search(done.stdout).groups())
    assert (runs, rows) == source == counts(dest / "mlflow.db")
    assert metric_rows(dest / "mlflow.db") == source_rows
    assert files >= 3 * 2  # config, curves and model of each finished run at least
    assert_sound_copy_of_its_own(dest)
    assert finished_runs(src / "mlflow.db") == 6 + 1
