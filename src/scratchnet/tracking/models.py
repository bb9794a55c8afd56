"""A run's trained net as an MLflow model, and back: `scratchnet.load_net(run_id)`.

The model is a pyfunc whose loader module is `scratchnet.tracking.netmodel`, with a signature
(features in, `label` out, `params={"probabilities": True}` for each class's probability), an
input example and pinned requirements, so nothing is inferred. It is the run's artifact folder
`model` (`runs:/<run id>/model`), uploaded with the run's other files in one call and listed in
the run's `mlflow.log-model.history` tag, as MLflow logged models before its LoggedModel
entity: that entity costs four more store calls per run (benchmarks/bench_model_logging.py).
`mlflow.pyfunc.save_model` writes a folder whose environment files, signature and example are
the same for every net of one kind (shape, dtype, dataset): a process saves it once per kind and
each run writes only its weights and its MLmodel.
"""

import contextlib
import copy
import datetime
import json
import logging
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import yaml
from mlflow.models import Model, ModelSignature
from mlflow.models.model import MLMODEL_FILE_NAME
from mlflow.pyfunc import FLAVOR_NAME as PYFUNC
from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema, TensorSpec

import scratchnet
from scratchnet.core.paths import tracking_uri
from scratchnet.data import Dataset
from scratchnet.nn import TwoLayerNet
from scratchnet.tracking import netmodel
from scratchnet.tracking.names import (
    LABEL_COLUMN,
    LOGGED_MODELS_TAG,
    MODEL_ARTIFACT,
    MODEL_NET_DIR,
    PROBABILITIES_PARAM,
    PROBABILITY_COLUMN,
)
from scratchnet.tracking.store import StoreError, open_client, store_errors

EXAMPLE_ROWS = 3  # test images in the input example
TEMPLATES_KEPT = 8  # model folders kept per process, one per kind of net
YAML_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # C when PyYAML has libyaml


def signature(net: TwoLayerNet) -> ModelSignature:
    """Rows of features in the net's dtype in; the class (and, asked for, probabilities) out."""
    n_in, n_out = net.params["W1"].shape[0], net.params["W2"].shape[1]
    inputs = Schema([TensorSpec(net.dtype, (-1, n_in))])
    probabilities = [
        ColSpec("double", PROBABILITY_COLUMN.format(k), required=False) for k in range(n_out)
    ]
    outputs = Schema([ColSpec("long", LABEL_COLUMN), *probabilities])
    params = ParamSchema([ParamSpec(PROBABILITIES_PARAM, "boolean", False)])
    return ModelSignature(inputs=inputs, outputs=outputs, params=params)


def requirements() -> list[str]:
    """What loading the model needs, pinned to the versions that saved it."""
    versions = {"mlflow": mlflow.__version__, "numpy": np.__version__, "pandas": pd.__version__}
    pins = [f"{name}=={version}" for name, version in versions.items()]
    return [f"scratchnet=={scratchnet.__version__}", *pins]


def metadata(net: TwoLayerNet, data: Dataset) -> dict[str, object]:
    """What a user of the model must know: the features it expects and the classes it gives."""
    return {
        "features": f"flattened pixels / {data.scale:g} ({data.name}), in {net.dtype.name}",
        "dataset": data.name,
        "classes": int(net.params["W2"].shape[1]),
    }


@contextlib.contextmanager
def quiet(logger_name: str) -> Iterator[None]:
    """Keep a logger to warnings and errors inside the block."""
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


def save_model(net: TwoLayerNet, data: Dataset, folder: Path) -> Path:
    """Write the net as a pyfunc model folder (`folder` must not exist yet); returns it."""
    with (
        tempfile.TemporaryDirectory(prefix="scratchnet-net-") as tmp,
        quiet("mlflow.pyfunc"),  # its INFO line that it checks the example against the signature
    ):
        net_dir = netmodel.write_net(net, Path(tmp) / MODEL_NET_DIR)  # copied into the model
        mlflow.pyfunc.save_model(
            path=str(folder),
            loader_module=netmodel.__name__,
            data_path=str(net_dir),
            signature=signature(net),
            input_example=np.ascontiguousarray(data.x_test[:EXAMPLE_ROWS], dtype=net.dtype),
            pip_requirements=requirements(),
            metadata=metadata(net, data),
        )
    return folder


NetKind = tuple[int, int, int, str, str, str, float]
_TEMPLATES: dict[NetKind, tuple[tempfile.TemporaryDirectory, Model]] = {}


def net_kind(net: TwoLayerNet, data: Dataset) -> NetKind:
    """What the model folder depends on besides the weights: shape, activation, dtype, data."""
    (n_in, n_hidden), n_out = net.params["W1"].shape, net.params["W2"].shape[1]
    return (n_in, n_hidden, n_out, net.activation, net.dtype.name, data.name, data.scale)


def template(net: TwoLayerNet, data: Dataset) -> tuple[Path, Model]:
    """The model folder `mlflow.pyfunc.save_model` writes for nets of this kind, and its MLmodel:
    saved with the first such net of the process (its input example is the first test rows of
    that net's data) and kept."""
    kind = net_kind(net, data)
    if kind not in _TEMPLATES:
        if len(_TEMPLATES) >= TEMPLATES_KEPT:  # an Optuna search may try many hidden sizes
            _TEMPLATES.pop(next(iter(_TEMPLATES)))[0].cleanup()
        tmp = tempfile.TemporaryDirectory(prefix="scratchnet-model-template-")
        folder = save_model(net, data, Path(tmp.name) / MODEL_ARTIFACT)
        _TEMPLATES[kind] = (tmp, Model.load(str(folder)))
    tmp, model = _TEMPLATES[kind]
    return Path(tmp.name) / MODEL_ARTIFACT, model


def write_model(net: TwoLayerNet, data: Dataset, folder: Path, run_id: str, epoch: int) -> Model:
    """Write the run's model into `folder`: its kind's environment files, signature and example,
    this net's weights (after `epoch`), an MLmodel naming the run, the epoch and when it was
    made; returns the MLmodel."""
    source, kept = template(net, data)
    net_data = kept.flavors[PYFUNC]["data"]  # data/net: the one folder that is the run's own
    per_run = {MLMODEL_FILE_NAME, Path(net_data).name}
    shutil.copytree(source, folder, ignore=lambda _, names: per_run & set(names))
    netmodel.write_net(net, folder / net_data)
    model = copy.copy(kept)  # only the fields set below change; they are replaced, not edited
    model.run_id, model.artifact_path, model.model_uuid = run_id, MODEL_ARTIFACT, uuid.uuid4().hex
    model.utc_time_created = str(datetime.datetime.now(datetime.UTC).replace(tzinfo=None))
    model.metadata = {**(model.metadata or {}), "epoch": epoch}
    with (folder / MLMODEL_FILE_NAME).open("w") as out:  # Model.save, with libyaml's emitter
        yaml.dump(model.to_dict(), out, Dumper=YAML_DUMPER, default_flow_style=False)
    return model


def model_tags(model: Model) -> dict[str, str]:
    """The run's tag that lists its models, as MLflow's stores write it (`record_logged_model`):
    the MLflow UI's Models column and run page read it."""
    return {LOGGED_MODELS_TAG: json.dumps([model.get_tags_dict()])}


def model_uri(run_id: str) -> str:
    """The URI MLflow loads a run's model from: `runs:/<run id>/model`."""
    return f"runs:/{run_id}/{MODEL_ARTIFACT}"


def load_net(run_id: str, uri: str | None = None) -> TwoLayerNet:
    """The TwoLayerNet that run `run_id` logged as its model: its final weights, or with early
    stopping and `restore_best` its best epoch's. `uri`: the store (default: the store rule)."""
    uri = tracking_uri(uri)
    with store_errors():
        open_client(uri).get_run(run_id)  # an unknown run is one line, before any download
    with tempfile.TemporaryDirectory(prefix="scratchnet-load-") as tmp:
        try:
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=model_uri(run_id), dst_path=tmp, tracking_uri=uri
            )
            flavor = Model.load(local).flavors[PYFUNC]
        except (OSError, mlflow.exceptions.MlflowException) as err:
            raise StoreError(
                f"run {run_id} has no model {MODEL_ARTIFACT!r} (a run logs one unless it diverged "
                f"or ran with tracking.log_weights=false): {' '.join(str(err).split())}"
            ) from err
        return netmodel.read_net(Path(local) / flavor["data"])
