"""An Optuna sweep's study, kept in Optuna's JournalStorage: one journal file per sweep.

The study is named by the sweep's id (`scratchnet.sweep.identity.sweep_id`, the id its MLflow
parent run carries) and kept in `<store folder>/optuna/<sweep id>.log`: beside the SQLite
file of `tracking.uri`, or in the repo's `mlruns/` for the default store and for a tracking
server (whose database this process cannot reach: it talks to the server over HTTP only).
Only the launching process reads and writes it. A re-run of the same command loads the
study: trials already run are not asked again, and `n_trials` counts them, so a larger
`n_trials` continues the search. `optuna-dashboard <journal>` shows it (`make dashboard`).

Optuna is imported only when a sweep starts (Hydra imports every plugin at each start-up).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from hydra.errors import HydraException

from scratchnet.core.paths import mlruns_dir, tracking_uri
from scratchnet.tracking.sqlite_file import sqlite_path

if TYPE_CHECKING:
    import optuna

log = logging.getLogger(__name__)

JOURNAL_DIR = "optuna"  # in the store's folder
# Study and trial attributes, as optuna-dashboard shows them.
OBJECTIVE_ATTR = "objective"  # the study's: the job result key its values are
EXPERIMENT_ATTR = "mlflow_experiment"
PARENT_ATTR = "mlflow_parent_run_id"
STORE_ATTR = "mlflow_store"  # the study's: the store its runs are in (`store_key`)
OVERRIDES_ATTR = "overrides"  # a trial's: the overrides its job ran (floats rounded)
RUN_ID_ATTR = "mlflow_run_id"  # a trial's: its child run, when the job made or found one
RUN_NAME_ATTR = "mlflow_run_name"  # ... that run's name, and its final validation loss: what
FINAL_LOSS_ATTR = "final_loss"  # the sweep's best-run rule breaks ties with


def make_sampler(
    seed: int | None, n_startup_trials: int, start: int
) -> optuna.samplers.BaseSampler:
    """TPE for the batch whose first trial is number `start`, treating running trials as bad.

    Seeded from (seed, start) rather than once per process, so that a study continued with a
    larger n_trials asks what one run with that n_trials would have asked.
    """
    import optuna

    batch_seed = None
    if seed is not None:
        digest = hashlib.sha256(f"{seed}:{start}".encode()).digest()
        batch_seed = int.from_bytes(digest[:4], "little")
    with warnings.catch_warnings():  # constant_liar is experimental before optuna 5
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(
            seed=batch_seed, n_startup_trials=n_startup_trials, constant_liar=True
        )


def store_folder(uri: str | None) -> Path:
    """The folder of the tracking store: a SQLite file's folder; the repo's `mlruns/` else."""
    db = sqlite_path(tracking_uri(uri))
    return db.parent if db is not None else mlruns_dir()


def store_key(uri: str | None) -> str:
    """Which store a study's runs are in: a SQLite file by its name (its folder, which holds
    the journals, may move), a server by its URI. One folder's journals can serve several
    stores: two SQLite files, or the local store and a server (kept in `mlruns/` too)."""
    resolved = tracking_uri(uri)
    db = sqlite_path(resolved)
    return db.name if db is not None else resolved.rstrip("/")


def journal_path(uri: str | None, sid: str, journal: str | None = None) -> Path:
    """Where the sweep `sid` keeps its study: `journal` if given, else beside the store."""
    if journal:
        return Path(journal).expanduser().resolve()
    return store_folder(uri) / JOURNAL_DIR / f"{sid}.log"


def set_aside(path: Path) -> Path | None:
    """`sweep.resume=false`: the earlier journal kept as `<name>.<UTC time>.log`, or None."""
    if not path.exists():
        return None
    kept = path.with_suffix(f".{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.log")
    path.rename(kept)
    return kept


def open_study(
    path: Path, name: str, direction: str, objective: str, store: str | None = None
) -> optuna.Study:
    """Create the study `name` in the journal at `path`, or load it if it is there.

    A loaded study must have been run for the same objective and direction: its values could
    not be compared otherwise. With `store` (`store_key`), it must also be that store's: the
    same sweep against another store would otherwise count that store's trials as done.
    """
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    path.parent.mkdir(parents=True, exist_ok=True)
    storage = JournalStorage(JournalFileBackend(str(path)))
    study = optuna.create_study(
        study_name=name, storage=storage, direction=direction, load_if_exists=True
    )
    found = (study.user_attrs.get(OBJECTIVE_ATTR, objective), study.direction.name.lower())
    if found != (objective, direction):
        raise HydraException(
            f"hydra.sweeper.objective={objective} direction={direction}: study {name} in {path} "
            f"was run for {found[0]} ({found[1]}); use sweep.resume=false for a new study"
        )
    if store is not None:
        recorded = study.user_attrs.get(STORE_ATTR, store)
        if recorded != store:
            raise HydraException(
                f"study {name} in {path} is the sweep's in the store {recorded}, not {store}; "
                "give this sweep a journal of its own: hydra.sweeper.journal=<file>"
            )
        study.set_user_attr(STORE_ATTR, store)
    study.set_user_attr(OBJECTIVE_ATTR, objective)
    return study


def link_to_parent(study: optuna.Study, experiment: str, parent_run_id: str | None) -> None:
    """Record the MLflow experiment and parent run of the sweep on its study."""
    study.set_user_attr(EXPERIMENT_ATTR, experiment)
    if parent_run_id:
        study.set_user_attr(PARENT_ATTR, parent_run_id)


def reask_interrupted(study: optuna.Study) -> list[int]:
    """Trials an earlier attempt left RUNNING: told FAIL, their params enqueued to run first.

    Their jobs were stopped with the launching process (Ctrl-C, a crash, a launcher error), or
    finished without being told; the job of the re-asked trial trains, or finds the FINISHED
    run of its config and returns it.
    """
    from optuna.trial import TrialState

    stale = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    for trial in stale:
        study.enqueue_trial(trial.params)
        study.tell(trial.number, state=TrialState.FAIL)
    return [t.number for t in stale]


def evaluated(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The trials whose job ended and was told (what `n_trials` counts), interrupted ones not."""
    trials = study.get_trials(deepcopy=False)
    return [t for t in trials if t.state.is_finished() and OVERRIDES_ATTR in t.user_attrs]


def record_job(trial: optuna.Trial, overrides: Sequence[str], returned: object) -> None:
    """What the trial's job ran, kept on the trial: its overrides, its MLflow run (id, name)
    and the run's final validation loss (test without one), from what the job returned."""
    trial.set_user_attr(OVERRIDES_ATTR, list(overrides))
    found = returned if isinstance(returned, Mapping) else {}
    run_id, name = found.get("run_id"), found.get("name")
    if isinstance(run_id, str) and run_id:
        trial.set_user_attr(RUN_ID_ATTR, run_id)
    if isinstance(name, str) and name:
        trial.set_user_attr(RUN_NAME_ATTR, name)
    loss = found.get("val_loss", found.get("test_loss"))
    if isinstance(loss, int | float) and not isinstance(loss, bool) and math.isfinite(loss):
        trial.set_user_attr(FINAL_LOSS_ATTR, float(loss))
