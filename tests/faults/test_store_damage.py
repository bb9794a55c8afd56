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
from faults_support import PROG, error_line, ready_store, train
from mlflow.tracking import MlflowClient

from harness import run_cli
from scratchnet.tracking.synthetic import FakeRun, curve, log_sweep

pytestmark = pytest.mark.slow
REPORT = "scratchnet-report"


def small_sweep_store(tmp_path: Path) -> Path:
    """A store with one finished two-run sweep (experiment `e`), in WAL mode."""
    uri = ready_store(tmp_path)
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


def test_a_full_disk_is_one_line_whole_epochs_and_the_run_failed_saying_why(
    tmp_path: Path,
) -> None:
    template = Path(ready_store(tmp_path).removeprefix("sqlite:///"))
    with tiny_disk(tmp_path / "disk", template.stat().st_size // 1024 + 600) as disk:
        (disk / "mlflow.db").write_bytes(template.read_bytes())
        uri = f"sqlite:///{disk / 'mlflow.db'}"
        cheap = ("data.train_size=50", "trainer.batch_size=50", "model.hidden_size=5")
        done = train(uri, "trainer.epochs=100000", *cheap, cwd=tmp_path)
        lines = done.stderr.strip().splitlines()
        assert done.returncode != 0 and len(lines) == 1, done.stderr[-3000:]
        assert f"the tracking store {uri} has no space left on its device" in lines[0]
        with contextlib.closing(
            sqlite3.connect(f"file:{disk / 'mlflow.db'}?mode=ro", uri=True)
        ) as con:
            statuses = con.execute("SELECT status FROM runs").fetchall()
            per_epoch = con.execute(
                "SELECT DISTINCT n FROM (SELECT COUNT(*) AS n FROM metrics GROUP BY run_uuid, step)"
            ).fetchall()
            why = con.execute("SELECT value FROM tags WHERE key = 'scratchnet.failure'").fetchall()
    assert statuses == [("FAILED",)]
    assert len(per_epoch) == 1  # every epoch stored with all of its metrics, or not at all
    assert why == [("no space left on the tracking store's device",)]
