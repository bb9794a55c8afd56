"""`scratchnet-store` on real stores: usage errors, `check`'s one line per problem, exit codes."""

import contextlib
import shutil
import socket
import sqlite3
import subprocess
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from store_support import empty_store, finished_run, uri_of

from scratchnet.cli.store import main
from scratchnet.core.liveness import Owner, current_owner, machine_id, start_ticks
from scratchnet.tracking.names import OWNER_TAG
from scratchnet.tracking.reaper import utc
from scratchnet.tracking.store import get_or_create_experiment, resolve_uri


@pytest.fixture
def store(tmp_path, tmp_path_factory) -> tuple[Path, MlflowClient, str]:
    """A clean store with one finished run holding config.yaml: (folder, client, run id)."""
    folder = tmp_path / "mlruns"
    uri = resolve_uri(empty_store(folder, tmp_path_factory.getbasetemp()))
    client = MlflowClient(tracking_uri=uri)
    experiment_id = get_or_create_experiment(client, uri, "study")
    return folder, client, finished_run(client, experiment_id, {"config.yaml": "lr: 0.5\n"})


def exit_code(*argv: str) -> int:
    with pytest.raises(SystemExit) as done:
        main(list(argv))
        raise SystemExit(0)
    return int(done.value.code or 0)


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("scratchnet-store: error: "), err
    return err


def test_a_command_is_required(capsys):
    assert exit_code() == 2
    one_line_error(capsys)


def test_a_missing_store_is_one_line_naming_what_is_allowed(tmp_path, capsys):
    assert exit_code("check", "--store", str(tmp_path / "nowhere")) == 2
    err = one_line_error(capsys)
    assert f"--store='{tmp_path / 'nowhere'}' is not allowed (allowed: a store folder" in err


def test_backup_into_a_folder_that_holds_files_is_refused(store, tmp_path, capsys):
    folder, _, _ = store
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    assert exit_code("backup", str(tmp_path / "full"), "--store", str(folder)) == 2
    assert "is not allowed (allowed: a new or empty folder outside the store)" in (
        one_line_error(capsys)
    )
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"


def test_backup_into_the_store_itself_is_refused(store, capsys):
    folder, _, _ = store
    assert exit_code("backup", str(folder / "backup"), "--store", str(folder)) == 2
    one_line_error(capsys)
    assert not (folder / "backup").exists()


def test_check_of_a_clean_store_exits_0(store, capsys):
    folder, _, _ = store
    assert exit_code("check", "--store", str(folder)) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and f"{folder} is clean" in captured.err


def test_check_reports_each_problem_on_one_line_and_exits_1(store, tmp_path, capsys):
    folder, client, run_id = store
    (
        Path(client.get_run(run_id).info.artifact_uri.removeprefix("file://")) / "config.yaml"
    ).unlink()
    experiment_id = client.get_run(run_id).info.experiment_id
    running = client.create_run(experiment_id, run_name="still going").info.run_id
    assert exit_code("check", "--store", str(folder)) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"missing: run {run_id} (") and "config.yaml not found" in lines[0]
    assert lines[1] == (
        f"running: run {running} ('still going' in 'study'): RUNNING since "
        f"{utc(client.get_run(running).info.start_time)}; no owner recorded, so whether it "
        "still runs is unknown"
    )


def test_check_tells_a_live_run_from_one_whose_process_is_gone(store, capsys):
    folder, client, _ = store
    experiment_id = get_or_create_experiment(client, uri_of(folder), "study")
    with subprocess.Popen(["sleep", "60"]) as gone:
        owner = Owner(socket.gethostname(), gone.pid, start_ticks(gone.pid), machine_id())
        gone.kill()
    dead = client.create_run(experiment_id, run_name="gone", tags={OWNER_TAG: owner.encode()})
    live_owner = {OWNER_TAG: current_owner().encode()}
    live = client.create_run(experiment_id, run_name="live", tags=live_owner)
    assert exit_code("check", "--store", str(folder)) == 1
    lines = sorted(capsys.readouterr().out.splitlines())
    assert len(lines) == 2
    assert lines[0].startswith(f"dead: run {dead.info.run_id} ('gone' in 'study'): RUNNING since")
    assert f"but its process (pid {gone.pid} on host {owner.host}) is gone" in lines[0]
    assert lines[0].endswith("the next run, sweep or report ends it FAILED")
    assert lines[1].startswith(f"running: run {live.info.run_id} ('live' in 'study'): RUNNING")
    assert lines[1].endswith(f"its process ({current_owner().describe()}) is alive")
    assert client.get_run(dead.info.run_id).info.status == "RUNNING"  # check only reads


def test_check_reports_a_copys_locations_outside_it(store, tmp_path, capsys):
    folder, _, run_id = store
    shutil.copytree(folder, tmp_path / "copy")
    assert exit_code("check", "--store", str(tmp_path / "copy")) == 1
    outside = [line for line in capsys.readouterr().out.splitlines()]
    assert len(outside) == 3  # Default, the study, its run
    assert all(line.startswith("outside: ") and str(folder) in line for line in outside)
    assert any(f"run {run_id}" in line for line in outside)


def test_check_reports_integrity_problems_of_a_damaged_file(store, capsys):
    folder, _, _ = store
    db = folder / "mlflow.db"
    with contextlib.closing(sqlite3.connect(db)) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page = con.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'sqlite_autoindex_runs_1'"
        ).fetchone()[0]
        size = con.execute("PRAGMA page_size").fetchone()[0]
    with db.open("r+b") as fh:  # an index page's header overwritten: a damaged page
        fh.seek((page - 1) * size)
        fh.write(b"\x07" * 16)
    assert exit_code("check", "--store", str(folder)) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines and all(line.startswith("integrity: ") for line in lines)
    assert any(f"Page {page}" in line for line in lines)


def test_relocate_says_what_it_moved_and_what_is_missing(store, tmp_path, capsys):
    folder, _, _ = store
    copy = tmp_path / "only-the-db"
    copy.mkdir()
    with contextlib.closing(sqlite3.connect(folder / "mlflow.db")) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # all of it in mlflow.db, none in -wal
    shutil.copyfile(folder / "mlflow.db", copy / "mlflow.db")  # the artifacts not copied along
    assert exit_code("relocate", "--store", str(copy)) == 0
    first, second = capsys.readouterr().out.splitlines()
    old = folder / "artifacts"
    assert (
        first == f"scratchnet-store: relocated 2 experiments and 1 run of {copy} from {old} into it"
    )
    assert second.startswith(f"scratchnet-store: 1 run without artifacts in {copy}: copy them")


def test_a_sqlite_file_that_is_not_an_mlflow_store_is_refused_untouched(tmp_path, capsys):
    db = tmp_path / "mlflow.db"
    with contextlib.closing(sqlite3.connect(db)) as con:
        con.execute("CREATE TABLE notes (text)")
    for command in ("check", "relocate"):
        assert exit_code(command, "--store", str(tmp_path)) == 2
        assert f"{db} is not an MLflow store" in one_line_error(capsys)
    with contextlib.closing(sqlite3.connect(db)) as con:
        tables = con.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    assert tables == [("notes",)]
