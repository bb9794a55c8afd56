"""Runs killed outright (SIGKILL, the OOM killer, a crash inside the interpreter) cannot close
themselves; every run records its owner, and the next invocation that opens the store (a run,
a sweep, a report) ends those whose owner is provably dead FAILED, saying why. Runs of live
processes, and runs whose owner cannot be judged, are left alone."""

import os
import signal
from pathlib import Path

import pytest
from faults_support import (
    epochs_logged,
    running_children,
    started,
    stderr_of,
    train,
    wait_for,
)
from mlflow.tracking import MlflowClient

from harness import all_runs, new_store, run_cli
from scratchnet.core.liveness import (
    ALIVE,
    DEAD,
    STALE_SECONDS,
    UNKNOWN,
    Owner,
    current_owner,
    owner_state,
    parse_owner,
)
from scratchnet.tracking.names import VERDICT_TAG

ENDLESS = ("trainer.epochs=100000", "data.train_size=200", "tracking.flush_seconds=0")
NOW_MS = 1_800_000_000_000


def test_this_process_is_alive_and_its_owner_line_reads_back() -> None:
    me = current_owner()
    assert parse_owner(me.encode()) == me
    assert owner_state(me, None, NOW_MS) == ALIVE


def test_a_reused_pid_is_dead() -> None:
    me = current_owner()
    earlier = Owner(me.host, me.pid, str(int(me.start) - 1), me.machine)
    assert owner_state(earlier, None, NOW_MS) == DEAD


def test_an_owner_elsewhere_is_dead_only_once_its_heartbeat_is_stale() -> None:
    there = Owner("node7", 4242, "99", "another-boot/ns")
    fresh, stale = NOW_MS - 10_000, NOW_MS - int(STALE_SECONDS * 1000) - 1
    assert owner_state(there, fresh, NOW_MS) == ALIVE
    assert owner_state(there, stale, NOW_MS) == DEAD
    assert owner_state(there, None, NOW_MS) == UNKNOWN


def test_no_owner_recorded_is_never_judged_dead() -> None:
    assert owner_state(parse_owner(None), None, NOW_MS) == UNKNOWN
    assert owner_state(parse_owner("not an owner"), 0, NOW_MS) == UNKNOWN


@pytest.mark.slow
def test_a_sigkilled_run_is_ended_failed_by_the_next_run(tmp_path: Path) -> None:
    store_uri = new_store(tmp_path / "store")
    client = MlflowClient(tracking_uri=store_uri)
    with started(store_uri, *ENDLESS, cwd=tmp_path) as proc:
        (victim,) = wait_for(
            "a run with 3 epochs logged",
            lambda: [r for r in all_runs(client) if epochs_logged(client, r) >= 3],
        )
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=60) == -signal.SIGKILL
    kept = epochs_logged(client, victim)
    assert client.get_run(victim.info.run_id).info.status == "RUNNING"  # nobody closed it

    done = train(store_uri, "trainer.epochs=2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "marked 1 runs FAILED whose process is gone" in done.stdout + done.stderr
    dead = client.get_run(victim.info.run_id)
    assert dead.info.status == "FAILED"
    assert f"its process (pid {proc.pid} on host" in dead.data.tags["scratchnet.failure"]
    assert epochs_logged(client, dead) == kept
    assert sorted(r.info.status for r in all_runs(client)) == ["FAILED", "FINISHED"]


@pytest.mark.slow
def test_a_report_during_a_sweep_reads_whole_epochs_ends_a_crashed_run_and_spares_live_ones(
    tmp_path: Path,
) -> None:
    """A SIGSEGV inside the interpreter (issue 18, case 11) leaves its run like a SIGKILL; the
    report reaps it, and reports the live sweep's runs as live, none diverged, none written."""
    store_uri = new_store(tmp_path / "store")
    client = MlflowClient(tracking_uri=store_uri)
    folders = [tmp_path / "crash", tmp_path / "live"]
    for folder in folders:
        folder.mkdir()
    live_sweep = ("tracking.experiment=live", "seed=0,1")
    with (
        started(store_uri, *ENDLESS, "tracking.experiment=crash", cwd=folders[0]) as crash,
        started(store_uri, *ENDLESS, *live_sweep, cwd=folders[1], multirun=True) as live,
    ):
        wait_for("a live child", lambda: running_children(client, 1, 5))
        wait_for("the crash run", lambda: len(all_runs(client)) == 3)
        os.kill(crash.pid, signal.SIGSEGV)
        assert crash.wait(timeout=60) == -signal.SIGSEGV
        out = tmp_path / "report"
        done = run_cli(
            "scratchnet-report",
            "--tracking-uri",
            store_uri,
            "--experiment",
            "live",
            "--out",
            str(out),
            cwd=tmp_path,
        )
        runs = all_runs(client)
        assert live.poll() is None, stderr_of(folders[1])[-2000:]
    assert done.returncode == 0, done.stderr[-2000:]
    assert "marked 1 runs FAILED whose process is gone" in done.stderr
    statuses = sorted(
        (client.get_experiment(r.info.experiment_id).name, r.info.status) for r in runs
    )
    assert statuses == [("crash", "FAILED"), ("live", "RUNNING"), ("live", "RUNNING")]
    report = (out / "report.md").read_text()
    assert "1 runs are live (RUNNING, still training)" in report
    assert "not finite" not in report and "diverged" not in done.stderr
    assert all(VERDICT_TAG not in r.data.tags for r in runs)
