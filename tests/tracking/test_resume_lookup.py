"""A grid's resume lookup: asked once, for every job, in the launching process."""

from hydra import compose, initialize_config_dir

from scratchnet.config import config_hash, register_configs
from scratchnet.core.paths import config_dir
from scratchnet.sweep import resume
from scratchnet.sweep.job import finished_twin
from scratchnet.tracking.names import CONFIG_HASH_TAG
from scratchnet.tracking.recorder import RunRecorder
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
