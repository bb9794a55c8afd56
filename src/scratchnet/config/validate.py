"""The value checks a composed config needs beyond its types: ranges, choices, consistency.

Everything here only reads: a bad value is reported before anything is created (no folder,
store, dataset download or run), in the one message shape of `scratchnet.core.checks`.
"""

import contextlib
import os
import sqlite3
import tempfile
from pathlib import Path

from omegaconf import DictConfig

from scratchnet.core.checks import (
    check_choice,
    check_fraction,
    check_int,
    check_name,
    check_non_negative,
    check_open_fraction,
    check_positive,
    fail,
    is_number,
)
from scratchnet.core.errors import ConfigError
from scratchnet.data import DATASETS
from scratchnet.nn import OPTIMIZERS
from scratchnet.nn.two_layer_net import ACTIVATIONS, DTYPE_NAMES, check_init
from scratchnet.training import SAMPLINGS

MODELS = ("two_layer_net",)
TRAINERS = ("minibatch",)
# The optimizers' hyperparameters beside lr, each a number in [0, 1) (the schema types them).
HYPERPARAMETERS = ("momentum", "decay_rate", "beta1", "beta2")
# No "file": MLflow 3 refuses file stores (they are read-only, kept for migration).
URI_SCHEMES = ("sqlite", "http", "https", "postgresql", "postgresql+psycopg2", "databricks")
URI_ALLOWED = "sqlite:///path/to/mlflow.db, http(s)://host:port, postgresql://..."


def validate_config(cfg: DictConfig) -> None:
    """Raise ConfigError naming the first bad value; checks what the schema's types cannot."""
    check_data(cfg.data)
    check_model(cfg.model)
    check_optimizer(cfg.optimizer)
    check_trainer(cfg.trainer)
    check_early_stopping(cfg.trainer.early_stopping, cfg.data.val_fraction)
    check_int("seed", cfg.seed, 0)
    if cfg.tracking.enabled:
        check_tracking_uri(cfg.tracking.uri)
        check_non_negative("tracking.flush_seconds", cfg.tracking.flush_seconds)
        check_non_negative("tracking.server_wait_seconds", cfg.tracking.server_wait_seconds)
        check_name("tracking.experiment", cfg.tracking.experiment)


def check_data(d: DictConfig) -> None:
    """A known dataset, a train size >= 1 (or null) and a test fraction in (0, 1)."""
    check_choice("data.name", d.name, tuple(sorted(DATASETS)))
    if d.train_size is not None:
        check_int("data.train_size", d.train_size)
    check_open_fraction("data.test_fraction", d.test_fraction)
    check_fraction("data.val_fraction", d.val_fraction)


def check_model(m: DictConfig) -> None:
    """A TwoLayerNet with hidden units >= 1, an init std > 0 or by name, a known activation
    and dtype, weight decay lambda >= 0 and a dropout ratio in [0, 1)."""
    check_choice("model.name", m.name, MODELS)
    check_int("model.hidden_size", m.hidden_size)
    check_init("model.weight_init_std", m.weight_init_std)
    check_choice("model.activation", m.activation, tuple(ACTIVATIONS))
    check_choice("model.dtype", m.dtype, DTYPE_NAMES)
    check_non_negative("model.weight_decay_lambda", m.weight_decay_lambda)
    check_fraction("model.dropout_ratio", m.dropout_ratio)


def check_optimizer(o: DictConfig) -> None:
    """A known optimizer, its book_lr > 0, and its hyperparameters in [0, 1)."""
    check_choice("optimizer.name", o.name, tuple(OPTIMIZERS))
    check_positive("optimizer.book_lr", o.book_lr)
    for key in HYPERPARAMETERS:
        if key in o:
            check_fraction(f"optimizer.{key}", o[key])


def check_trainer(t: DictConfig) -> None:
    """lr > 0, batch size >= 1, exactly one of epochs and iters_num, a known sampling."""
    check_choice("trainer.name", t.name, TRAINERS)
    check_positive("trainer.lr", t.lr)
    check_int("trainer.batch_size", t.batch_size)
    check_int("trainer.eval_chunk_size", t.eval_chunk_size)
    if (t.epochs is None) == (t.iters_num is None):
        raise ConfigError(
            f"trainer.epochs={t.epochs} and trainer.iters_num={t.iters_num}: set exactly one "
            "(e.g. trainer.epochs=null trainer.iters_num=10000)"
        )
    if t.epochs is not None:
        check_int("trainer.epochs", t.epochs)
    if t.iters_num is not None:
        check_int("trainer.iters_num", t.iters_num)
    check_choice("trainer.sampling", t.sampling, SAMPLINGS)
    if t.divergence_factor is not None and not (
        is_number(t.divergence_factor) and t.divergence_factor > 1
    ):
        fail("trainer.divergence_factor", t.divergence_factor, "a finite number > 1, or null")
    check_int("trainer.divergence_patience", t.divergence_patience)


def check_early_stopping(e: DictConfig, val_fraction: float) -> None:
    """A patience >= 1 (or null: off) and min_delta >= 0; it watches the validation loss."""
    check_non_negative("trainer.early_stopping.min_delta", e.min_delta)
    if e.patience is None:
        return
    check_int("trainer.early_stopping.patience", e.patience)
    if val_fraction == 0:
        fail(
            "trainer.early_stopping.patience",
            e.patience,
            "null when data.val_fraction=0: early stopping watches the validation loss, "
            "and choosing when to stop on the test set would overfit it",
        )


def check_batch_size(batch_size: int, train_size: int) -> None:
    """Batch size must fit the training set: the chapter samples `batch_size` of `train_size`."""
    if batch_size > train_size:
        fail("trainer.batch_size", batch_size, f"1..{train_size}, the training-set size")


def check_tracking_uri(uri: str | None) -> None:
    """None (the default store), or a URI of a scheme MLflow 3 can write to."""
    if uri is None:
        return
    scheme, sep, rest = uri.partition(":")
    if not sep or scheme not in URI_SCHEMES or not rest.strip("/"):
        fail("tracking.uri", uri, URI_ALLOWED)
    if scheme == "sqlite":
        _check_sqlite_uri(uri)


def _check_sqlite_uri(uri: str) -> None:
    """A SQLite store is an absolute path whose folder can be made, in a writable file system.

    Only reads the file system: the folder is created later, by `tracking.store.resolve_uri`.
    """
    if not uri.startswith("sqlite:///"):
        fail("tracking.uri", uri, "sqlite:///relative/path.db or sqlite:////absolute/path.db")
    db = Path(uri.removeprefix("sqlite:///")).expanduser().absolute()
    allowed = "a sqlite:/// path to a database file in a writable folder"
    if db.is_dir():
        fail("tracking.uri", uri, f"{allowed}; {db} is a folder")
    if db.is_file() and not _is_sqlite_file(db):
        fail("tracking.uri", uri, f"{allowed}; {db} exists and is not a SQLite database")
    folder = db.parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        fail("tracking.uri", uri, f"{allowed}; {folder} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK) or not _accepts_files(folder):
        fail("tracking.uri", uri, f"{allowed}; {folder} is not writable")


def _is_sqlite_file(db: Path) -> bool:
    """Whether SQLite reads `db` as a database (an empty file is one).

    Asked of SQLite itself, never by opening the file by hand: closing any other descriptor
    of it would drop the POSIX locks this process's own connections hold (a sweep has its
    store open), and a WAL store then loses the commits that follow (sqlite.org/howtocorrupt,
    section 2.2).
    """
    try:
        with contextlib.closing(sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)) as con:
            con.execute("PRAGMA schema_version").fetchone()
    except sqlite3.OperationalError:  # cannot be opened (permissions): not this check's call
        return True
    except sqlite3.DatabaseError:  # "file is not a database"
        return False
    return True


def _accepts_files(folder: Path) -> bool:
    """True if a file can be created in `folder` (os.access says yes to root on /proc, /sys)."""
    try:
        fd, name = tempfile.mkstemp(prefix=".scratchnet-probe-", dir=folder)
    except OSError:
        return False
    os.close(fd)
    os.unlink(name)
    return True
