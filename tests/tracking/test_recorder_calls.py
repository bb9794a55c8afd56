"""How a run reaches the store: its params with its first metrics, its outcome with its last."""

import time

from hydra import compose, initialize_config_dir
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient

from scratchnet.config import register_configs
from scratchnet.core.paths import config_dir
from scratchnet.tracking.epochs import EpochLogger
from scratchnet.tracking.names import DIVERGED_TAG, LOGGED_MODELS_TAG, SWEEP_EXPERIMENT_ENV
from scratchnet.tracking.recorder import RunRecorder, recorded_run
from scratchnet.tracking.run import run, sweep_experiment_id
from scratchnet.tracking.store import resolve_uri
from scratchnet.training import TrainResult


class CountingClient(MlflowClient):
    """The real client, counting its log_batch calls."""

    calls = 0

    def log_batch(self, *args, **kwargs):
        CountingClient.calls += 1
        return super().log_batch(*args, **kwargs)


def started(store_uri, params):
    recorder = RunRecorder.start(resolve_uri(store_uri), "calls", "r", params, {"t": "1"})
    recorder.client = CountingClient(tracking_uri=store_uri)
    CountingClient.calls = 0
    return recorder


def test_params_and_the_first_metrics_go_in_one_call(store_uri, client):
    recorder = started(store_uri, {"trainer.lr": "0.5", "seed": "0"})
    recorder.log_metric_batch([Metric("train_acc", 0.25, 0, 0), Metric("test_acc", 0.5, 0, 0)])
    recorder.end("FINISHED")
    run = client.get_run(recorder.run_id)
    assert CountingClient.calls == 1
    assert run.data.params == {"trainer.lr": "0.5", "seed": "0"}
    assert run.data.metrics == {"train_acc": 0.25, "test_acc": 0.5}
    assert run.data.tags["t"] == "1"


def test_a_run_that_ends_before_any_write_keeps_its_params(store_uri, client):
    with recorded_run(resolve_uri(store_uri), "calls", "r", {"a": "1"}, {}) as recorder:
        pass
    run = client.get_run(recorder.run_id)
    assert run.data.params == {"a": "1"} and run.info.status == "FINISHED"


def test_more_params_than_a_call_takes_all_arrive(store_uri, client):
    params = {f"p{i:03d}": str(i) for i in range(250)}
    recorder = started(store_uri, params)
    recorder.log_metric_batch(
        [Metric(f"m{i}", float(i), 0, s) for i in range(5) for s in range(300)]
    )
    recorder.end("FINISHED")
    assert client.get_run(recorder.run_id).data.params == params
    assert len(client.get_metric_history(recorder.run_id, "m4")) == 300
    assert CountingClient.calls == 3  # 100 params + 900 metrics, 100 + 600, then 50 params


def test_a_run_shorter_than_the_flush_interval_sends_params_epochs_and_outcome_in_one_call(
    store_uri, client
):
    recorder = started(store_uri, {"a": "1"})
    logger = EpochLogger(recorder, flush_seconds=60, final_tags=lambda r: {"diverged": "false"})
    logger.on_train_begin(None)
    logger.on_epoch_end(0, {"train_acc": 0.1})
    logger.on_epoch_end(1, {"train_acc": 0.2})
    logger.on_train_end(TrainResult(planned_epochs=1))
    run = client.get_run(recorder.run_id)
    assert CountingClient.calls == 1
    assert run.data.params == {"a": "1"} and run.data.tags["diverged"] == "false"
    assert [m.value for m in client.get_metric_history(recorder.run_id, "train_acc")] == [0.1, 0.2]


def test_epochs_are_sent_once_the_flush_interval_has_passed(store_uri, client):
    recorder = started(store_uri, {"a": "1"})
    logger = EpochLogger(recorder, flush_seconds=0.05)
    logger.on_train_begin(None)
    logger.on_epoch_end(0, {"train_acc": 0.1})
    assert CountingClient.calls == 0  # buffered
    time.sleep(0.06)
    logger.on_epoch_end(1, {"train_acc": 0.2})
    assert CountingClient.calls == 1
    assert len(client.get_metric_history(recorder.run_id, "train_acc")) == 2


def test_a_logger_told_not_to_flush_at_the_end_leaves_the_last_epochs_to_its_caller(
    store_uri, client
):
    recorder = started(store_uri, {"a": "1"})
    logger = EpochLogger(recorder, flush_seconds=60, flush_at_end=False)
    logger.on_train_begin(None)
    logger.on_epoch_end(0, {"train_acc": 0.1})
    logger.on_train_end(TrainResult(planned_epochs=1))
    assert CountingClient.calls == 0
    logger.flush(tags={"model": "m"})
    assert CountingClient.calls == 1
    run = client.get_run(recorder.run_id)
    assert run.data.tags["model"] == "m" and run.data.metrics == {"train_acc": 0.1}


def test_a_sweep_job_takes_its_experiment_id_from_the_launcher_when_the_names_match(
    monkeypatch,
):
    monkeypatch.setenv(SWEEP_EXPERIMENT_ENV, "7:study: a, b")
    assert sweep_experiment_id("study: a, b") == "7"
    assert sweep_experiment_id("another") is None  # a sweep over tracking.experiment
    monkeypatch.delenv(SWEEP_EXPERIMENT_ENV)
    assert sweep_experiment_id("study: a, b") is None


def test_a_run_started_with_a_known_experiment_id_is_created_there(store_uri, client):
    uri = resolve_uri(store_uri)
    experiment_id = client.create_experiment("known")
    recorder = RunRecorder.start(uri, "known", "r", {}, {}, experiment_id)
    recorder.end("FINISHED")
    assert client.get_run(recorder.run_id).info.experiment_id == experiment_id


def test_a_short_run_sends_its_epochs_outcome_and_model_tags_in_one_call(
    store_uri, client, monkeypatch
):
    calls = []
    real = MlflowClient.log_batch
    monkeypatch.setattr(
        MlflowClient, "log_batch", lambda self, *a, **k: calls.append(1) or real(self, *a, **k)
    )
    register_configs()
    quick = ["trainer.epochs=2", "trainer.progress=false", "tracking.flush_seconds=60"]
    with initialize_config_dir(str(config_dir()), version_base="1.3"):
        cfg = compose("config", overrides=[f"tracking.uri={store_uri}", *quick])
    outcome = run(cfg)
    found = client.get_run(outcome.run_id)
    assert len(calls) == 1
    assert found.info.status == "FINISHED"
    assert found.data.tags[DIVERGED_TAG] == "false" and LOGGED_MODELS_TAG in found.data.tags
    assert len(client.get_metric_history(outcome.run_id, "val_acc")) == 3  # epochs 0, 1, 2
