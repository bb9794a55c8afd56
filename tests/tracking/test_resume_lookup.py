"""A grid's resume lookup: asked once, for every job, in the launching process."""

import pytest
from hydra import compose, initialize_config_dir

from scratchnet.config import config_hash, register_configs
from scratchnet.core.paths import config_dir
from scratchnet.sweep import resume
from scratchnet.sweep.job import finished_twin
from scratchnet.tracking.names import CONFIG_HASH_TAG
from scratchnet.tracking.recorder import RunRecorder
from scratchnet.tracking.sql_experiments import finished_config_hashes
from scratchnet.tracking.sqlite_file import sqlite_path
from scratchnet.tracking.store import resolve_uri
from scratchnet.tracking.sweeps import finished_twins


def recorded(uri, key, status):
    recorder = RunRecorder.start(resolve_uri(uri), "grid", key, {}, {CONFIG_HASH_TAG: key})
    recorder.log_metrics({"val_acc": 0.75})
    recorder.end(status)
    return recorder.run_id


def test_the_lookup_finds_the_finished_configs_of_the_grid_only(store_uri):
    done = recorded(store_uri, "h1", "FINISHED")
    recorded(store_uri, "h2", "FAILED")
    recorded(store_uri, "h3", "FINISHED")
    twins = finished_twins(store_uri, "grid", ["h1", "h2", "h4"])
    assert set(twins) == {"h1"}
    twin = resume.twin_of(twins["h1"], parent_id=None)
    assert twin.name == "h1" and twin.run_id == done and not twin.own
    assert twin.summary["run_id"] == done and twin.summary["val_acc"] == 0.75


def test_a_job_handed_the_sweeps_lookup_does_not_open_the_store(tmp_path):
    register_configs()
    store = tmp_path / "never" / "mlflow.db"
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        cfg = compose("config", [f"tracking.uri=sqlite:///{store}"])
    try:
        twin = resume.Twin("r", "x", own=True, summary={"run_id": "x"})
        resume.hand_to_jobs({config_hash(cfg): twin})
        assert finished_twin(cfg, parent="p") == twin
        resume.hand_to_jobs({})
        assert finished_twin(cfg, parent="p") is None
    finally:
        resume.forget()
    assert not store.parent.exists()  # the job never opened (nor created) the store


def test_the_files_finished_hashes_are_what_mlflows_lookup_finds(store_uri):
    recorded(store_uri, "h1", "FINISHED")
    recorded(store_uri, "h2", "FAILED")
    recorded(store_uri, "h3", "KILLED")
    asked = ["h1", "h2", "h3", "h4"]
    found = finished_config_hashes(sqlite_path(store_uri), "grid")
    assert found == {"h1"} == set(finished_twins(store_uri, "grid", asked))
    assert finished_config_hashes(sqlite_path(store_uri), "another") == set()


def grid_config(store, *overrides):
    register_configs()
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return compose("config", [f"tracking.uri=sqlite:///{store}", *overrides])


@pytest.fixture
def jobs_and_store(tmp_path):
    """Two jobs of a grid over the learning rate, and where its store will be."""
    store = tmp_path / "store" / "mlflow.db"
    jobs = [grid_config(store, f"trainer.lr={lr}") for lr in (0.1, 0.5)]
    return jobs, store


def test_a_grid_into_a_new_store_is_sure_to_run_a_job(jobs_and_store):
    jobs, store = jobs_and_store
    assert resume.some_job_runs(jobs[0], jobs, resume.job_hashes(jobs[0], jobs))
    assert not store.parent.exists()  # telling so created nothing


def test_a_grid_whose_every_job_finished_may_run_none(jobs_and_store):
    jobs, store = jobs_and_store
    uri = f"sqlite:///{store}"
    experiment = jobs[0].tracking.experiment
    for job in jobs:
        key = config_hash(resume.task_config(job))
        RunRecorder.start(resolve_uri(uri), experiment, key, {}, {CONFIG_HASH_TAG: key}).end(
            "FINISHED"
        )
    assert not resume.some_job_runs(jobs[0], jobs, resume.job_hashes(jobs[0], jobs))
    more = [*jobs, grid_config(store, "trainer.lr=2.0")]
    assert resume.some_job_runs(jobs[0], more, resume.job_hashes(jobs[0], more))


def test_every_job_of_a_sweep_into_a_new_store_or_experiment_runs(jobs_and_store):
    jobs, store = jobs_and_store
    assert resume.every_job_runs(jobs[0])
    assert not store.parent.exists()  # telling so created nothing
    RunRecorder.start(resolve_uri(f"sqlite:///{store}"), "elsewhere", "h1", {}, {}).end("FINISHED")
    assert resume.every_job_runs(jobs[0])


def test_a_sweep_into_an_experiment_already_there_may_skip_jobs_unless_it_does_not_resume(
    jobs_and_store,
):
    jobs, store = jobs_and_store
    uri = f"sqlite:///{store}"
    RunRecorder.start(resolve_uri(uri), jobs[0].tracking.experiment, "h1", {}, {}).end("FAILED")
    assert not resume.every_job_runs(jobs[0])
    assert resume.every_job_runs(grid_config(store, "sweep.resume=false"))
