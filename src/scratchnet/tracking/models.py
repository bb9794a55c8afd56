"""A run's trained net as an MLflow model, and back: `scratchnet.load_net(run_id)`.

The model is a pyfunc whose loader module is `scratchnet.tracking.netmodel`, with a signature
(features in, `label` out, `params={"probabilities": True}` for each class's probability), an
input example and pinned requirements, so nothing is inferred. It is the run's artifact folder
`model` (`runs:/<run id>/model`), uploaded with the run's other files in one call and listed in
the run's `mlflow.log-model.history` tag, as MLflow logged models before its LoggedModel
entity: that entity costs four more store calls per run (benchmarks/bench_model_logging.py).
`mlflow.pyfunc.save_model` writes a folder whose environment files, signature and example are
the same for every net of one kind (input and output sizes, activation, dtype, dataset; any
hidden size): a process saves it once per kind and each run writes only its weights (one file)
and its MLmodel (its shared YAML emitted once).
"""

import contextlib
import copy
import dataclasses
import datetime
import json
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import yaml
from mlflow.environment_variables import MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR
from mlflow.models import Model, ModelSignature
from mlflow.models.model import MLMODEL_FILE_NAME
from mlflow.pyfunc import FLAVOR_NAME as PYFUNC
from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema, TensorSpec
from omegaconf import DictConfig, OmegaConf

import scratchnet
from scratchnet.core.paths import tracking_uri
from scratchnet.data import Dataset
from scratchnet.nn import TwoLayerNet
from scratchnet.tracking import netmodel
from scratchnet.tracking.names import (
    CONFIG_ARTIFACT,
    FINISHED,
    LABEL_COLUMN,
    LOGGED_MODELS_TAG,
    MODEL_ARTIFACT,
    MODEL_NET_FILE,
    PROBABILITIES_PARAM,
    PROBABILITY_COLUMN,
)
from scratchnet.tracking.pins import pins_mapped
from scratchnet.tracking.store import StoreError, open_client, store_errors

EXAMPLE_ROWS = 3  # test images in the input example
MODEL_RUNS_SEARCHED = 100  # newest finished runs looked through for one with a model
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


@contextlib.contextmanager
def no_download_bar() -> Iterator[None]:
    """Keep MLflow's artifact download bar off the console inside the block."""
    name = MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR.name
    before = os.environ.get(name)
    os.environ[name] = "false"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def save_model(net: TwoLayerNet, data: Dataset, folder: Path) -> Path:
    """Write the net as a pyfunc model folder (`folder` must not exist yet); returns it."""
    pins = requirements()
    with (
        tempfile.TemporaryDirectory(prefix="scratchnet-net-") as tmp,
        quiet("mlflow.pyfunc"),  # its INFO line that it checks the example against the signature
        pins_mapped(pins),  # MLflow checks the pins without scanning every distribution
    ):
        net_file = netmodel.write_net(net, Path(tmp) / MODEL_NET_FILE)  # copied into the model
        mlflow.pyfunc.save_model(
            path=str(folder),
            loader_module=netmodel.__name__,
            data_path=str(net_file),
            signature=signature(net),
            input_example=np.ascontiguousarray(data.x_test[:EXAMPLE_ROWS], dtype=net.dtype),
            pip_requirements=pins,
            metadata=metadata(net, data),
        )
    return folder


NetKind = tuple[int, int, str, str, str, float]
PER_RUN = (
    "run_id",
    "artifact_path",
    "model_uuid",
    "utc_time_created",
    "metadata",
    "model_size_bytes",
)


@dataclasses.dataclass(frozen=True)
class Template:
    """A kind's model folder as `mlflow.pyfunc.save_model` wrote it, its MLmodel, and that
    MLmodel's YAML without the fields each run sets (YAML emitting is the costly part), and the
    size of its own weights file, which MLflow's `model_size_bytes` counts."""

    holder: tempfile.TemporaryDirectory
    model: Model
    shared_yaml: str
    weights_bytes: int

    @property
    def folder(self) -> Path:
        return Path(self.holder.name) / MODEL_ARTIFACT


_TEMPLATES: dict[NetKind, Template] = {}


def net_kind(net: TwoLayerNet, data: Dataset) -> NetKind:
    """What the model folder depends on besides the weights file: the input and output sizes
    (the signature, the example), activation, dtype and data; not the hidden size."""
    n_in, n_out = net.params["W1"].shape[0], net.params["W2"].shape[1]
    return (n_in, n_out, net.activation, net.dtype.name, data.name, data.scale)


def to_yaml(fields: dict) -> str:
    return yaml.dump(fields, Dumper=YAML_DUMPER, default_flow_style=False)


def template(net: TwoLayerNet, data: Dataset) -> Template:
    """The model folder `mlflow.pyfunc.save_model` writes for nets of this kind: saved with the
    first such net of the process (its input example is the first test rows of that net's
    data) and kept."""
    kind = net_kind(net, data)
    if kind not in _TEMPLATES:
        if len(_TEMPLATES) >= TEMPLATES_KEPT:  # a process given many kinds of data or net
            _TEMPLATES.pop(next(iter(_TEMPLATES))).holder.cleanup()
        holder = tempfile.TemporaryDirectory(prefix="scratchnet-model-template-")
        folder = save_model(net, data, Path(holder.name) / MODEL_ARTIFACT)
        model = Model.load(str(folder))
        shared = {k: v for k, v in model.to_dict().items() if k not in PER_RUN}
        weights = (folder / model.flavors[PYFUNC]["data"]).stat().st_size
        _TEMPLATES[kind] = Template(holder, model, to_yaml(shared), weights)
    return _TEMPLATES[kind]


def link_or_copy(source: str, target: str) -> None:
    """A hard link where the file system allows one (the template's files never change)."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def write_model(net: TwoLayerNet, data: Dataset, folder: Path, run_id: str, epoch: int) -> Model:
    """Write the run's model into `folder`: its kind's environment files, signature and example,
    this net's weights (after `epoch`), an MLmodel naming the run, the epoch and when it was
    made; returns the MLmodel."""
    kept = template(net, data)
    net_data = kept.model.flavors[PYFUNC]["data"]  # data/net.npz: the one file the run's own
    per_run = {MLMODEL_FILE_NAME, Path(net_data).name}
    shutil.copytree(
        kept.folder,
        folder,
        ignore=lambda _, names: per_run & set(names),
        copy_function=link_or_copy,
    )
    weights = netmodel.write_net(net, folder / net_data).stat().st_size
    model = copy.copy(kept.model)  # only the fields set below change; replaced, not edited
    model.run_id, model.artifact_path, model.model_uuid = run_id, MODEL_ARTIFACT, uuid.uuid4().hex
    if kept.model.model_size_bytes is not None:  # as MLflow counts it, with this net's weights
        model.model_size_bytes = kept.model.model_size_bytes - kept.weights_bytes + weights
    model.utc_time_created = str(datetime.datetime.now(datetime.UTC).replace(tzinfo=None))
    model.metadata = {**(model.metadata or {}), "epoch": epoch}
    own = {k: v for k, v in model.to_dict().items() if k in PER_RUN}
    (folder / MLMODEL_FILE_NAME).write_text(kept.shared_yaml + to_yaml(own))  # what Model.save
    return model


def model_tags(model: Model) -> dict[str, str]:
    """The run's tag that lists its models, as MLflow's stores write it (`record_logged_model`):
    the MLflow UI's Models column and run page read it."""
    return {LOGGED_MODELS_TAG: json.dumps([model.get_tags_dict()])}


def one_line(err: Exception) -> str:
    return " ".join(str(err).split())


def model_uri(run_id: str) -> str:
    """The URI MLflow loads a run's model from: `runs:/<run id>/model`."""
    return f"runs:/{run_id}/{MODEL_ARTIFACT}"


def load_net(run_id: str, uri: str | None = None) -> TwoLayerNet:
    """The TwoLayerNet that run `run_id` logged as its model: its final weights, or with early
    stopping and `restore_best` its best epoch's. `uri`: the store (default: the store rule)."""
    uri = tracking_uri(uri)
    with store_errors():
        open_client(uri).get_run(run_id)  # an unknown run is one line, before any download
    with tempfile.TemporaryDirectory(prefix="scratchnet-load-") as tmp, no_download_bar():
        try:
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=model_uri(run_id), dst_path=tmp, tracking_uri=uri
            )
            flavor = Model.load(local).flavors[PYFUNC]
        except (OSError, mlflow.exceptions.MlflowException) as err:
            raise StoreError(
                f"run {run_id} has no model {MODEL_ARTIFACT!r} (a run logs one unless it diverged "
                f"or ran with tracking.log_weights=false): {one_line(err)}"
            ) from err
        return netmodel.read_net(Path(local) / flavor["data"])


def latest_model_run(uri: str, experiment: str) -> str | None:
    """The id of the newest FINISHED run of `experiment` that logged a model; None when the
    store has no such experiment or run."""
    with store_errors():
        client = open_client(uri)
        found = client.get_experiment_by_name(experiment)
        if found is None:
            return None
        runs = client.search_runs(
            [found.experiment_id],
            filter_string=f"attributes.status = '{FINISHED}'",
            order_by=["attributes.start_time DESC"],
            max_results=MODEL_RUNS_SEARCHED,
        )
    return next((r.info.run_id for r in runs if LOGGED_MODELS_TAG in r.data.tags), None)


def run_config(uri: str, run_id: str) -> DictConfig:
    """The resolved config run `run_id` recorded (its `config.yaml`)."""
    with tempfile.TemporaryDirectory(prefix="scratchnet-config-") as tmp, no_download_bar():
        try:
            local = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=CONFIG_ARTIFACT, dst_path=tmp, tracking_uri=uri
            )
        except (OSError, mlflow.exceptions.MlflowException) as err:
            raise StoreError(f"run {run_id} has no {CONFIG_ARTIFACT}: {one_line(err)}") from err
        loaded = OmegaConf.load(local)
    assert isinstance(loaded, DictConfig)
    return loaded
