"""Opening a copied or moved store: relocated when moved, refused when a copy (real stores)."""

import contextlib
import logging
import shutil
import sqlite3
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from store_support import empty_store, finished_run, locations

from scratchnet.tracking.follow import ForeignStoreError
from scratchnet.tracking.relocation import RelocationError, is_inside, local_path, relocate
from scratchnet.tracking.store import get_or_create_experiment, open_client, resolve_uri


@pytest.fixture
def original(tmp_path, tmp_path_factory) -> tuple[Path, str]:
    """A store in tmp/a/mlruns with one finished run holding config.yaml: (folder, run id)."""
    folder = tmp_path / "a" / "mlruns"
    uri = resolve_uri(empty_store(folder, tmp_path_factory.getbasetemp()))
    client = MlflowClient(tracking_uri=uri)
    experiment_id = get_or_create_experiment(client, uri, "study")
    return folder, finished_run(client, experiment_id, {"config.yaml": "lr: 0.5\n"})


def uri_of(folder: Path) -> str:
    return f"sqlite:///{folder / 'mlflow.db'}"


def said(caplog) -> list[logging.LogRecord]:
    """What scratchnet's store said (MLflow's own log lines left out)."""
    return [r for r in caplog.records if r.name == "scratchnet.store"]


def all_inside(folder: Path) -> bool:
    return all(is_inside(local_path(loc), folder) for loc in locations(folder).values())


def test_a_moved_store_is_relocated_on_opening_and_says_so_in_one_line(original, tmp_path, caplog):
    folder, run_id = original
    moved = tmp_path / "b" / "mlruns"
    shutil.move(folder.parent, moved.parent)
    with caplog.at_level(logging.WARNING, logger="scratchnet.store"):
        resolve_uri(uri_of(moved))
    (record,) = said(caplog)
    assert "\n" not in record.message
    assert f"{moved} was moved" in record.message and str(folder) in record.message
    assert all_inside(moved)
    client = MlflowClient(tracking_uri=uri_of(moved))
    got = Path(client.download_artifacts(run_id, "config.yaml", str(tmp_path)))
    assert got.read_text() == "lr: 0.5\n"


def test_a_copy_is_refused_before_anything_is_written(original, tmp_path):
    folder, _ = original
    copy = tmp_path / "copy" / "mlruns"
    shutil.copytree(folder, copy)
    before = locations(copy)
    with pytest.raises(ForeignStoreError, match="scratchnet-store relocate --store") as err:
        resolve_uri(uri_of(copy))
    assert "\n" not in str(err.value) and str(folder / "artifacts") in str(err.value)
    assert locations(copy) == before


def test_reports_open_a_moved_store_relocated_and_refuse_a_copy(original, tmp_path):
    folder, _ = original
    shutil.copytree(folder, tmp_path / "copy")
    with pytest.raises(ForeignStoreError):
        open_client(uri_of(tmp_path / "copy"))
    moved = tmp_path / "moved"
    shutil.move(folder, moved)
    open_client(uri_of(moved))
    assert all_inside(moved)


def test_mlflows_default_experiment_follows_the_store_quietly(tmp_path, tmp_path_factory, caplog):
    folder = tmp_path / "fresh"
    empty_store(folder, tmp_path_factory.getbasetemp())  # made by MLflow: Default in its cwd
    assert not all_inside(folder)
    with caplog.at_level(logging.WARNING, logger="scratchnet.store"):
        resolve_uri(uri_of(folder))
    assert locations(folder) == {"experiment Default": str(folder / "artifacts" / "0")}
    assert not said(caplog)  # no run had artifacts there: nothing to say


def test_relocation_is_one_transaction(original, tmp_path):
    folder, run_id = original
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    before = locations(copy)
    with contextlib.closing(sqlite3.connect(copy / "mlflow.db")) as con:
        con.execute(
            "CREATE TRIGGER refuse BEFORE UPDATE OF artifact_uri ON runs "
            f"WHEN OLD.run_uuid = '{run_id}' BEGIN SELECT RAISE(ABORT, 'injected'); END"
        )
        con.commit()
    with pytest.raises(RelocationError, match="injected.*nothing was changed"):
        relocate(copy / "mlflow.db")
    assert locations(copy) == before  # the experiments' rows, updated first, rolled back


def test_relocating_twice_finds_nothing_the_second_time(original, tmp_path):
    folder, _ = original
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    first, second = relocate(copy / "mlflow.db"), relocate(copy / "mlflow.db")
    assert (first.experiments, first.runs) == (2, 1)  # Default and the study; its run
    assert not second.changed
    assert all_inside(copy)
