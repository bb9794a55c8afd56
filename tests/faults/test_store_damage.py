"""Stores that cannot be written or are damaged: a read-only store (an archive, a read-only
mount) in WAL mode can be reported on; training into it is one line. A store with bytes
overwritten mid-file is never written to: training and reports refuse it in one line saying
how to recover, and never exit 0."""

import contextlib
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from faults_support import (
    PROG,
    error_line,
    train,
)
from mlflow.tracking import MlflowClient

from harness import new_store, run_cli
from scratchnet.tracking.names import EPOCH_METRICS
from scratchnet.tracking.synthetic import FakeRun, curve, log_sweep

pytestmark = pytest.mark.slow
REPORT = "scratchnet-report"


def small_sweep_store(tmp_path: Path) -> Path:
    """A store with one finished two-run sweep (experiment `e`), in WAL mode."""
    uri = new_store(tmp_path / "store")
    client = MlflowClient(tracking_uri=uri)
    exp = client.create_experiment("e")
    params = {"trainer.lr": "0.1", "model.hidden_size": "10", "seed": "0"}
    runs = [FakeRun(f"run {i}", {**params, "seed": str(i)}, curve(30)) for i in range(2)]
    log_sweep(client, exp, runs)
    db = Path(uri.removeprefix("sqlite:///"))
    with contextlib.closing(sqlite3.connect(db)) as con:
        assert con.execute("PRAGMA journal_mode=WAL").fetchone() == ("wal",)
    return db


@contextlib.contextmanager
def read_only_mount(folder: Path, at: Path) -> Iterator[Path]:
    """`folder` bind-mounted read-only at `at` (root only); skips the test where not allowed."""
    at.mkdir()
    steps = [["mount", "--bind", str(folder), str(at)], ["mount", "-o", "remount,bind,ro", str(at)]]
    for step in steps:
        if subprocess.run(step, capture_output=True).returncode != 0:
            subprocess.run(["umount", str(at)], capture_output=True)
            pytest.skip("a read-only bind mount needs root with CAP_SYS_ADMIN")
    try:
        yield at
    finally:
        subprocess.run(["umount", str(at)], check=True)


def report(db: Path, out: Path, *flags: str) -> subprocess.CompletedProcess:
    args = ["--tracking-uri", f"sqlite:///{db}", "--experiment", "e", "--out", str(out)]
    return run_cli(REPORT, *args, *flags, cwd=out.parent)


def test_a_read_only_store_in_wal_mode_is_reported_on_and_not_trained_into(
    tmp_path: Path,
) -> None:
    db = small_sweep_store(tmp_path)
    before = db.read_bytes()
    with read_only_mount(db.parent, tmp_path / "archive") as archive:
        for flags in (["--no-write"], []):
            done = report(archive / db.name, tmp_path / "out", *flags)
            assert done.returncode == 0, done.stderr[-2000:]
            assert "2 runs: 2 FINISHED" in (tmp_path / "out" / "report.md").read_text()
        assert "the tracking store is read-only: nothing is written back" in done.stderr
        line = error_line(train(f"sqlite:///{archive / db.name}", "trainer.epochs=1", cwd=tmp_path))
        assert "not writable" in line
    assert db.read_bytes() == before


def damage(db: Path) -> None:
    """Overwrite the middle page of the file with garbage (a disk or a copy gone wrong)."""
    pages = db.stat().st_size // 4096
    with db.open("r+b") as f:
        f.seek(pages // 2 * 4096)
        f.write(b"\xa5" * 4096)


def test_a_damaged_store_is_refused_in_one_line_by_training_and_reports(tmp_path: Path) -> None:
    db = small_sweep_store(tmp_path)
    with contextlib.closing(sqlite3.connect(db)) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    damage(db)
    damaged = db.read_bytes()
    trained = train(f"sqlite:///{db}", "trainer.epochs=1", cwd=tmp_path)
    line = trained.stderr.strip().splitlines()
    assert trained.returncode != 0 and len(line) == 1, trained.stderr[-2000:]
    assert line[0].startswith(f"{PROG}: error: ") and "is damaged (PRAGMA quick_check" in line[0]
    assert "nothing was written" in line[0] and "backup" in line[0]
    reported = report(db, tmp_path / "out")
    assert reported.returncode != 0
    assert "is damaged (PRAGMA quick_check" in reported.stderr.strip().splitlines()[-1]
    assert db.read_bytes() == damaged


@contextlib.contextmanager
def tiny_disk(at: Path, size_kb: int) -> Iterator[Path]:
    """A tmpfs of `size_kb` at `at` (root only); skips the test where not allowed."""
    at.mkdir()
    mounted = ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(at)]
    if subprocess.run(mounted, capture_output=True).returncode != 0:
        pytest.skip("a tmpfs mount needs root with CAP_SYS_ADMIN")
    try:
        yield at
    finally:
        subprocess.run(["umount", str(at)], check=True)


CHEAP = ("data.train_size=50", "trainer.batch_size=50", "model.hidden_size=5")
NO_SPACE = "no space left on the tracking store's device"


def full_disk_line(done: subprocess.CompletedProcess, uri: str) -> str:
    """The one line a full disk is told in: the last on stderr, exit 1 (not a usage error)."""
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and lines, done.stderr[-3000:]
    assert "Traceback" not in done.stderr and "database or disk is full" not in done.stderr
    assert [line for line in lines if "no space left" in line] == lines[-1:]
    assert lines[-1] == (
        f"{PROG}: error: the tracking store {uri} has no space left on its device: free some, "
        "then run the same command again (a sweep resumes where it stopped)"
    )
    return lines[-1]


def read_store(db: Path, *queries: str) -> list[list[tuple]]:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
        return [con.execute(query).fetchall() for query in queries]


EPOCH_KEYS = ", ".join(f"'{key}'" for key in EPOCH_METRICS)
STEP_SIZES = (  # how many of the epoch metrics each (run, step) has
    f"SELECT DISTINCT COUNT(*) FROM metrics WHERE key IN ({EPOCH_KEYS}) GROUP BY run_uuid, step"
)


def test_a_full_disk_is_one_line_whole_epochs_and_the_run_failed_saying_why(
    tmp_path: Path,
) -> None:
    template = Path(new_store(tmp_path / "store").removeprefix("sqlite:///"))
    with tiny_disk(tmp_path / "disk", template.stat().st_size // 1024 + 600) as disk:
        (disk / "mlflow.db").write_bytes(template.read_bytes())
        uri = f"sqlite:///{disk / 'mlflow.db'}"
        full_disk_line(train(uri, "trainer.epochs=100000", *CHEAP, cwd=tmp_path), uri)
        statuses, per_epoch, why = read_store(
            disk / "mlflow.db",
            "SELECT status FROM runs",
            STEP_SIZES,
            "SELECT value FROM tags WHERE key = 'scratchnet.failure'",
        )
    assert statuses == [("FAILED",)]
    assert len(per_epoch) == 1  # every epoch stored with all of its metrics, or not at all
    assert why == [(NO_SPACE,)]


def test_a_sweep_that_fills_the_disk_fails_in_one_line_and_resumes_once_there_is_room(
    tmp_path: Path,
) -> None:
    template = Path(new_store(tmp_path / "store").removeprefix("sqlite:///"))
    size_kb = template.stat().st_size // 1024 + 600  # room for ~170 epochs
    sweep = ("trainer.epochs=2000", *CHEAP, "seed=0,1")
    with tiny_disk(tmp_path / "disk", size_kb) as disk:
        db = disk / "mlflow.db"
        db.write_bytes(template.read_bytes())
        uri = f"sqlite:///{db}"
        full = train(uri, *sweep, cwd=tmp_path, multirun=True)
        full_disk_line(full, uri)
        (runs,) = read_store(db, "SELECT run_uuid, name, status FROM runs")
        tags = dict(
            read_store(db, "SELECT run_uuid, value FROM tags WHERE key = 'scratchnet.failure'")[0]
        )
        # A run ends FAILED saying why, or, where its end could not be written, stays RUNNING
        # for the next command, as the launcher says in one line each (its reason, written
        # first, may have fit where its status did not).
        for run_id, name, status in runs:
            why = tags.get(run_id, "")
            ended = status == "FAILED" and NO_SPACE in why
            left_for_next = status == "RUNNING" and (why == "" or NO_SPACE in why)
            assert ended or left_for_next, (name, status, why)
        left = [name for _, name, status in runs if status == "RUNNING"]
        print(f"\nthe disk full: {len(runs)} runs, left RUNNING for the next command: {left}")
        for name in left:
            said = f"could not end {'sweep parent run' if name.startswith('sweep') else 'run'}"
            assert (
                said in full.stdout
                and "the next command on this store ends it FAILED" in full.stdout
            )

        subprocess.run(["mount", "-o", f"remount,size={size_kb + 65536}k", str(disk)], check=True)
        again = train(uri, *sweep, cwd=tmp_path, multirun=True)
        assert again.returncode == 0, again.stderr[-3000:]
        if left:  # ended FAILED by the next command, which says so
            assert f"marked {len(left)} runs FAILED whose process is gone" in again.stdout
        runs, tags, epochs, per_epoch, leases = read_store(  # not MLflow's: it keeps files open
            db,
            "SELECT name, status, run_uuid FROM runs ORDER BY start_time",
            "SELECT run_uuid, key, value FROM tags WHERE key = 'scratchnet.failure'",
            "SELECT run_uuid, COUNT(*) FROM metrics WHERE key = 'test_acc' GROUP BY run_uuid",
            STEP_SIZES,
            "SELECT key FROM experiment_tags WHERE key LIKE 'scratchnet.lease.%'",
        )
    why = {run_id: value for run_id, _, value in tags}
    (parent,) = [r for r in runs if r[0].startswith("sweep")]
    assert parent[1] == "FINISHED" and parent[2] not in why  # resumed: its failure dropped
    assert leases == []
    children = [r for r in runs if r is not parent]
    finished = [r for r in children if r[1] == "FINISHED"]
    assert sorted(name[-6:] for name, _, _ in finished) == ["seed=0", "seed=1"]
    assert all(dict(epochs)[run_id] == 2001 for _, _, run_id in finished)
    for _, status, run_id in [r for r in children if r[1] != "FINISHED"]:
        assert status == "FAILED", runs  # said why: when the disk filled, or found dead later
        assert NO_SPACE in why[run_id] or why[run_id].startswith("its process (pid "), why
    assert per_epoch == [(len(EPOCH_METRICS),)]  # every epoch of every run whole
