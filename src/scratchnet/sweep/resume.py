"""A grid sweep's resume lookup, done once in the launching process and handed to its jobs.

Asking the store from every job whether its config already FINISHED costs a search per job
(and, in a fresh worker, opening the store); the launching process knows every job of a grid
(`sweep.check.check_sweep`) and opens the store anyway, so it asks once for all of them, and
links the FINISHED runs of other sweeps to this one as reused members. The answer travels
with the sweep's callback, which the launcher sends with every job; a job of a sweeper that
chooses its jobs as it goes (Optuna) finds no answer and asks the store itself.
"""

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from omegaconf import DictConfig, OmegaConf

from scratchnet.config import config_hash
from scratchnet.core.paths import tracking_uri
from scratchnet.tracking.names import PARENT_TAG
from scratchnet.tracking.sql_experiments import (
    finished_config_hashes,
    has_experiment,
    readable_here,
)
from scratchnet.tracking.sqlite_file import sqlite_path


@dataclass(frozen=True)
class Twin:
    """A job's FINISHED run: its name and id, whether it is this sweep's own child, and what
    the skipped job returns."""

    name: str
    run_id: str
    own: bool
    summary: dict


Twins = dict[str, Twin]  # config hash -> the FINISHED run of that config

T = TypeVar("T")
_TWINS: Twins | None = None  # this process's answer; None: ask the store per job
_ALL_SKIPS: list[Twin] | None = None  # launching process: every job's twin, in launch order


def twin_of(run: Any, parent_id: str | None) -> Twin:
    """A FINISHED MLflow run as a job's twin in the sweep `parent_id`."""
    from scratchnet.tracking.sweeps import skip_summary

    own = parent_id is not None and run.data.tags.get(PARENT_TAG) == parent_id
    return Twin(run.info.run_name, run.info.run_id, own, skip_summary(run))


@dataclass
class Lookup:
    """The FINISHED run of each job of a grid that has one, and the jobs' hashes in order."""

    runs: dict[str, Any]  # config hash -> mlflow Run
    hashes: list[str]

    @property
    def every_job_finished(self) -> bool:
        return bool(self.hashes) and set(self.hashes) <= self.runs.keys()

    def link(self, parent: Any) -> Twins:
        """Link the twins that are not the sweep's own children to it as reused members (one
        tag each); the twins, for the jobs. `parent` is the open `SweepParent`."""
        from scratchnet.core.interrupts import interrupts_deferred
        from scratchnet.tracking.sweeps import link_member

        with interrupts_deferred():
            for run in self.runs.values():
                link_member(parent.client, run, parent.run_id)
        twins = {h: twin_of(run, parent.run_id) for h, run in self.runs.items()}
        global _ALL_SKIPS
        _ALL_SKIPS = [twins[h] for h in self.hashes] if self.every_job_finished else None
        return twins


def job_hashes(config: DictConfig, jobs: Sequence[DictConfig] | None) -> list[str] | None:
    """Each job's config hash, in launch order, for a grid that resumes (None when the sweep
    does not resume, is not tracked, or chooses its jobs as it goes); ~3 ms a job."""
    if jobs is None or not (config.sweep.resume and config.tracking.enabled):
        return None
    return [config_hash(task_config(job)) for job in jobs]


def look_up(config: DictConfig, hashes: list[str] | None) -> Lookup | None:
    """The FINISHED runs of a grid's jobs, given by their `job_hashes` (None: no lookup)."""
    if hashes is None:
        return None
    from scratchnet.tracking.sweeps import finished_twins

    t = config.tracking
    return Lookup(finished_twins(t.uri, t.experiment, hashes, t.server_wait_seconds), hashes)


def read_store(config: DictConfig, read: Callable[[Path, str], T]) -> T | None:
    """`read(db, experiment)` on the sweep's SQLite store file, straight (no MLflow); None
    where that cannot be done so cheaply (another store, a file that cannot be read)."""
    db = sqlite_path(tracking_uri(config.tracking.uri))
    if db is None or not readable_here():
        return None
    try:
        return read(db, config.tracking.experiment)
    except sqlite3.Error:
        return None


def finished_in_store(config: DictConfig) -> set[str] | None:
    """The config hashes of the sweep's experiment's FINISHED runs (`read_store`)."""
    return read_store(config, finished_config_hashes)


def experiment_in_store(config: DictConfig) -> bool:
    """Whether the sweep's experiment exists already in its SQLite store (`read_store`)."""
    return bool(read_store(config, has_experiment))


def every_job_runs(config: DictConfig) -> bool:
    """Whether every job of the sweep is sure to run, told before its grid is composed: nothing
    resumes, or its SQLite store holds no experiment of its name yet (`read_store`)."""
    if not (config.sweep.resume and config.tracking.enabled):
        return True
    return read_store(config, has_experiment) is False


def some_job_runs(
    config: DictConfig, jobs: Sequence[DictConfig] | None, hashes: list[str] | None
) -> bool:
    """Whether some job of the grid (`hashes`: its `job_hashes`) is sure to run, whatever the
    resume lookup finds: nothing resumes, or the store has no FINISHED twin of it
    (`finished_in_store`). False when that cannot be told so cheaply (a sweeper that chooses
    its jobs as it goes, another store, a file that cannot be read)."""
    if jobs is None:
        return False
    if hashes is None:
        return bool(jobs)
    done = finished_in_store(config)
    return done is not None and not set(hashes) <= done


def task_config(job: DictConfig) -> DictConfig:
    """A job's config as its task function gets it: without the `hydra` node."""
    return OmegaConf.masked_copy(job, [str(k) for k in job if k != "hydra"])


def hand_to_jobs(twins: Twins | None) -> None:
    """Make `twins` the answer this process's jobs read (a worker: from the callback)."""
    global _TWINS
    _TWINS = twins


def known_twins() -> Twins | None:
    """The answer handed to this process, if any."""
    return _TWINS


def all_skips() -> list[Twin] | None:
    """When every job of the grid being launched already FINISHED: each job's twin, in launch
    order (no job needs a process, nor composing again); else None."""
    return _ALL_SKIPS


def forget() -> None:
    """The sweep ended: later sweeps in this process ask afresh."""
    global _TWINS, _ALL_SKIPS
    _TWINS, _ALL_SKIPS = None, None
