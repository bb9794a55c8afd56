"""Structured configs (typed by Hydra's ConfigStore) and the value checks types cannot express."""

import hashlib
import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from scratchnet.data.datasets import DATASETS
from scratchnet.errors import ConfigError

SAMPLINGS = ("shuffle", "with_replacement")
ACTIVATIONS = ("sigmoid", "relu")
DTYPES = ("float32", "float64")
# No "file": MLflow 3 refuses file stores (they are read-only, kept for migration).
URI_SCHEMES = ("sqlite", "http", "https", "postgresql", "postgresql+psycopg2", "databricks")
URI_ALLOWED = "sqlite:///path/to/mlflow.db, http(s)://host:port, postgresql://..."
SQLITE_MAGIC = b"SQLite format 3\x00"
MODELS = ("two_layer_net",)
TRAINERS = ("sgd",)
# Settings that change how a run is recorded or shown, not what it computes.
NON_IDENTITY_KEYS = ("tracking", "sweep", "trainer.progress")


@dataclass
class DataConfig:
    name: str = "digits"
    root: str | None = None
    cache_dir: str | None = None
    train_size: int | None = None
    test_fraction: float = 0.25
    normalize: bool = True


@dataclass
class ModelConfig:
    name: str = "two_layer_net"
    hidden_size: int = 50
    weight_init_std: float = 0.01
    activation: str = "sigmoid"
    dtype: str = "float32"


@dataclass
class TrainerConfig:
    name: str = "sgd"
    lr: float = 0.5
    batch_size: int = 32
    epochs: int | None = 30
    iters_num: int | None = None
    sampling: str = "shuffle"
    eval_chunk_size: int = 10000
    divergence_factor: float | None = 3.0
    progress: bool = True


@dataclass
class TrackingConfig:
    enabled: bool = True
    uri: str | None = None
    experiment: str = "scratchnet"
    run_name: str | None = None
    flush_seconds: float = 1.0
    log_weights: bool = True
    log_figure: bool = True


@dataclass
class SweepConfig:
    resume: bool = True


@dataclass
class StudyConfig:
    name: str = "default"
    description: str = "One TwoLayerNet trained with mini-batch SGD."


@dataclass
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    sweep: SweepConfig = field(default_factory=SweepConfig)
    study: StudyConfig = field(default_factory=StudyConfig)
    seed: int = 0


def register_configs() -> None:
    """Register the schemas so that every composed config is type-checked by Hydra."""
    ConfigStore.instance().store(name="base_config", node=Config)


def fail_value(key: str, value: Any, allowed: str) -> None:
    """Raise the one-line ConfigError: `key=value is not allowed (allowed: ...)`."""
    raise ConfigError(f"{key}={value!r} is not allowed (allowed: {allowed})")


def _check_positive(key: str, value: Any, *, integer: bool) -> None:
    if integer:
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            fail_value(key, value, "an integer >= 1")
    elif not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        fail_value(key, value, "a finite number > 0")


def check_choice(key: str, value: Any, choices: tuple[str, ...]) -> None:
    """One of `choices`."""
    if value not in choices:
        fail_value(key, value, ", ".join(choices))


def validate_config(cfg: DictConfig) -> None:
    """Raise ConfigError naming the first bad value; checks what the schema's types cannot."""
    t, m, d = cfg.trainer, cfg.model, cfg.data
    check_choice("data.name", d.name, tuple(sorted(DATASETS)))
    check_choice("model.name", m.name, MODELS)
    check_choice("trainer.name", t.name, TRAINERS)
    _check_positive("trainer.lr", t.lr, integer=False)
    _check_positive("trainer.batch_size", t.batch_size, integer=True)
    _check_positive("trainer.eval_chunk_size", t.eval_chunk_size, integer=True)
    if (t.epochs is None) == (t.iters_num is None):
        raise ConfigError(
            f"trainer.epochs={t.epochs} and trainer.iters_num={t.iters_num}: set exactly one "
            "(e.g. trainer.epochs=null trainer.iters_num=10000)"
        )
    if t.epochs is not None:
        _check_positive("trainer.epochs", t.epochs, integer=True)
    if t.iters_num is not None:
        _check_positive("trainer.iters_num", t.iters_num, integer=True)
    check_choice("trainer.sampling", t.sampling, SAMPLINGS)
    if t.divergence_factor is not None and not (
        math.isfinite(t.divergence_factor) and t.divergence_factor > 1
    ):
        fail_value("trainer.divergence_factor", t.divergence_factor, "a finite number > 1, or null")
    _check_positive("model.hidden_size", m.hidden_size, integer=True)
    _check_positive("model.weight_init_std", m.weight_init_std, integer=False)
    check_choice("model.activation", m.activation, ACTIVATIONS)
    check_choice("model.dtype", m.dtype, DTYPES)
    if d.train_size is not None:
        _check_positive("data.train_size", d.train_size, integer=True)
    if not 0 < d.test_fraction < 1:
        fail_value("data.test_fraction", d.test_fraction, "a number strictly between 0 and 1")
    if not isinstance(cfg.seed, int) or cfg.seed < 0:
        fail_value("seed", cfg.seed, "an integer >= 0")
    if cfg.tracking.enabled:
        check_tracking_uri(cfg.tracking.uri)
        if not math.isfinite(cfg.tracking.flush_seconds) or cfg.tracking.flush_seconds < 0:
            fail_value("tracking.flush_seconds", cfg.tracking.flush_seconds, "a finite number >= 0")
        if not cfg.tracking.experiment or not cfg.tracking.experiment.strip():
            fail_value("tracking.experiment", cfg.tracking.experiment, "a non-empty name")


def check_tracking_uri(uri: str | None) -> None:
    if uri is None:
        return
    scheme, sep, rest = uri.partition(":")
    if not sep or scheme not in URI_SCHEMES or not rest.strip("/"):
        fail_value("tracking.uri", uri, URI_ALLOWED)
    if scheme == "sqlite":
        _check_sqlite_uri(uri)


def _check_sqlite_uri(uri: str) -> None:
    """A SQLite store is an absolute path whose folder can be made, in a writable file system.

    Only reads the file system: the folder is created later, by `tracking.resolve_uri`.
    """
    if not uri.startswith("sqlite:///"):
        fail_value("tracking.uri", uri, "sqlite:///relative/path.db or sqlite:////absolute/path.db")
    db = Path(uri.removeprefix("sqlite:///")).expanduser().absolute()
    allowed = "a sqlite:/// path to a database file in a writable folder"
    if db.is_dir():
        fail_value("tracking.uri", uri, f"{allowed}; {db} is a folder")
    if db.is_file():
        with db.open("rb") as fh:
            head = fh.read(len(SQLITE_MAGIC))
        if head and head != SQLITE_MAGIC:
            fail_value("tracking.uri", uri, f"{allowed}; {db} exists and is not a SQLite database")
    folder = db.parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        fail_value("tracking.uri", uri, f"{allowed}; {folder} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK) or not _accepts_files(folder):
        fail_value("tracking.uri", uri, f"{allowed}; {folder} is not writable")


def _accepts_files(folder: Path) -> bool:
    """True if a file can be created in `folder` (os.access says yes to root on /proc, /sys)."""
    try:
        fd, name = tempfile.mkstemp(prefix=".scratchnet-probe-", dir=folder)
    except OSError:
        return False
    os.close(fd)
    os.unlink(name)
    return True


def check_batch_size(batch_size: int, train_size: int) -> None:
    """Batch size must fit the training set: the chapter samples `batch_size` of `train_size`."""
    if batch_size > train_size:
        fail_value("trainer.batch_size", batch_size, f"1..{train_size}, the training-set size")


def identity(cfg: DictConfig) -> dict[str, Any]:
    """The resolved config minus the settings that do not change what a run computes."""
    plain = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(plain, dict)
    for dotted in NON_IDENTITY_KEYS:
        *parents, leaf = dotted.split(".")
        node = plain
        for p in parents:
            node = node.get(p, {})
        node.pop(leaf, None)
    return plain


def config_hash(cfg: DictConfig) -> str:
    """SHA-256 of `identity(cfg)`: two runs with the same hash compute the same thing."""
    text = json.dumps(identity(cfg), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def flatten(cfg: DictConfig) -> dict[str, str]:
    """Dotted key -> string value of every leaf of the resolved config (MLflow params)."""
    out: dict[str, str] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{prefix}{k}.")
        else:
            out[prefix[:-1]] = "None" if node is None else str(node)

    walk(OmegaConf.to_container(cfg, resolve=True), "")
    return out
