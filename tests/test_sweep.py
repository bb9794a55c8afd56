"""Hydra multiruns end to end: one parent run per sweep, children, resume, parallel jobs."""

import contextlib
import signal
import sqlite3
import subprocess
import time

import pytest
from hydra import initialize_config_dir
from hydra._internal.callbacks import Callbacks
from hydra.core.global_hydra import GlobalHydra
from hydra.core.plugins import Plugins
from hydra.errors import ConfigCompositionException
from hydra.types import HydraContext, RunMode
from mlflow.tracking import MlflowClient
from omegaconf import OmegaConf

from harness import BIN, all_runs, run_cli
from scratchnet.config import register_configs
from scratchnet.core.paths import config_dir
from scratchnet.report.build import build_report
from scratchnet.sweep.check import compose_job, grid_jobs
from scratchnet.sweep.identity import definition_overrides, grid_size, sweep_id
from scratchnet.tracking.names import EPOCH_METRICS, PARENT_TAG, SWEEP_PARENT_TAG
from scratchnet.tracking.store import sqlite_path

pytestmark = pytest.mark.slow
TINY = ("trainer.epochs=2", "trainer.progress=false", "data.train_size=200")
PARALLEL_EPOCHS = 50


def split(runs):
    parents = [r for r in runs if r.data.tags.get(SWEEP_PARENT_TAG) == "true"]
    kids = [r for r in runs if PARENT_TAG in r.data.tags]
    return parents, kids


def sweep(store_uri, tmp_path, *args, timeout=300):
    done = run_cli(
        "scratchnet-train",
        "-m",
        f"tracking.uri={store_uri}",
        *TINY,
        *args,
        cwd=tmp_path,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_grid_size_is_the_product_of_the_sweep_lists():
    assert grid_size(["trainer.lr=0.1,1", "seed=range(3)", "model.hidden_size=5"], {}) == 6
    assert grid_size([], {"trainer.lr": "0.1,0.5,2.0", "model.hidden_size": "10,50"}) == 6


def test_sweep_id_ignores_tracking_and_order_but_not_the_grid():
    a = sweep_id("e", ["trainer.lr=0.1,1", "seed=0,1", "tracking.uri=sqlite:///x"], {})
    b = sweep_id("e", ["seed=0,1", "trainer.lr=0.1,1"], {})
    c = sweep_id("e", ["seed=0,1", "trainer.lr=0.1,2"], {})
    assert a == b != c
    assert definition_overrides(["hydra.launcher.n_jobs=2", "seed=1"]) == ["seed=1"]


def test_the_grid_check_composes_every_job_as_the_launcher_does():
    register_configs()
    grid = ["trainer.lr=0.1,2", "data=digits,mnist", "data.train_size=50,100", "seed=1"]
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        hydra = GlobalHydra.instance().hydra
        config = hydra.compose_config("config", grid, run_mode=RunMode.MULTIRUN)
        composed = {}
        for job in grid_jobs(list(config.hydra.overrides.task), {}):
            fast = compose_job(hydra.config_loader, config, job, composed)
            full = hydra.config_loader.load_sweep_config(config, list(job))
            # everything a job runs with, its `hydra` node (override lists, output dir) too
            assert OmegaConf.to_container(fast) == OmegaConf.to_container(full)
            assert fast.hydra.overrides.task == list(job)
    assert len(composed) == 2  # one composition per dataset, not one per job


def test_the_grid_sweeper_is_the_default_and_rejects_a_job_that_cannot_compose():
    register_configs()
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        hydra = GlobalHydra.instance().hydra
        config = hydra.compose_config("config", [], run_mode=RunMode.MULTIRUN)
        context = HydraContext(config_loader=hydra.config_loader, callbacks=Callbacks())
        sweeper = Plugins.instance().instantiate_sweeper(
            config=config, hydra_context=context, task_function=lambda cfg: None
        )
        assert type(sweeper).__name__ == "GridSweeper"
        sweeper.validate_batch_is_legal([["trainer.lr=0.1"], ["data=mnist", "trainer.lr=2"]])
        with pytest.raises(ConfigCompositionException, match="nope"):
            sweeper.validate_batch_is_legal([["trainer.lr=0.1"], ["data=nope"]])


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One 2 x 2 grid run three times into one store: first, again (nothing left to do), then
    again with `sweep.resume=false`; the runs as each launch left them."""
    tmp_path = tmp_path_factory.mktemp("grid")
    store_uri = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=store_uri)
    args = ("trainer.lr=0.1,0.5", "model.hidden_size=5,20", "trainer.progress=true")
    launches = {}
    for name, extra in (("first", ()), ("again", ()), ("fresh", ("sweep.resume=false",))):
        done = sweep(store_uri, tmp_path, *args, *extra)
        launches[name] = (done, split(all_runs(client)))
    return {"client": client, **launches}


def test_a_sweep_is_one_parent_with_a_child_per_job(grid):
    done, ((parent,), kids) = grid["first"]
    assert len(kids) == 4
    for kid in kids:  # one job at a time: each shows its bar
        assert f"{kid.info.run_name}: 100%" in done.stderr
    assert {k.data.tags[PARENT_TAG] for k in kids} == {parent.info.run_id}
    assert {k.info.run_name for k in kids} == {
        f"lr={lr} bs=32 h={h} n=200 seed=0" for lr in ("0.1", "0.5") for h in (5, 20)
    }
    assert parent.info.status == "FINISHED"
    assert parent.data.params["sweep.grid_size"] == "4"
    assert "trainer.lr=0.1,0.5" in parent.data.params["sweep.overrides"]
    assert parent.data.metrics["runs_finished"] == 4
    assert parent.data.metrics["runs_failed"] == 0
    assert parent.data.tags["scratchnet.sweep_selection"] == "val"  # chosen on validation
    assert parent.data.tags["scratchnet.best_by_final_val_acc"] in {k.info.run_name for k in kids}


def test_every_child_has_all_metrics_at_every_epoch(grid):
    _, (_, kids) = grid["first"]
    for kid in kids:
        for key in ("train_loss", "train_acc", "test_loss", "test_acc"):
            history = grid["client"].get_metric_history(kid.info.run_id, key)
            assert sorted(m.step for m in history) == [0, 1, 2]


def test_rerunning_a_finished_sweep_skips_every_job_under_the_same_parent(grid):
    second, (parents, kids) = grid["again"]
    assert (second.stderr + second.stdout).count("already FINISHED") == 4
    assert len(parents) == 1
    assert len(kids) == 4


def test_resume_false_forces_a_fresh_sweep(grid):
    _, (parents, kids) = grid["fresh"]
    assert len(parents) == 2
    assert len(kids) == 8


def test_a_partly_finished_grid_runs_only_its_missing_jobs_and_seeds_repeat_it(
    tmp_path, store_uri, client
):
    sweep(store_uri, tmp_path, "seed=0")
    second = sweep(store_uri, tmp_path, "seed=0,1,2")
    assert (second.stderr + second.stdout).count("already FINISHED") == 1
    _, kids = split(all_runs(client))
    assert sorted(k.data.tags["seed"] for k in kids) == ["0", "1", "2"]


@pytest.fixture(scope="module")
def parallel(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A 2 x 2 grid on two joblib workers, each writing every epoch, then launched again."""
    tmp_path = tmp_path_factory.mktemp("parallel")
    store_uri = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=store_uri)
    grid = (
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        "trainer.lr=0.1,0.5",
        "model.hidden_size=5,20",
        f"trainer.epochs={PARALLEL_EPOCHS}",
        "tracking.flush_seconds=0",  # one store write per epoch from each worker
        "data.train_size=50",
        "trainer.batch_size=50",
        "trainer.progress=true",  # asked for, and kept off in the workers
    )
    first = sweep(store_uri, tmp_path, *grid, "hydra.sweep.dir=first")
    runs = split(all_runs(client))
    second = sweep(store_uri, tmp_path, *grid, "hydra.sweep.dir=second")
    return {
        "client": client,
        "uri": store_uri,
        "dir": tmp_path,
        "first": (first, runs),
        "second": (second, split(all_runs(client))),
    }


def test_parallel_joblib_sweep_groups_children_under_one_parent(parallel):
    done, ((parent,), kids) = parallel["first"]
    assert len(kids) == 4
    assert "epoch/s" not in done.stderr + done.stdout  # no bar, interleaved or not
    for kid in kids:  # each job's one summary line, whole
        assert done.stdout.count(f"MLflow run {kid.info.run_id} in experiment") == 1
    assert all(k.info.status == "FINISHED" for k in kids)
    assert {k.data.tags[PARENT_TAG] for k in kids} == {parent.info.run_id}
    assert "JoblibLauncher" in parent.data.params["sweep.launcher"]
    with contextlib.closing(sqlite3.connect(sqlite_path(parallel["uri"]))) as con:  # only reads
        assert con.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_parallel_jobs_writing_every_epoch_lose_no_metric_row(parallel):
    client = parallel["client"]
    _, (_, kids) = parallel["first"]
    rows = sum(
        len(client.get_metric_history(k.info.run_id, key)) for k in kids for key in EPOCH_METRICS
    )
    assert rows == len(kids) * len(EPOCH_METRICS) * (PARALLEL_EPOCHS + 1)


def test_rerunning_a_finished_parallel_sweep_starts_no_worker(parallel):
    second, (parents, kids) = parallel["second"]
    said = second.stderr + second.stdout
    assert said.count("already FINISHED") == 4
    assert "Joblib.Parallel" not in said and "Launching" not in said  # no launcher, no worker
    assert not [p for p in (parallel["dir"] / "second").iterdir() if p.is_dir()]  # no job folder
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    assert len(kids) == 4


@pytest.fixture(scope="module")
def resumed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A sweep interrupted with Ctrl-C while a job runs, then resumed to its end."""
    tmp_path = tmp_path_factory.mktemp("resumed")
    store_uri = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=store_uri)
    client.search_experiments()  # create the store before the sweep, as the parent would
    args = [
        str(BIN / "scratchnet-train"),
        "-m",
        f"tracking.uri={store_uri}",
        "trainer.progress=false",
        "data.train_size=200",
        "trainer.epochs=3000",  # seconds a job, so that Ctrl-C surely finds the second running
        "seed=0,1",
    ]
    proc = subprocess.Popen(
        args, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        _, kids = split(all_runs(client))
        if any(k.info.status == "FINISHED" for k in kids) and any(
            k.info.status == "RUNNING" for k in kids
        ):
            break
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("the sweep never had one job FINISHED while another was RUNNING")
    proc.send_signal(signal.SIGINT)
    code = proc.wait(timeout=60)
    interrupted = split(all_runs(client))
    done = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    report = build_report(client, "scratchnet", out_dir=tmp_path / "report", write=False)
    md = (report.out_dir / "report.md").read_text()
    return {"client": client, "code": code, "interrupted": interrupted, "md": md}


def test_ctrl_c_ends_the_sweep_and_its_running_job_killed(resumed):
    parents, kids = resumed["interrupted"]
    assert resumed["code"] == 130
    assert [p.info.status for p in parents] == ["KILLED"]
    assert "RUNNING" not in {k.info.status for k in kids}
    assert "KILLED" in {k.info.status for k in kids}


def test_an_interrupted_sweep_resumes_only_the_missing_jobs(resumed):
    _, before = resumed["interrupted"]
    finished_before = {k.data.tags["seed"] for k in before if k.info.status == "FINISHED"}
    parents, kids = split(all_runs(resumed["client"]))
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    finished = [k.data.tags["seed"] for k in kids if k.info.status == "FINISHED"]
    assert sorted(finished) == ["0", "1"]  # each configuration finished exactly once
    assert len(kids) == 2 + sum(k.info.status == "KILLED" for k in kids)
    assert finished_before < set(finished)


def test_the_resumed_attempts_summary_supersedes_the_interrupted_ones(resumed):
    (parent,), kids = split(all_runs(resumed["client"]))
    killed = sum(k.info.status == "KILLED" for k in kids)
    assert parent.data.metrics["runs_killed"] == 0  # the first attempt logged >= 1
    assert parent.data.metrics["runs_finished"] == 2
    assert parent.data.metrics["runs_superseded"] == killed
    steps = [
        m.step for m in resumed["client"].get_metric_history(parent.info.run_id, "runs_killed")
    ]
    assert sorted(steps) == [0, 1]


def test_the_resumed_sweeps_report_lists_the_killed_attempt_apart_and_counts_it_nowhere(resumed):
    md = resumed["md"]
    _, kids = split(all_runs(resumed["client"]))
    killed = sum(k.info.status == "KILLED" for k in kids)
    assert killed >= 1
    assert f"## Superseded attempts ({killed})" in md
    assert "2 runs: 2 FINISHED." in md
    counts = md.split("## Summary")[1].split("\n\n")[1].splitlines()[2]
    assert sum(int(n) for n in counts.strip("| ").split(" | ")) == 2  # verdicts of 2 runs
    ranked = md.split("Runs ranked by")[1].split("##")[0]
    assert "KILLED" not in ranked and "RUNNING" not in md.split("## Superseded")[0]
