"""`hparams_search=optuna`: Bayesian trials as child runs of one sweep parent, seeded, and
the study kept in a journal file per sweep, continued by a re-run and shown by the dashboard."""

import json
import math
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import optuna
import pytest
from hydra.core.utils import JobReturn, JobStatus
from hydra.errors import HydraException
from mlflow.tracking import MlflowClient
from omegaconf import OmegaConf
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from harness import BIN, REPO, all_runs
from scratchnet.core.paths import mlruns_dir
from scratchnet.sweep.identity import grid_size
from scratchnet.sweep.optuna import batch_size, parse, search_space, trial_outcome
from scratchnet.sweep.study import (
    OVERRIDES_ATTR,
    PARENT_ATTR,
    RUN_ID_ATTR,
    evaluated,
    journal_path,
    make_sampler,
    open_study,
    reask_interrupted,
    record_job,
    set_aside,
    store_key,
)
from scratchnet.tracking.names import PARENT_TAG, SWEEP_ID_TAG, SWEEP_PARENT_TAG

SEARCH = REPO / "conf" / "hparams_search" / "optuna.yaml"
N_TRIALS = 4
ARGS = (
    "-m",
    "hparams_search=optuna",
    "trainer.epochs=2",
    "data.train_size=200",
    "trainer.progress=false",
)
SPACE = {"x": FloatDistribution(0.01, 4.0, log=True)}


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


def search(study: optuna.Study, seed: int | None, n_trials: int) -> None:
    """Ask and tell one trial at a time, as the sweeper does with n_jobs=1, up to n_trials."""
    while len(evaluated(study)) < n_trials:
        study.sampler = make_sampler(seed, n_startup_trials=2, start=len(study.trials))
        trial = study.ask(SPACE)
        record_job(trial, [f"x={trial.params['x']}"], None)
        study.tell(trial, -abs(math.log(trial.params["x"])))


def proposals(study: optuna.Study) -> list[float]:
    return [t.params["x"] for t in study.trials]


def test_a_seeded_study_proposes_the_same_trials_and_another_seed_others(tmp_path):
    studies = [open_study(tmp_path / f"{i}.log", "s", "maximize", "y") for i in range(3)]
    for study, seed in zip(studies, (0, 0, 1), strict=True):
        search(study, seed, n_trials=5)
    assert proposals(studies[0]) == proposals(studies[1]) != proposals(studies[2])


def test_a_study_continued_from_its_journal_asks_what_one_run_asks(tmp_path):
    one_run = open_study(tmp_path / "one.log", "s", "maximize", "y")
    search(one_run, seed=0, n_trials=6)
    search(open_study(tmp_path / "two.log", "s", "maximize", "y"), seed=0, n_trials=3)
    continued = open_study(tmp_path / "two.log", "s", "maximize", "y")  # a re-run loads it
    assert len(evaluated(continued)) == 3
    search(continued, seed=0, n_trials=6)
    assert proposals(continued) == proposals(one_run)


def test_interrupted_trials_are_failed_and_their_params_asked_again_first(tmp_path):
    study = open_study(tmp_path / "j.log", "s", "maximize", "y")
    search(study, seed=0, n_trials=1)
    stale = study.ask(SPACE)  # the launching process dies while its job runs
    resumed = open_study(tmp_path / "j.log", "s", "maximize", "y")
    assert reask_interrupted(resumed) == [stale.number]
    assert resumed.trials[stale.number].state == TrialState.FAIL
    assert len(evaluated(resumed)) == 1  # the interrupted trial does not count
    assert resumed.ask(SPACE).params == stale.params


def test_a_study_of_another_objective_or_direction_is_refused(tmp_path):
    open_study(tmp_path / "j.log", "s", "maximize", "test_acc")
    with pytest.raises(HydraException, match="was run for test_acc \\(maximize\\)"):
        open_study(tmp_path / "j.log", "s", "minimize", "test_acc")
    with pytest.raises(HydraException, match="sweep.resume=false"):
        open_study(tmp_path / "j.log", "s", "maximize", "test_loss")


def test_sweep_resume_false_keeps_the_earlier_journal_aside(tmp_path):
    path = tmp_path / "abc.log"
    assert set_aside(path) is None
    search(open_study(path, "abc", "maximize", "y"), seed=0, n_trials=1)
    kept = set_aside(path)
    assert not path.exists() and kept is not None and kept.name.startswith("abc.")
    storage = JournalStorage(JournalFileBackend(str(kept)))
    assert len(optuna.load_study(study_name="abc", storage=storage).trials) == 1


def test_the_journal_is_beside_a_sqlite_store_and_in_mlruns_otherwise(tmp_path):
    store = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    assert journal_path(store, "abc") == tmp_path / "store" / "optuna" / "abc.log"
    assert journal_path(None, "abc") == mlruns_dir() / "optuna" / "abc.log"
    assert journal_path("http://head-node:5000", "abc") == mlruns_dir() / "optuna" / "abc.log"
    assert journal_path(store, "abc", str(tmp_path / "j.log")) == tmp_path / "j.log"


def test_negative_n_jobs_counts_cores_like_joblib():
    assert batch_size(3) == 3
    assert batch_size(-1, cpus=2) == 2
    assert batch_size(-2, cpus=2) == 1


def start_sweep(folder: Path, n_trials: int, db: str = "mlflow.db") -> subprocess.Popen:
    """`scratchnet-train -m hparams_search=optuna ...` on its own store `db` in `folder`."""
    folder.mkdir(exist_ok=True)
    uri = f"sqlite:///{folder / db}"
    args = [str(BIN / "scratchnet-train"), *ARGS, f"hydra.sweeper.n_trials={n_trials}"]
    return subprocess.Popen(
        [*args, f"tracking.uri={uri}"],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(proc: subprocess.Popen) -> str:
    output, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, output[-3000:]
    return output


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, MlflowClient, str]]:
    """The seeded sweep to 4 trials in store `a`; at the same time in store `b`, the same sweep
    to 2 trials, then re-run to 4. Each: (folder, client, the last sweep's output)."""
    root = tmp_path_factory.mktemp("optuna")
    one_run = start_sweep(root / "a", N_TRIALS)
    finish(start_sweep(root / "b", 2))
    outputs = {"b": finish(start_sweep(root / "b", N_TRIALS)), "a": finish(one_run)}
    return {
        name: (root / name, MlflowClient(f"sqlite:///{root / name / 'mlflow.db'}"), output)
        for name, output in outputs.items()
    }


def split(client: MlflowClient) -> tuple[list, list]:
    runs = all_runs(client)
    parents = [r for r in runs if r.data.tags.get(SWEEP_PARENT_TAG) == "true"]
    return parents, [r for r in runs if PARENT_TAG in r.data.tags]


def sampled(client: MlflowClient) -> set[tuple[str, str, str]]:
    _, kids = split(client)
    keys = ("trainer.lr", "trainer.batch_size", "model.hidden_size")
    return {tuple(k.data.params[key] for key in keys) for k in kids}


def load_journal(folder: Path, client: MlflowClient) -> tuple[Path, optuna.Study]:
    """The sweep's study, loaded back with Optuna's own API from the journal beside the store."""
    (parent,), _ = split(client)
    sid = parent.data.tags[SWEEP_ID_TAG]
    path = folder / "optuna" / f"{sid}.log"
    storage = JournalStorage(JournalFileBackend(str(path)))
    return path, optuna.load_study(study_name=sid, storage=storage)


@pytest.mark.slow
def test_every_trial_is_a_finished_child_of_one_parent(stores):
    (parent,), kids = split(stores["a"][1])
    assert len(kids) == N_TRIALS
    assert {k.data.tags[PARENT_TAG] for k in kids} == {parent.info.run_id}
    assert all(k.info.status == "FINISHED" for k in kids)
    assert parent.data.params["sweep.grid_size"] == "unknown"
    assert parent.data.params["sweep.sweeper"].endswith("scratchnet_optuna_sweeper.OptunaSweeper")
    assert parent.data.metrics["runs_finished"] == N_TRIALS


@pytest.mark.slow
def test_every_trial_has_its_metrics_at_every_epoch(stores):
    client = stores["a"][1]
    for kid in split(client)[1]:
        for key in ("train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc"):
            steps = sorted(m.step for m in client.get_metric_history(kid.info.run_id, key))
            assert steps == [0, 1, 2]


@pytest.mark.slow
def test_sampled_learning_rates_differ_within_the_log_range(stores):
    lrs = [float(lr) for lr, _, _ in sampled(stores["a"][1])]
    assert len(set(lrs)) == N_TRIALS
    assert all(0.01 <= lr <= 4 for lr in lrs)
    sizes = {(int(bs), int(h)) for _, bs, h in sampled(stores["a"][1])}
    assert all(bs in (16, 32, 64, 128) and 10 <= h <= 300 for bs, h in sizes)


@pytest.mark.slow
def test_the_study_loads_back_from_its_journal_with_the_child_runs_values(stores):
    folder, client, _ = stores["a"]
    path, study = load_journal(folder, client)
    (parent,), kids = split(client)
    runs = {k.info.run_id: k for k in kids}
    print(f"\nstudy {study.study_name} ({study.direction.name.lower()} "
          f"{study.user_attrs['objective']}) from {path}:")  # fmt: skip
    for trial in study.trials:
        run = runs[trial.user_attrs[RUN_ID_ATTR]]
        print(f"  trial {trial.number} {trial.state.name} value={trial.value:.6f} "
              f"{' '.join(trial.user_attrs[OVERRIDES_ATTR])} -> run {run.info.run_id} "
              f"val_acc={run.data.metrics['val_acc']:.6f}")  # fmt: skip
        assert study.user_attrs["objective"] == "val_acc"  # chosen on validation, never test
        assert trial.state == TrialState.COMPLETE
        assert trial.value == run.data.metrics["val_acc"]
        for override in trial.user_attrs[OVERRIDES_ATTR]:
            key, value = override.split("=")
            assert float(run.data.params[key]) == float(value)
    assert sorted(runs) == sorted(t.user_attrs[RUN_ID_ATTR] for t in study.trials)
    assert study.user_attrs[PARENT_ATTR] == parent.info.run_id


@pytest.mark.slow
def test_a_rerun_with_more_trials_continues_the_study_as_one_run_would(stores):
    folder, client, output = stores["b"]
    assert "2 of 4 trials done" in output
    (parent,), kids = split(client)
    assert len(kids) == N_TRIALS  # the first 2 trials were not asked (or run) again
    assert {k.data.tags[PARENT_TAG] for k in kids} == {parent.info.run_id}
    assert len(load_journal(folder, client)[1].trials) == N_TRIALS
    assert sampled(client) == sampled(stores["a"][1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


@pytest.mark.slow
@pytest.mark.skipif(not (BIN / "optuna-dashboard").exists(), reason="pip install -e '.[dashboard]'")
def test_optuna_dashboard_shows_the_study_on_loopback(stores):
    folder, client, _ = stores["a"]
    path, study = load_journal(folder, client)
    port = free_port()
    cmd = [str(BIN / "optuna-dashboard"), str(path), "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                studies = get_json(f"http://127.0.0.1:{port}/api/studies")["study_summaries"]
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "no dashboard"
                time.sleep(0.25)
        (shown,) = studies
        detail = get_json(f"http://127.0.0.1:{port}/api/studies/{shown['study_id']}")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert shown["study_name"] == study.study_name
    assert [t["values"][0] for t in detail["trials"]] == [t.value for t in study.trials]


def test_a_study_is_refused_to_the_same_sweep_against_another_store(tmp_path):
    path = tmp_path / "j.log"
    search(open_study(path, "s", "maximize", "y", store="mlflow.db"), seed=0, n_trials=1)
    with pytest.raises(HydraException, match="store mlflow.db, not http://head-node:5000; .*"):
        open_study(path, "s", "maximize", "y", store="http://head-node:5000")
    again = open_study(path, "s", "maximize", "y", store="mlflow.db")
    assert len(evaluated(again)) == 1


def test_a_store_is_known_by_its_file_name_or_its_server(tmp_path):
    folder = tmp_path / "store"
    assert store_key(f"sqlite:///{folder / 'mlflow.db'}") == "mlflow.db"
    assert store_key(f"sqlite:///{tmp_path / 'moved' / 'mlflow.db'}") == "mlflow.db"
    assert store_key(f"sqlite:///{folder / 'other.db'}") == "other.db"
    assert store_key("http://head-node:5000/") == "http://head-node:5000"


@pytest.mark.slow
def test_the_same_search_into_a_second_store_of_its_folder_stops_in_one_line(tmp_path):
    finish(start_sweep(tmp_path, 1))
    second = start_sweep(tmp_path, 1, db="other.db")
    output, _ = second.communicate(timeout=300)
    assert second.returncode == 2, output[-3000:]
    (line,) = [x for x in output.splitlines() if x.startswith("scratchnet-train: error:")]
    assert "in the store mlflow.db, not other.db" in line and "hydra.sweeper.journal" in line
    runs = all_runs(MlflowClient(f"sqlite:///{tmp_path / 'other.db'}"))
    assert not [r for r in runs if PARENT_TAG in r.data.tags]  # no trial ran there
