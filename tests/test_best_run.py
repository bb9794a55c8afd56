"""One rule names a sweep's best run: the parent's summary and the Optuna sweeper agree, ties
included (accuracies over a few hundred validation images tie often)."""

import math
from pathlib import Path

import optuna
import pytest
from mlflow.tracking import MlflowClient
from omegaconf import OmegaConf

from harness import all_runs, run_cli
from scratchnet.sweep.results import best_trial
from scratchnet.sweep.study import FINAL_LOSS_ATTR, RUN_ID_ATTR, RUN_NAME_ATTR
from scratchnet.tracking.best import Candidate, pick
from scratchnet.tracking.names import PARENT_TAG, SWEEP_PARENT_TAG


def test_a_tie_goes_to_the_lower_final_loss_then_the_name():
    tied = [Candidate("b", "run b", 0.9, 0.30), Candidate("a", "run a", 0.9, 0.20)]
    assert pick(tied).run_id == "a"
    same_loss = [Candidate("z", "run 2", 0.9, 0.2), Candidate("y", "run 1", 0.9, 0.2)]
    assert pick(same_loss).run_id == "y"
    assert pick([Candidate("n", "n", math.nan, 0.1)]) is None
    assert pick(tied + [Candidate("c", "run c", 0.1, 0.0)], maximize=False).run_id == "c"


def tied_study() -> optuna.Study:
    """Three completed trials, the first two tied on their value."""
    study = optuna.create_study(direction="maximize")
    for run, value, loss in (("r0", 0.9, 0.5), ("r1", 0.9, 0.4), ("r2", 0.8, 0.1)):
        attrs = {RUN_ID_ATTR: run, RUN_NAME_ATTR: f"name {run}", FINAL_LOSS_ATTR: loss}
        study.add_trial(optuna.trial.create_trial(value=value, user_attrs=attrs))
    return study


def test_the_sweepers_best_trial_is_the_trial_whose_run_the_rule_picks():
    study = tied_study()
    assert study.best_trial.number == 0  # Optuna's own rule: the first of the tied trials
    assert best_trial(study.trials, "maximize").number == 1  # the lower final loss
    assert best_trial(study.trials, "minimize").number == 2


@pytest.mark.slow
def test_on_a_tie_the_search_and_the_parent_name_the_same_best_run(tmp_path: Path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    done = run_cli(
        "scratchnet-train",
        "-m",
        "hparams_search=optuna",
        "hydra.sweeper.n_trials=3",
        # learning rates too small to move any prediction in one epoch: every trial ties
        "trainer.lr=tag(log, interval(0.000001, 0.000002))",
        "trainer.batch_size=32",
        "model.hidden_size=20",
        "trainer.epochs=1",
        "data.train_size=200",
        "trainer.progress=false",
        "tracking.log_weights=false",
        "tracking.log_figure=false",
        f"tracking.uri={uri}",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    runs = all_runs(MlflowClient(tracking_uri=uri))
    (parent,) = [r for r in runs if r.data.tags.get(SWEEP_PARENT_TAG) == "true"]
    kids = [r for r in runs if PARENT_TAG in r.data.tags]
    assert len({k.data.metrics["val_acc"] for k in kids}) == 1  # the tie this test is about
    (path,) = tmp_path.glob("multirun/*/*/optimization_results.yaml")
    results = OmegaConf.load(path)
    best = parent.data.tags["scratchnet.best_by_final_val_acc"]
    assert results.best_run == best
    by_id = {k.info.run_id: k for k in kids}
    assert by_id[results.best_run_id].info.run_name == best
    lowest = min(kids, key=lambda k: (k.data.metrics["val_loss"], k.info.run_name))
    assert best == lowest.info.run_name  # the tie went to the lower final validation loss
    log = done.stdout + done.stderr
    assert f"(run {best})" in log and f"best final val_acc: ('{best}'" in log
