"""Metrics bulk-inserted below MLflow's ORM read back exactly as `log_batch` stores them."""

import math

import pandas as pd
import pytest
from mlflow.entities import Metric
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from bulk_support import EPOCHS, history, logged, points
from harness import new_store
from scratchnet.tracking.bulk import split_latest, sql_store
from scratchnet.tracking.frames import runs_frame, with_summary
from scratchnet.tracking.names import EPOCH_METRICS
from scratchnet.tracking.reader import read_history, record
from scratchnet.tracking.recorder import RunRecorder
from scratchnet.tracking.store import resolve_uri


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> dict:
    """One store, the same points logged through the bulk writer and through log_batch."""
    uri = resolve_uri(new_store(tmp_path_factory.mktemp("bulk")))
    bulk, bulk_batches = logged(uri, "bulk", bulk=True)
    plain, _ = logged(uri, "plain", bulk=False)
    return {"client": MlflowClient(tracking_uri=uri), "bulk": bulk, "plain": plain,
            "uri": uri, "bulk_batches": bulk_batches}  # fmt: skip


def test_the_bulk_writer_stores_every_point_as_log_batch_does(pair):
    client = pair["client"]
    got, expected = history(client, pair["bulk"]), history(client, pair["plain"])
    assert got == expected
    assert sum(len(v) for v in got.values()) == EPOCHS * len(EPOCH_METRICS) + 6


def test_the_latest_metrics_are_those_log_batch_leaves(pair):
    client = pair["client"]
    experiment = client.get_run(pair["bulk"]).info.experiment_id
    runs = {r.info.run_id: r for r in client.search_runs([experiment])}
    bulk, plain = runs[pair["bulk"]].data.metrics, runs[pair["plain"]].data.metrics
    assert {k: v.hex() for k, v in bulk.items()} == {k: v.hex() for k, v in plain.items()}
    assert bulk["probe"] == 0.25 and math.isnan(bulk["test_loss"])


def test_nan_and_inf_read_back_as_log_batch_stores_them(pair):
    client = pair["client"]
    for run_id in (pair["bulk"], pair["plain"]):
        train = {m.step: m.value for m in client.get_metric_history(run_id, "train_loss")}
        val = {m.step: m.value for m in client.get_metric_history(run_id, "val_loss")}
        assert math.isnan(train[7])
        assert val[8] == 1.7976931348623157e308 and val[9] == -1.7976931348623157e308


def test_the_report_frames_are_the_same(pair):
    client = pair["client"]

    def frame(run_id: str) -> pd.DataFrame:
        runs = runs_frame([record(client.get_run(run_id))])
        out = with_summary(runs, read_history(client, [run_id]))
        return out.drop(columns=["run_id", "name", "start_time", "end_time"])

    bulk, plain = read_history(client, [pair["bulk"]]), read_history(client, [pair["plain"]])
    pd.testing.assert_frame_equal(bulk.drop(columns="run_id"), plain.drop(columns="run_id"))
    pd.testing.assert_frame_equal(frame(pair["bulk"]), frame(pair["plain"]))


def test_only_each_keys_last_step_goes_through_log_batch(pair):
    # one call (under 1,000 entities): the run's last epoch, and probe's last (step 4)
    assert pair["bulk_batches"] == [sum(m.step in (4, EPOCHS - 1) for m in points())]


def test_a_duplicate_send_stores_each_point_once(pair):
    twice, _ = logged(pair["uri"], "twice", bulk=True, sends=2)
    plain_twice, _ = logged(pair["uri"], "plain twice", bulk=False, sends=2)
    client = pair["client"]
    once = history(client, pair["plain"])
    assert history(client, twice) == history(client, plain_twice) == once


def test_a_deleted_run_refuses_metrics_as_log_batch_does(pair):
    uri, client = pair["uri"], pair["client"]
    errors = []
    for bulk in (True, False):
        recorder = RunRecorder.start(uri, "bulk", "deleted", {}, {})
        recorder.bulk = bulk
        client.delete_run(recorder.run_id)
        with pytest.raises(MlflowException) as err:
            recorder.log_metric_batch(points()[:30])
        errors.append(str(err.value).replace(recorder.run_id, "<id>"))
        assert client.get_metric_history(recorder.run_id, "train_loss") == []
    assert errors[0] == errors[1]


def test_a_file_store_takes_log_batch(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    uri = (tmp_path / "files").as_uri()
    run_id, batches = logged(uri, "files", bulk=True)
    assert sql_store(MlflowClient(tracking_uri=uri)) is None
    assert sum(batches) == len(points())  # every metric through log_batch
    assert len(MlflowClient(tracking_uri=uri).get_metric_history(run_id, "val_acc")) == EPOCHS


def test_the_latest_steps_are_whole_steps_apart():
    metrics = [Metric(k, 0.0, 0, s) for s in range(4) for k in "ab"] + [Metric("c", 0.0, 0, 1)]
    earlier, last = split_latest(metrics)
    assert sorted({m.step for m in earlier}) == [0, 2] and sorted({m.step for m in last}) == [1, 3]
    assert len(earlier) + len(last) == len(metrics)


def test_a_name_mlflow_refuses_is_refused_in_mlflows_words_either_way(pair):
    errors = []
    for bulk in (True, False):
        recorder = RunRecorder.start(pair["uri"], "bulk", "bad name", {}, {})
        recorder.bulk = bulk
        bad = [Metric(k, 0.5, 1000, s) for s in range(3) for k in ("ok", "no!")]
        with pytest.raises(MlflowException) as err:
            recorder.log_metric_batch(bad)
        errors.append(str(err.value))
        assert pair["client"].get_metric_history(recorder.run_id, "ok") == []
    assert errors[0] == errors[1] and "no!" in errors[0]
