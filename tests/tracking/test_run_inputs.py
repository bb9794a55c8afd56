"""What a training run says it read and how it was made: its splits as MLflow dataset inputs
(our full-array digests, sizes, contexts), MLflow's source tags, and the experiment's kind.

Real runs (`scratchnet.tracking.run.run`, digits, 2 epochs) in a real SQLite store.
"""

import json

import pytest
from hydra import compose, initialize_config_dir
from mlflow.tracking import MlflowClient

from scratchnet.config import load_data, register_configs
from scratchnet.core.paths import config_dir
from scratchnet.tracking.run import run
from scratchnet.tracking.store import get_or_create_experiment, resolve_uri

QUICK = ["trainer.epochs=2", "trainer.progress=false", "tracking.log_figure=false"]
KIND = "mlflow.experimentKind"


def composed(uri: str, *overrides: str):
    register_configs()
    with initialize_config_dir(str(config_dir()), version_base="1.3"):
        return compose("config", overrides=[f"tracking.uri={uri}", *QUICK, *overrides])


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('inputs') / 'mlflow.db'}"


@pytest.fixture(scope="module")
def recorded(store):
    """A run with train, validation and test splits: (config, MLflow run)."""
    cfg = composed(store, "data.train_size=500")
    outcome = run(cfg)
    return cfg, MlflowClient(tracking_uri=store).get_run(outcome.run_id)


def inputs_by_context(mlflow_run) -> dict[str, object]:
    found = {}
    for dataset_input in mlflow_run.inputs.dataset_inputs:
        (context,) = [t.value for t in dataset_input.tags if t.key == "mlflow.data.context"]
        found[context] = dataset_input.dataset
    return found


def test_the_three_splits_are_dataset_inputs_in_their_contexts(recorded):
    _, mlflow_run = recorded
    found = inputs_by_context(mlflow_run)
    assert list(found) == ["training", "validation", "test"]
    assert [d.name for d in found.values()] == ["digits/train", "digits/val", "digits/test"]


def test_each_dataset_input_carries_our_full_array_digest_and_its_size(recorded):
    cfg, mlflow_run = recorded
    data = load_data(cfg)
    found = inputs_by_context(mlflow_run)
    for split, context, size in (
        ("train", "training", 500),
        ("val", "validation", data.val_size),
        ("test", "test", data.t_test.size),
    ):
        profile = json.loads(found[context].profile)
        assert profile["sha256"] == data.split_digest(split)
        assert found[context].digest == data.split_digest(split)[:36]
        assert profile["num_rows"] == size
        assert profile["dataset_sha256"] == mlflow_run.data.tags["scratchnet.dataset_digest"]
        assert json.loads(found[context].source) == {"uri": data.source}
        assert found[context].source_type == "local"


def test_the_dataset_inputs_schema_describes_pixels_and_labels(recorded):
    _, mlflow_run = recorded
    schema = json.loads(inputs_by_context(mlflow_run)["training"].schema)["mlflow_tensorspec"]
    assert json.loads(schema["features"]) == [
        {"type": "tensor", "tensor-spec": {"dtype": "uint8", "shape": [-1, 64]}, "name": "pixels"}
    ]
    assert json.loads(schema["targets"])[0]["tensor-spec"]["dtype"] == "int64"


def test_without_a_validation_split_two_datasets_are_recorded(store):
    outcome = run(composed(store, "data.val_fraction=0"))
    mlflow_run = MlflowClient(tracking_uri=store).get_run(outcome.run_id)
    assert list(inputs_by_context(mlflow_run)) == ["training", "test"]


def test_a_run_says_which_command_made_it(recorded):
    _, mlflow_run = recorded
    assert mlflow_run.data.tags["mlflow.source.name"] == "scratchnet-train"
    assert mlflow_run.data.tags["mlflow.source.type"] == "LOCAL"


def test_the_experiment_is_of_the_custom_model_development_kind(store, recorded):
    _, mlflow_run = recorded
    experiment = MlflowClient(tracking_uri=store).get_experiment(mlflow_run.info.experiment_id)
    assert experiment.tags[KIND] == "custom_model_development"


def test_an_experiment_made_without_the_kind_gets_it_and_another_kind_is_kept(store, tmp_path):
    uri = resolve_uri(store)  # the module's store: a new one would cost its migrations
    client = MlflowClient(tracking_uri=uri)
    bare = client.create_experiment("bare", artifact_location=(tmp_path / "a").as_uri())
    chosen = client.create_experiment("chosen", tags={KIND: "genai_development"})
    get_or_create_experiment(client, uri, "bare")
    get_or_create_experiment(client, uri, "chosen")
    assert client.get_experiment(bare).tags[KIND] == "custom_model_development"
    assert client.get_experiment(chosen).tags[KIND] == "genai_development"
