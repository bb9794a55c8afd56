"""A training run's net as an MLflow model: pyfunc with a signature and an example, loadable by
`mlflow.pyfunc` and `mlflow models predict`, and back as a TwoLayerNet by `scratchnet.load_net`.

Real runs (`scratchnet.tracking.run.run`, digits, a few epochs) in a real SQLite store.
"""

import json
import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from mlflow.models import Model
from mlflow.tracking import MlflowClient

import scratchnet
from harness import BIN
from scratchnet.config import build_net, load_data, register_configs, train_options
from scratchnet.core.paths import config_dir
from scratchnet.nn import TwoLayerNet
from scratchnet.tracking import netmodel
from scratchnet.tracking.run import run
from scratchnet.tracking.store import StoreError
from scratchnet.training import train

TINY = ["trainer.progress=false", "tracking.log_figure=false", "data.train_size=300"]


def composed(uri: str, *overrides: str):
    register_configs()
    with initialize_config_dir(str(config_dir()), version_base="1.3"):
        return compose("config", overrides=[f"tracking.uri={uri}", *TINY, *overrides])


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('models') / 'mlflow.db'}"


@pytest.fixture(scope="module")
def plain(store):
    """A 5-epoch run: (its config, its outcome)."""
    cfg = composed(store, "trainer.epochs=5")
    return cfg, run(cfg)


@pytest.fixture(scope="module")
def stopped(store):
    """A run stopped early that ends with its best epoch's weights (restore_best)."""
    cfg = composed(
        store,
        "trainer.epochs=200",
        "trainer.lr=2.0",
        "trainer.batch_size=10",
        "trainer.early_stopping.patience=3",
    )
    return cfg, run(cfg)


def history(store: str, run_id: str, key: str) -> dict[int, float]:
    client = MlflowClient(tracking_uri=store)
    return {m.step: m.value for m in client.get_metric_history(run_id, key)}


def test_load_net_returns_the_runs_final_net(store, plain):
    cfg, outcome = plain
    net = scratchnet.load_net(outcome.run_id, store)
    data = load_data(cfg)
    assert isinstance(net, TwoLayerNet)
    assert net.params["W1"].shape == (64, 50) and net.dtype == np.float32
    final = history(store, outcome.run_id, "test_acc")[5]
    assert net.accuracy(data.x_test, data.t_test) == final


def test_load_net_returns_exactly_the_net_the_run_trained(store, plain):
    cfg, outcome = plain
    data = load_data(cfg)
    again = build_net(cfg, data)  # same config and seed: the same weights, bit for bit
    train(again, data, **train_options(cfg))
    loaded = scratchnet.load_net(outcome.run_id, store)
    settings = ("activation", "dtype", "dropout_ratio", "weight_decay_lambda")
    assert [getattr(loaded, k) for k in settings] == [getattr(again, k) for k in settings]
    for key in ("W1", "b1", "W2", "b2"):
        np.testing.assert_array_equal(loaded.params[key], again.params[key])
        assert loaded.params[key].dtype == again.params[key].dtype


def test_a_dropout_nets_file_rebuilds_its_inference_scaling_and_weight_decay(tmp_path):
    net = TwoLayerNet(64, 20, 10, weight_init_std=0.1, seed=3, dropout_ratio=0.5,
                      weight_decay_lambda=0.01)  # fmt: skip
    back = netmodel.read_net(netmodel.write_net(net, tmp_path / "net.npz"))
    x = np.random.default_rng(0).random((5, 64), dtype=np.float32)
    assert (back.dropout_ratio, back.weight_decay_lambda) == (0.5, 0.01)
    np.testing.assert_array_equal(back.predict(x), net.predict(x))
    assert float(back.loss(x, [1, 2, 3, 4, 5])) == float(net.loss(x, [1, 2, 3, 4, 5]))


def test_with_restore_best_the_model_is_the_best_epochs_net(store, stopped):
    cfg, outcome = stopped
    best, last = outcome.result.best_epoch, outcome.result.stopped_epoch
    assert best is not None and last is not None and best < last
    net = scratchnet.load_net(outcome.run_id, store)
    data = load_data(cfg)
    val_loss = history(store, outcome.run_id, "val_loss")
    assert float(net.loss(data.x_val, data.t_val)) == pytest.approx(val_loss[best], abs=1e-6)
    assert float(net.loss(data.x_val, data.t_val)) != pytest.approx(val_loss[last], abs=1e-6)
    mlmodel = Model.load(
        mlflow.artifacts.download_artifacts(
            f"runs:/{outcome.run_id}/model/MLmodel", tracking_uri=store
        )
    )
    assert mlmodel.metadata["epoch"] == best


def test_the_pyfunc_predicts_the_nets_classes_and_on_request_its_probabilities(store, plain):
    cfg, outcome = plain
    mlflow.set_tracking_uri(store)
    model = mlflow.pyfunc.load_model(f"runs:/{outcome.run_id}/model")
    net = scratchnet.load_net(outcome.run_id, store)
    x = load_data(cfg).x_test[:20]
    labels = model.predict(x)
    assert list(labels.columns) == ["label"]
    np.testing.assert_array_equal(labels["label"], net.predict(x).argmax(axis=1))
    both = model.predict(x, params={"probabilities": True})
    assert list(both.columns) == ["label", *(f"prob_{k}" for k in range(10))]
    np.testing.assert_allclose(both.iloc[:, 1:].to_numpy(), net.predict(x), rtol=1e-6)


def test_the_model_has_a_signature_an_input_example_and_pinned_requirements(store, plain):
    _, outcome = plain
    local = Path(
        mlflow.artifacts.download_artifacts(f"runs:/{outcome.run_id}/model", tracking_uri=store)
    )
    model = Model.load(str(local))
    assert model.signature.inputs.to_dict() == [
        {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": (-1, 64)}}
    ]
    assert model.signature.params.to_dict()[0]["name"] == "probabilities"
    assert model.run_id == outcome.run_id
    example = model.load_input_example(str(local))
    assert example.shape == (3, 64) and example.dtype == np.float32
    assert (local / "requirements.txt").read_text().splitlines()[0] == "scratchnet==0.1.0"


def test_each_run_has_its_own_weights_in_a_folder_like_its_kinds(store, plain):
    cfg, first = plain
    second = run(composed(store, "trainer.epochs=5", "seed=1"))
    folders = [
        Path(mlflow.artifacts.download_artifacts(f"runs:/{o.run_id}/model", tracking_uri=store))
        for o in (first, second)
    ]
    files = [sorted(str(p.relative_to(f)) for p in f.rglob("*") if p.is_file()) for f in folders]
    assert files[0] == files[1]
    weights = [np.load(f / "data" / "net.npz")["W1"] for f in folders]
    assert not np.array_equal(*weights)
    assert [Model.load(str(f)).run_id for f in folders] == [first.run_id, second.run_id]


def test_a_net_of_another_hidden_size_records_the_model_mlflow_itself_would_save(
    store, plain, tmp_path
):
    from scratchnet.tracking.models import save_model

    cfg, first = plain
    wider = run(composed(store, "trainer.epochs=5", "model.hidden_size=120"))
    data = load_data(cfg)
    for outcome in (first, wider):
        folder = mlflow.artifacts.download_artifacts(
            f"runs:/{outcome.run_id}/model", tracking_uri=store
        )
        logged = Model.load(folder)
        net = scratchnet.load_net(outcome.run_id, store)
        saved = Model.load(str(save_model(net, data, tmp_path / outcome.run_id)))
        assert logged.model_size_bytes == saved.model_size_bytes
        assert logged.signature == saved.signature
    assert net.params["W1"].shape[1] == 120


def test_the_runs_models_tag_names_the_model_for_the_ui(store, plain):
    _, outcome = plain
    tags = MlflowClient(tracking_uri=store).get_run(outcome.run_id).data.tags
    (logged,) = json.loads(tags["mlflow.log-model.history"])
    assert logged["artifact_path"] == "model"
    assert logged["run_id"] == outcome.run_id
    assert logged["flavors"]["python_function"]["loader_module"] == "scratchnet.tracking.netmodel"


def test_a_diverged_run_logs_no_model_and_load_net_says_so(store):
    outcome = run(composed(store, "trainer.epochs=20", "trainer.lr=1e6"))
    assert outcome.result.diverged and outcome.model_uri is None
    with pytest.raises(StoreError, match=f"run {outcome.run_id} has no model 'model'") as info:
        scratchnet.load_net(outcome.run_id, store)
    assert "\n" not in str(info.value)


def test_load_net_of_an_unknown_run_is_a_store_error(store, plain):
    with pytest.raises(StoreError, match="0123abcd"):
        scratchnet.load_net("0123abcd", store)


def test_import_scratchnet_stays_light_and_finds_load_net_on_use():
    code = (
        "import sys, scratchnet; light = 'mlflow' not in sys.modules; "
        "f = scratchnet.load_net; print(light, f.__module__)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.split() == ["True", "scratchnet.tracking.models"], done.stderr


@pytest.mark.slow
def test_mlflow_models_predict_serves_the_model_in_this_environment(store, plain, tmp_path):
    cfg, outcome = plain
    x = load_data(cfg).x_test[:4]
    (tmp_path / "in.json").write_text(json.dumps({"inputs": x.tolist()}))
    done = subprocess.run(
        [str(BIN / "mlflow"), "models", "predict", "-m", f"runs:/{outcome.run_id}/model"]
        + ["-i", str(tmp_path / "in.json"), "-t", "json", "--env-manager", "local"],
        capture_output=True,
        text=True,
        timeout=300,
        env={"MLFLOW_TRACKING_URI": store, "PATH": str(BIN)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    predictions = json.loads(done.stdout.strip().splitlines()[-1])["predictions"]
    expected = scratchnet.load_net(outcome.run_id, store).predict(x).argmax(axis=1)
    assert [p["label"] for p in predictions] == expected.tolist()
