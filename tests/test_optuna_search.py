"""`hparams_search=optuna`: Bayesian trials as child runs of one sweep parent, seeded."""

import math
import subprocess
from pathlib import Path

import pytest
from hydra.core.utils import JobReturn, JobStatus
from mlflow.tracking import MlflowClient
from omegaconf import OmegaConf
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState

from harness import BIN, REPO, all_runs
from scratchnet.sweep.identity import grid_size
from scratchnet.sweep.optuna import batch_size, make_study, parse, search_space, trial_outcome
from scratchnet.tracking.names import PARENT_TAG, SWEEP_PARENT_TAG

SEARCH = REPO / "conf" / "hparams_search" / "optuna.yaml"
N_TRIALS = 4
ARGS = (
    "-m",
    "hparams_search=optuna",
    f"hydra.sweeper.n_trials={N_TRIALS}",
    "trainer.epochs=2",
    "data.train_size=200",
    "trainer.progress=false",
)


def search_params() -> dict[str, str]:
    """The search space as the config group defines it."""
    return OmegaConf.to_container(OmegaConf.load(SEARCH).hydra.sweeper.params)


def job(status: JobStatus, value: object) -> JobReturn:
    """A finished Hydra job as a launcher returns it."""
    return JobReturn(overrides=["trainer.lr=0.1"], status=status, _return_value=value)


def test_the_search_space_is_lr_on_a_log_scale_batch_size_and_hidden_size():
    dims, fixed = search_space(parse(search_params(), ["trainer.epochs=2"]))
    assert dims["trainer.lr"].distribution == FloatDistribution(0.01, 4.0, log=True)
    assert dims["trainer.batch_size"].distribution == CategoricalDistribution([16, 32, 64, 128])
    assert dims["model.hidden_size"].distribution == IntDistribution(10, 300, log=True)
    assert fixed == ["trainer.epochs=2"]
    assert grid_size([], search_params()) is None  # the parent records grid_size "unknown"


def test_the_command_line_overrides_and_extends_the_search_space():
    dims, fixed = search_space(parse(search_params(), ["trainer.lr=0.5", "seed=0,1"]))
    assert "trainer.lr" not in dims and fixed == ["trainer.lr=0.5"]
    assert dims["seed"].distribution == CategoricalDistribution([0, 1])
    assert dims["seed"].override(1) == "seed=1"


def test_sampled_floats_are_run_rounded_to_four_digits():
    dims, _ = search_space(parse(search_params(), []))
    assert dims["trainer.lr"].override(0.123456789) == "trainer.lr=0.1235"
    assert dims["model.hidden_size"].override(57) == "model.hidden_size=57"


def test_jobs_are_told_as_complete_pruned_or_failed():
    result = {"run_id": "r", "test_acc": 0.9, "test_loss": 0.3}
    assert trial_outcome(job(JobStatus.COMPLETED, result), "test_acc") == (TrialState.COMPLETE, 0.9)
    assert trial_outcome(job(JobStatus.COMPLETED, result), "test_loss")[1] == 0.3
    diverged = {**result, "diverged": True}
    assert trial_outcome(job(JobStatus.COMPLETED, diverged), "test_acc")[0] == TrialState.PRUNED
    nan = {**result, "test_acc": math.nan}
    assert trial_outcome(job(JobStatus.COMPLETED, nan), "test_acc")[0] == TrialState.FAIL
    crashed = job(JobStatus.FAILED, RuntimeError("boom"))
    assert trial_outcome(crashed, "test_acc") == (TrialState.FAIL, None)


def test_a_seeded_study_proposes_the_same_trials_and_another_seed_others():
    space = {"x": FloatDistribution(0.01, 4.0, log=True)}

    def proposals(seed: int) -> list[float]:
        study = make_study("maximize", seed, n_startup_trials=2)
        values = []
        for _ in range(4):
            trial = study.ask(space)
            study.tell(trial, -abs(math.log(trial.params["x"])))
            values.append(trial.params["x"])
        return values

    assert proposals(0) == proposals(0) != proposals(1)


def test_negative_n_jobs_counts_cores_like_joblib():
    assert batch_size(3) == 3
    assert batch_size(-1, cpus=2) == 2
    assert batch_size(-2, cpus=2) == 1


def start_sweep(folder: Path) -> subprocess.Popen:
    """`scratchnet-train -m hparams_search=optuna ...` on its own store in `folder`."""
    folder.mkdir()
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    args = [str(BIN / "scratchnet-train"), *ARGS, f"tracking.uri={uri}"]
    return subprocess.Popen(
        args, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> list[MlflowClient]:
    """Two identical seeded sweeps run at once, each in its own store."""
    root = tmp_path_factory.mktemp("optuna")
    procs = [start_sweep(root / name) for name in ("a", "b")]
    for proc in procs:
        output, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, output[-3000:]
    return [MlflowClient(f"sqlite:///{root / name / 'mlflow.db'}") for name in ("a", "b")]


def split(client: MlflowClient) -> tuple[list, list]:
    runs = all_runs(client)
    parents = [r for r in runs if r.data.tags.get(SWEEP_PARENT_TAG) == "true"]
    return parents, [r for r in runs if PARENT_TAG in r.data.tags]


def sampled(client: MlflowClient) -> set[tuple[str, str, str]]:
    _, kids = split(client)
    keys = ("trainer.lr", "trainer.batch_size", "model.hidden_size")
    return {tuple(k.data.params[key] for key in keys) for k in kids}


@pytest.mark.slow
def test_every_trial_is_a_finished_child_of_one_parent(stores):
    (parent,), kids = split(stores[0])
    assert len(kids) == N_TRIALS
    assert {k.data.tags[PARENT_TAG] for k in kids} == {parent.info.run_id}
    assert all(k.info.status == "FINISHED" for k in kids)
    assert parent.data.params["sweep.grid_size"] == "unknown"
    assert parent.data.params["sweep.sweeper"].endswith("scratchnet_optuna_sweeper.OptunaSweeper")
    assert parent.data.metrics["runs_finished"] == N_TRIALS


@pytest.mark.slow
def test_every_trial_has_its_metrics_at_every_epoch(stores):
    client = stores[0]
    for kid in split(client)[1]:
        for key in ("train_loss", "train_acc", "test_loss", "test_acc"):
            steps = sorted(m.step for m in client.get_metric_history(kid.info.run_id, key))
            assert steps == [0, 1, 2]


@pytest.mark.slow
def test_sampled_learning_rates_differ_within_the_log_range(stores):
    lrs = [float(lr) for lr, _, _ in sampled(stores[0])]
    assert len(set(lrs)) == N_TRIALS
    assert all(0.01 <= lr <= 4 for lr in lrs)
    sizes = {(int(bs), int(h)) for _, bs, h in sampled(stores[0])}
    assert all(bs in (16, 32, 64, 128) and 10 <= h <= 300 for bs, h in sizes)


@pytest.mark.slow
def test_the_same_seed_samples_the_same_trials_in_another_store(stores):
    assert sampled(stores[0]) == sampled(stores[1])
