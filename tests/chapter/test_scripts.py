"""Each `experiments/<name>.py` end to end: a real process, a real Hydra compose, a real store."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness import REPO, all_runs, run_cli

pytestmark = pytest.mark.slow


def run_script(name: str, *overrides: str, cwd: Path) -> subprocess.CompletedProcess:
    """`python experiments/<name>.py overrides...` from the venv, in `cwd`."""
    return run_cli("python", str(REPO / "experiments" / f"{name}.py"), *overrides, cwd=cwd)


def finished_runs(client, experiment: str) -> list:
    exp = client.get_experiment_by_name(experiment)
    assert exp is not None, f"no experiment {experiment}"
    runs = client.search_runs([exp.experiment_id])
    assert runs and all(r.info.status == "FINISHED" for r in runs)
    return runs


def artifacts(client, run) -> set[str]:
    return {a.path for a in client.list_artifacts(run.info.run_id)}


def test_loss_functions_logs_the_chapter_losses_and_log_of_zero(tmp_path, store_uri, client):
    done = run_script("loss_functions", f"tracking.uri={store_uri}", "points=11", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (run,) = finished_runs(client, "chapter.loss_functions")
    metrics, tags = run.data.metrics, run.data.tags
    assert metrics["sse.y1"] == pytest.approx(0.0975)
    assert metrics["cee.y2"] == pytest.approx(2.3026, abs=1e-4)
    assert metrics["cee_at_p0.with_delta"] == pytest.approx(16.1181, abs=1e-4)
    assert tags["cee_at_p0.without_delta"] == "inf"
    assert tags["log_of_0"] == "-inf"
    assert "divide by zero" in tags["log_of_0.warning"]
    assert artifacts(client, run) == {"config.yaml", "losses_vs_p.png"}


def test_why_loss_not_accuracy_logs_how_flat_each_curve_is(tmp_path, store_uri, client):
    done = run_script(
        "why_loss_not_accuracy",
        f"tracking.uri={store_uri}",
        "data.train_size=200",
        "model.hidden_size=10",
        "trainer.epochs=1",
        "weight.points=41",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    (run,) = finished_runs(client, "chapter.why_loss_not_accuracy")
    assert run.data.metrics["loss_flat_fraction"] == 0.0
    assert run.data.metrics["accuracy_flat_fraction"] > 0.5
    assert artifacts(client, run) == {"config.yaml", "loss_vs_accuracy.png"}


def test_numerical_differentiation_logs_best_h_and_the_vanishing_h(tmp_path, store_uri, client):
    done = run_script("numerical_differentiation", f"tracking.uri={store_uri}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (run,) = finished_runs(client, "chapter.numerical_differentiation")
    metrics, tags = run.data.metrics, run.data.tags
    assert 1e-9 <= metrics["best_h.forward.float64"] <= 1e-6
    assert metrics["slope_at_5"] == pytest.approx(0.2)
    assert metrics["slope_at_10"] == pytest.approx(0.3)
    assert tags["float32_of_smallest_h"] == "0.0"
    assert tags["estimate_at_smallest_h.forward.float32"] == "nan"
    assert tags["estimate_at_smallest_h.forward.float64"] == "0.0"
    history = client.get_metric_history(run.info.run_id, "error.forward.float64")
    assert sorted(m.step for m in history) == list(range(1, 51))
    assert "error.forward.float32.nonfinite" in tags  # NaN errors are tags, not metrics
    assert artifacts(client, run) == {"config.yaml", "error_vs_h.png", "tangent_lines.png"}


def test_gradient_field_logs_the_quiver_plot(tmp_path, store_uri, client):
    done = run_script("gradient_field", f"tracking.uri={store_uri}", "grid.points=5", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (run,) = finished_runs(client, "chapter.gradient_field")
    assert run.data.metrics["grid_points"] == 25
    assert run.data.metrics["max_abs_error"] < 1e-9
    assert artifacts(client, run) == {"config.yaml", "gradient_field.png"}


def test_gradient_descent_runs_each_lr_under_one_parent(tmp_path, store_uri, client):
    lrs = "lrs=[10,0.1,1e-10]"
    done = run_script("gradient_descent", f"tracking.uri={store_uri}", lrs, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    runs = finished_runs(client, "chapter.gradient_descent")
    (parent,) = [r for r in runs if r.info.run_name == "lr study"]
    children = {r.data.params["lr"]: r for r in runs if r is not parent}
    assert set(children) == {"10.0", "0.1", "1e-10"}
    assert all(r.data.tags["mlflow.parentRunId"] == parent.info.run_id for r in children.values())
    assert children["0.1"].data.tags["verdict"] == "converged"
    assert children["10.0"].data.tags["verdict"] == "diverged"
    assert children["1e-10"].data.tags["verdict"] == "stalled"
    assert children["0.1"].data.metrics["final_distance"] < 1e-8
    distance = client.get_metric_history(children["10.0"].info.run_id, "distance")
    assert sorted(m.step for m in distance) == list(range(101))
    assert parent.data.tags["verdict.lr_10"] == "diverged"
    assert artifacts(client, parent) == {"config.yaml", "lr_study.png"}
    assert artifacts(client, children["0.1"]) == {"config.yaml", "path.png"}


def test_gradient_descent_multirun_gives_one_run_per_lr(tmp_path, store_uri, client):
    done = run_script(
        "gradient_descent", "-m", "lr=10,0.1", f"tracking.uri={store_uri}", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    runs = finished_runs(client, "chapter.gradient_descent")
    assert {r.info.run_name: r.data.tags["verdict"] for r in runs} == {
        "lr=10": "diverged",
        "lr=0.1": "converged",
    }
    assert not any("mlflow.parentRunId" in r.data.tags for r in runs)


def test_gradient_check_logs_errors_and_slowdown_per_size(tmp_path, store_uri, client):
    done = run_script(
        "gradient_check",
        f"tracking.uri={store_uri}",
        "sizes=[[4,3,3,2],[8,5,3,4]]",
        "timing.min_time=0.005",
        "timing.repeats=3",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    (run,) = finished_runs(client, "chapter.gradient_check")
    for name in ("W1", "b1", "W2", "b2"):
        history = client.get_metric_history(run.info.run_id, f"max_rel_error.{name}")
        assert sorted(m.step for m in history) == [0, 1]
        assert all(m.value < 1e-5 for m in history)
    slowdown = client.get_metric_history(run.info.run_id, "slowdown")
    assert len(slowdown) == 2 and all(m.value > 1 for m in slowdown)
    assert run.data.tags["size.1"] == "8-5-3 x4"
    assert artifacts(client, run) == {"config.yaml", "gradient_check.png"}


def test_minibatch_loss_logs_every_batch_beside_the_epochs(tmp_path, store_uri, client):
    done = run_script(
        "minibatch_loss",
        f"tracking.uri={store_uri}",
        "data.train_size=200",
        "model.hidden_size=10",
        "trainer.batch_size=10",
        "trainer.epochs=2",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    (run,) = finished_runs(client, "chapter.minibatch_loss")
    batch = client.get_metric_history(run.info.run_id, "batch_loss")
    assert sorted(m.step for m in batch) == list(range(40))
    epochs = client.get_metric_history(run.info.run_id, "test_loss")
    assert sorted(m.step for m in epochs) == [0, 20, 40]
    assert artifacts(client, run) == {"config.yaml", "minibatch_loss.png"}


def test_batch_inference_trains_a_net_when_none_is_found_and_times_it_each_way(
    tmp_path, store_uri, client
):
    done = run_script(
        "batch_inference",
        f"tracking.uri={store_uri}",
        "source.experiment=tiny",
        "source.train=['data=digits','data.train_size=200','trainer.epochs=2',"
        "'tracking.experiment=tiny']",
        "batch_sizes=[1,100]",
        "repeats=1",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    (source,) = finished_runs(client, "tiny")
    (run,) = finished_runs(client, "chapter.batch_inference")
    assert run.data.params["source.run"] == source.info.run_id
    accuracy = {m.step: m.value for m in client.get_metric_history(run.info.run_id, "accuracy")}
    assert accuracy == {1: source.data.metrics["test_acc"], 100: source.data.metrics["test_acc"]}
    assert run.data.metrics["accuracy.one_at_a_time"] == source.data.metrics["test_acc"]
    speedups = client.get_metric_history(run.info.run_id, "speedup")
    assert sorted(m.step for m in speedups) == [1, 100] and all(m.value > 0 for m in speedups)
    assert run.data.tags["same_predictions"] == "true"
    assert artifacts(client, run) == {"config.yaml", "speedup.png"}
    last = done.stdout.strip().splitlines()[-1]
    assert f"MLflow run {run.info.run_id} in experiment 'chapter.batch_inference'" in last
    assert last.endswith(f"artifacts in {run.info.artifact_uri}")


@pytest.mark.parametrize(
    ("name", "override", "named"),
    [
        ("gradient_check", "lrr=1", "lrr"),  # caught by Hydra while composing
        ("why_loss_not_accuracy", "weight.index=[0,99]", "weight.index=[0, 99]"),  # by our checks
    ],
)
def test_a_bad_override_is_one_line_exit_2_and_no_run(
    tmp_path, store_uri, client, name, override, named
):
    done = run_script(name, f"tracking.uri={store_uri}", override, cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"experiments/{name}.py: error: ")
    assert named in lines[0]
    assert all_runs(client) == []


def test_scratchnet_chapter_runs_the_same_study_as_the_script(tmp_path, store_uri, client):
    done = run_cli(
        "scratchnet-chapter", "loss_functions", f"tracking.uri={store_uri}", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    (run,) = finished_runs(client, "chapter.loss_functions")
    assert run.data.metrics["cee.y2"] == pytest.approx(2.3026, abs=1e-4)
    assert f"tracking store: {store_uri}" in done.stdout


def test_scratchnet_chapter_names_itself_in_a_one_line_error(tmp_path, store_uri, client):
    done = run_cli(
        "scratchnet-chapter", "gradient_check", f"tracking.uri={store_uri}", "lrr=1", cwd=tmp_path
    )
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("scratchnet-chapter gradient_check: error: ") and "lrr" in line
    assert all_runs(client) == []


def test_ctrl_c_ends_the_run_killed(tmp_path, store_uri, client):
    script = REPO / "experiments" / "minibatch_loss.py"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    args = [f"tracking.uri={store_uri}", "trainer.epochs=100000", "data.train_size=200"]
    proc = subprocess.Popen(
        [sys.executable, str(script), *args],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            runs = all_runs(client)
            if runs and client.get_metric_history(runs[0].info.run_id, "test_loss"):
                break
            time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    (run,) = all_runs(client)
    assert run.info.status == "KILLED"


def test_optimizer_paths_logs_each_path_per_step_under_one_parent(tmp_path, store_uri, client):
    done = run_script("optimizer_paths", f"tracking.uri={store_uri}", "steps=5", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    runs = finished_runs(client, "chapter.optimizer_paths")
    (parent,) = [r for r in runs if r.info.run_name == "optimizer paths"]
    children = {r.data.params["optimizer"]: r for r in runs if r is not parent}
    assert set(children) == {"sgd", "momentum", "adagrad", "adam"}
    sgd = children["sgd"]
    assert sgd.data.metrics["final_x"] == pytest.approx(-7 * 0.905**5)
    assert sgd.data.metrics["final_y"] == pytest.approx(2 * (-0.9) ** 5)
    ys = client.get_metric_history(sgd.info.run_id, "y")
    assert sorted(m.step for m in ys) == list(range(6))
    assert parent.data.tags["end.sgd"].startswith("(-4.")
    assert artifacts(client, parent) == {"config.yaml", "optimizer_paths.png"}
