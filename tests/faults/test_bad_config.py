"""Bad configuration: one line on stderr naming the key, the value and what is allowed, exit 2,
and no MLflow run at all, whether for a single run or for any job of a sweep's grid."""

from pathlib import Path

import pytest
from faults_support import error_line, store_runs, train

pytestmark = pytest.mark.slow

# (overrides, what the error line must contain: the key and value, then what is allowed)
SINGLE_RUN_CASES = {
    "wrong type for a float": (["trainer.lr=abc"], ["trainer.lr=abc", "allowed: a number"]),
    "wrong type for an integer": (
        ["model.hidden_size=1.5"],
        ["model.hidden_size=1.5", "allowed: an integer"],
    ),
    "wrong type for a bool": (
        ["data.normalize=maybe"],
        ["data.normalize=maybe", "allowed: true or false"],
    ),
    "negative lr": (["trainer.lr=-1"], ["trainer.lr=-1.0", "allowed: a finite number > 0"]),
    "zero lr": (["trainer.lr=0"], ["trainer.lr=0.0", "allowed: a finite number > 0"]),
    "NaN lr": (["trainer.lr=nan"], ["trainer.lr=nan", "allowed: a finite number > 0"]),
    "infinite lr": (["trainer.lr=inf"], ["trainer.lr=inf", "allowed: a finite number > 0"]),
    "zero batch size": (["trainer.batch_size=0"], ["trainer.batch_size=0", "integer >= 1"]),
    "negative hidden size": (
        ["model.hidden_size=-5"],
        ["model.hidden_size=-5", "allowed: an integer >= 1"],
    ),
    "zero epochs": (["trainer.epochs=0"], ["trainer.epochs=0", "allowed: an integer >= 1"]),
    "NaN flush interval": (
        ["tracking.flush_seconds=nan"],
        ["tracking.flush_seconds=nan", "allowed: a finite number >= 0"],
    ),
    "a run name longer than MLflow's 250": (
        [f"tracking.run_name={'r' * 300}"],
        ["tracking.run_name=", "(300 characters)", "allowed: at most 250 characters"],
    ),
    "an experiment name longer than MLflow's 256": (
        [f"tracking.experiment={'e' * 300}"],
        ["tracking.experiment=", "(300 characters)", "allowed: at most 256 characters"],
    ),
    "unknown dataset option": (["data=nope"], ["data/nope", "allowed: digits, fashion_mnist"]),
    "unknown trainer option": (["trainer=adam"], ["trainer/adam", "allowed: minibatch"]),
    "unknown optimizer option": (
        ["optimizer=adamw"],
        ["optimizer/adamw", "allowed: adagrad, adam, momentum, nesterov, rmsprop, sgd"],
    ),
    "a hyperparameter the optimizer has not": (
        ["optimizer=adam", "optimizer.momentum=0.5"],
        ["optimizer.momentum", "allowed keys: name, book_lr, beta1, beta2"],
    ),
    "a momentum of 1": (
        ["optimizer=momentum", "optimizer.momentum=1"],
        ["optimizer.momentum=1.0", "allowed: a number in [0, 1)"],
    ),
    "an unknown initialisation": (
        ["model.weight_init_std=glorot"],
        ["model.weight_init_std='glorot'", "or one of xavier, sigmoid, he, relu"],
    ),
    "a dropout ratio of 1": (
        ["model.dropout_ratio=1"],
        ["model.dropout_ratio=1.0", "allowed: a number in [0, 1)"],
    ),
    "unknown dataset name": (["data.name=nope"], ["data.name='nope'", "allowed: digits"]),
    "typo in a key": (["trainer.lrr=0.1"], ["trainer.lrr", "allowed keys: name, lr"]),
    "typo in a group": (["trainerr.lr=0.1"], ["trainerr", "allowed keys: data, model"]),
    "train_size above the data": (
        ["data.train_size=100000"],
        ["data.train_size=100000", "allowed: 1..1212"],
    ),
    "batch_size above train_size": (
        ["data.train_size=50", "trainer.batch_size=64"],
        ["trainer.batch_size=64", "allowed: 1..50"],
    ),
    "empty value": (["trainer.lr="], ["trainer.lr=", "allowed: a number"]),
    "empty list": (["trainer.lr=[]"], ["trainer.lr=[]", "allowed: a number"]),
    "epochs and iters_num both set": (
        ["trainer.epochs=5", "trainer.iters_num=100"],
        ["trainer.epochs=5", "trainer.iters_num=100", "set exactly one"],
    ),
    "neither epochs nor iters_num": (
        ["trainer.epochs=null"],
        ["trainer.epochs=None", "set exactly one"],
    ),
    "unknown activation": (
        ["model.activation=tanh"],
        ["model.activation='tanh'", "allowed: sigmoid, relu"],
    ),
    "test_fraction outside (0, 1)": (
        ["data.test_fraction=1.5"],
        ["data.test_fraction=1.5", "strictly between 0 and 1"],
    ),
    "divergence factor below 1": (
        ["trainer.divergence_factor=0.5"],
        ["trainer.divergence_factor=0.5", "a finite number > 1, or null"],
    ),
}


@pytest.mark.parametrize(
    ("overrides", "named"), SINGLE_RUN_CASES.values(), ids=list(SINGLE_RUN_CASES)
)
def test_a_bad_value_is_one_line_naming_it_exit_2_and_no_run(
    tmp_path: Path, store_uri: str, overrides: list[str], named: list[str]
) -> None:
    line = error_line(train(store_uri, *overrides, cwd=tmp_path))
    for text in named:
        assert text in line
    assert store_runs(store_uri) == []


def unusable_stores(tmp_path: Path) -> dict[str, str]:
    """Tracking URIs that cannot hold a store, by why."""
    a_file = tmp_path / "afile"
    a_file.write_text("not a folder\n")
    not_a_db = tmp_path / "notes.db"
    not_a_db.write_text("my notes\n")
    return {
        "a path under a regular file": f"sqlite:///{a_file}/mlflow.db",
        "a folder of a read-only file system": "sqlite:////proc/scratchnet/mlflow.db",
        "an existing file that is not SQLite": f"sqlite:///{not_a_db}",
        "a relative sqlite URI without ///": "sqlite:mlflow.db",
        "an unknown scheme": "nosuchscheme://somewhere",
        "the file store MLflow 3 refuses": f"file://{tmp_path / 'mlruns'}",
    }


@pytest.mark.parametrize(
    "why",
    [
        "a path under a regular file",
        "a folder of a read-only file system",
        "an existing file that is not SQLite",
        "a relative sqlite URI without ///",
        "an unknown scheme",
        "the file store MLflow 3 refuses",
    ],
)
def test_an_unusable_tracking_uri_is_one_line_exit_2_and_nothing_written(
    tmp_path: Path, why: str
) -> None:
    uri = unusable_stores(tmp_path)[why]
    before = files_outside_outputs(tmp_path)
    line = error_line(train(uri, cwd=tmp_path))
    assert f"tracking.uri={uri!r}" in line
    assert "allowed: " in line
    assert files_outside_outputs(tmp_path) == before


def files_outside_outputs(folder: Path) -> dict[Path, bytes]:
    """Every file under `folder` and its bytes, but Hydra's own outputs/ run folders."""
    return {
        p: p.read_bytes() for p in folder.rglob("*") if p.is_file() and "outputs" not in p.parts
    }


# ---------------------------------------------------------------- sweeps (-m)

GRID_CASES = {
    "one bad value in a list": (["trainer.lr=0.1,-1"], ["trainer.lr=-1.0", "sweep job #1 of 2"]),
    "an empty sweep": (["trainer.lr=range(0)"], ["trainer.lr=range(0)", "sweeps over no values"]),
    "an empty choice": (["trainer.lr=choice()"], ["trainer.lr=choice()", "empty choice"]),
    "a wrong type in a list": (
        ["trainer.lr=0.1,abc"],
        ["trainer.lr=abc", "allowed: a number", "sweep job #1 of 2"],
    ),
    "an unknown group option in a list": (
        ["data=digits,nope"],
        ["data/nope", "allowed: digits, fashion_mnist, mnist", "sweep job #1 of 2: data=nope"],
    ),
    "a batch size above one job's training set": (
        ["data.train_size=50,400", "trainer.batch_size=100"],
        ["trainer.batch_size=100", "allowed: 1..50", "sweep job #0 of 2: data.train_size=50"],
    ),
    "an experiment name longer than MLflow's 256": (
        [f"tracking.experiment={'e' * 300}", "seed=0,1"],
        ["tracking.experiment=", "(300 characters)", "at most 256", "sweep job #0 of 2"],
    ),
    "a study grid clashing with an override": (
        ["experiment=train_size", "trainer.batch_size=64"],
        ["trainer.batch_size=64", "allowed: 1..50", "sweep job #0 of 6: data.train_size=50"],
    ),
}


@pytest.mark.parametrize(("overrides", "named"), GRID_CASES.values(), ids=list(GRID_CASES))
def test_a_bad_grid_is_one_line_exit_2_before_any_run_even_the_parent(
    tmp_path: Path, store_uri: str, overrides: list[str], named: list[str]
) -> None:
    line = error_line(train(store_uri, *overrides, "trainer.epochs=1", cwd=tmp_path, multirun=True))
    for text in named:
        assert text in line
    assert store_runs(store_uri) == []


def test_a_bad_grid_in_a_parallel_sweep_starts_no_worker_and_no_run(
    tmp_path: Path, store_uri: str
) -> None:
    done = train(
        store_uri,
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        "model.hidden_size=10,0",
        cwd=tmp_path,
        multirun=True,
    )
    assert "model.hidden_size=0" in error_line(done)
    assert store_runs(store_uri) == []
