"""Where relocation puts each recorded artifact location (the pure plan, no store)."""

from pathlib import Path

from scratchnet.tracking.relocation import local_path, plan
from scratchnet.tracking.sqlite_store import Recorded

OLD, NEW = Path("/old/clone/mlruns"), Path("/new/clone/mlruns")
RUN = "9626b1233f864bf5b36f98053cd064ad"


def exp(experiment_id: str, location: str) -> Recorded:
    return Recorded("experiments", experiment_id, experiment_id, location)


def run(experiment_id: str, location: str, run_id: str = RUN) -> Recorded:
    return Recorded("runs", run_id, experiment_id, location)


def test_scratchnets_artifact_root_moves_to_the_stores_artifacts_and_runs_follow():
    rows = [
        exp("1", (OLD / "artifacts").as_uri()),
        run("1", (OLD / "artifacts" / RUN / "artifacts").as_uri()),
    ]
    assert plan(rows, NEW) == {
        ("experiments", "1"): (NEW / "artifacts").as_uri(),
        ("runs", RUN): (NEW / "artifacts" / RUN / "artifacts").as_uri(),
    }


def test_mlflows_root_and_id_layout_keeps_the_experiment_id():
    rows = [exp("1", (OLD / "artifacts").as_uri()), exp("5", str(OLD / "artifacts" / "5"))]
    assert plan(rows, NEW)[("experiments", "5")] == str(NEW / "artifacts" / "5")


def test_a_default_experiment_under_the_old_folder_keeps_its_place():
    rows = [exp("1", (OLD / "artifacts").as_uri()), exp("0", str(OLD / "0"))]
    assert plan(rows, NEW)[("experiments", "0")] == str(NEW / "0")


def test_a_default_experiment_made_in_another_folder_moves_into_the_artifacts():
    rows = [exp("0", "/home/someone/mlruns/0")]
    assert plan(rows, NEW) == {("experiments", "0"): str(NEW / "artifacts" / "0")}


def test_locations_inside_the_store_and_on_other_schemes_are_left_alone():
    rows = [
        exp("1", (NEW / "artifacts").as_uri()),
        run("1", (NEW / "artifacts" / RUN / "artifacts").as_uri()),
        exp("2", "s3://bucket/artifacts"),
        exp("3", "mlflow-artifacts:/3"),
    ]
    assert plan(rows, NEW) == {}


def test_a_run_left_behind_by_its_experiment_follows_where_it_was_created():
    rows = [
        exp("1", (NEW / "artifacts").as_uri()),
        run("1", (OLD / "artifacts" / RUN / "artifacts").as_uri()),
    ]
    assert plan(rows, NEW) == {("runs", RUN): (NEW / "artifacts" / RUN / "artifacts").as_uri()}


def test_uris_stay_uris_with_their_escapes_and_paths_stay_paths():
    new = Path("/new/my clone/mlruns")
    rows = [
        exp("1", (OLD / "artifacts").as_uri()),
        exp("0", str(OLD / "0")),
        run("1", (OLD / "artifacts" / RUN / "artifacts").as_uri()),
    ]
    changes = plan(rows, new)
    assert changes[("runs", RUN)] == f"file:///new/my%20clone/mlruns/artifacts/{RUN}/artifacts"
    assert local_path(changes[("runs", RUN)]) == new / "artifacts" / RUN / "artifacts"
    assert changes[("experiments", "0")] == "/new/my clone/mlruns/0"


def test_a_known_old_folder_maps_everything_under_it_to_the_same_place():
    rows = [exp("0", str(OLD / "0")), exp("7", str(OLD / "custom"))]
    assert plan(rows, NEW, known_folders=[OLD]) == {
        ("experiments", "0"): str(NEW / "0"),
        ("experiments", "7"): str(NEW / "custom"),
    }


def test_a_plain_mlflow_store_moved_with_its_mlruns_folder_finds_it(tmp_path):
    new = tmp_path / "project"
    (new / "mlruns" / "0").mkdir(parents=True)  # mlflow.db beside mlruns/, MLflow's default
    rows = [
        exp("0", "/elsewhere/project/mlruns/0"),
        run("0", f"/elsewhere/project/mlruns/0/{RUN}/artifacts"),
    ]
    assert plan(rows, new) == {
        ("experiments", "0"): str(new / "mlruns" / "0"),
        ("runs", RUN): str(new / "mlruns" / "0" / RUN / "artifacts"),
    }
