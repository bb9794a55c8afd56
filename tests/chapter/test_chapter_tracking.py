"""A chapter run in MLflow: its status, chunked series, and no NaN/inf metric ever."""

import pytest
from mlflow.tracking import MlflowClient
from omegaconf import OmegaConf

from scratchnet.cli.chapter import chapter_run
from scratchnet.tracking.artifacts import learning_curve_figure
from scratchnet.tracking.recorder import RunRecorder


def config(experiment: str = "chapter.test"):
    return OmegaConf.create(
        {"alpha": 0.5, "tracking": {"uri": None, "experiment": experiment, "run_name": None}}
    )


def only_run(client: MlflowClient):
    (exp,) = [e for e in client.search_experiments() if e.name == "chapter.test"]
    (run,) = client.search_runs([exp.experiment_id])
    return run


def test_a_block_that_completes_ends_finished_with_config_params_and_tags(store_uri, client):
    with chapter_run(store_uri, config(), "demo", overrides=["alpha=0.5"]):
        pass
    run = only_run(client)
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "demo"
    assert run.data.params["alpha"] == "0.5"
    assert run.data.tags["scratchnet.chapter"] == "demo"
    assert run.data.tags["scratchnet.overrides"] == "alpha=0.5"
    assert [a.path for a in client.list_artifacts(run.info.run_id)] == ["config.yaml"]


def test_a_block_that_raises_ends_failed(store_uri, client):
    with pytest.raises(ZeroDivisionError), chapter_run(store_uri, config(), "demo"):
        _ = 1 / 0
    assert only_run(client).info.status == "FAILED"


def test_ctrl_c_ends_killed(store_uri, client):
    with pytest.raises(KeyboardInterrupt), chapter_run(store_uri, config(), "demo"):
        raise KeyboardInterrupt
    assert only_run(client).info.status == "KILLED"


def test_a_child_run_names_its_parent(store_uri, client):
    with (
        chapter_run(store_uri, config(), "demo", name="parent") as parent,
        chapter_run(store_uri, config(), "demo", name="child", parent_run_id=parent.run_id),
    ):
        pass
    exp = client.get_experiment_by_name("chapter.test")
    (child,) = client.search_runs([exp.experiment_id], "attributes.run_name = 'child'")
    assert child.data.tags["mlflow.parentRunId"] == parent.run_id


def test_a_long_series_goes_in_calls_of_at_most_1000_metrics(store_uri, client, monkeypatch):
    sizes = []
    original = RunRecorder.send

    def spy(self, metrics=(), tags=()):
        sizes.append((len(metrics), self.room(dict(tags))))  # beside the params it takes
        return original(self, metrics, dict(tags))

    with chapter_run(store_uri, config(), "demo") as run:
        monkeypatch.setattr(RunRecorder, "send", spy)
        run.log_series("loss", [float(i) for i in range(2500)], first_step=1)
    # the run's params ride in the first call: at most 1,000 entities a call (MLflow's limit)
    assert len(sizes) == 3 and sum(m for m, _ in sizes) == 2500
    assert all(m <= room for m, room in sizes)
    history = client.get_metric_history(run.run_id, "loss")
    assert sorted(m.step for m in history) == list(range(1, 2501))


def test_non_finite_series_values_are_left_out_and_described_in_a_tag(store_uri, client):
    with chapter_run(store_uri, config(), "demo") as run:
        run.log_series("distance", [5.0, float("inf"), float("nan"), 1.0])
    steps = sorted(m.step for m in client.get_metric_history(run.run_id, "distance"))
    assert steps == [0, 3]
    note = only_run(client).data.tags["distance.nonfinite"]
    assert note == "2 non-finite values not logged; first at step 1: inf"


def test_a_non_finite_metric_becomes_a_tag_of_the_same_name(store_uri, client):
    with chapter_run(store_uri, config(), "demo") as run:
        run.log_metrics({"finite": 1.5, "cee": float("inf")})
    data = only_run(client).data
    assert data.metrics == {"finite": 1.5}
    assert data.tags["cee"] == "inf"


def test_figures_are_uploaded_as_png(store_uri, client):
    history = [{"epoch": 0, "train_acc": 0.1, "test_acc": 0.1, "train_loss": 2, "test_loss": 2}]
    with chapter_run(store_uri, config(), "demo") as run:
        run.log_figures({"curves": learning_curve_figure(history)})
    paths = {a.path for a in client.list_artifacts(run.run_id)}
    assert paths == {"config.yaml", "curves.png"}
