"""A grid sweep's resume lookup, done once in the launching process and handed to its jobs.

Asking the store from every job whether its config already FINISHED costs a search per job
(and, in a fresh worker, opening the store); the launching process knows every job of a grid
(`sweep.check.check_sweep`) and opens the store anyway, so it asks once for all of them. The
answer travels with the sweep's callback, which the launcher sends with every job; a job of
a sweeper that chooses its jobs as it goes (Optuna) finds no answer and asks the store itself.
"""

from collections.abc import Sequence

from omegaconf import DictConfig, OmegaConf

from scratchnet.config import config_hash

Twins = dict[str, tuple[str, dict]]  # config hash -> (run name, the job's skip summary)

_TWINS: Twins | None = None  # this process's answer; None: ask the store per job
_ALL_SKIPS: list[tuple[str, dict]] | None = None  # launching process: every job's twin, in order


def look_up(config: DictConfig, jobs: Sequence[DictConfig] | None) -> Twins | None:
    """The FINISHED twins of a grid's jobs (None when the sweep does not resume, is not
    tracked, or chooses its jobs as it goes)."""
    if jobs is None or not (config.sweep.resume and config.tracking.enabled):
        return None
    from scratchnet.tracking.sweeps import finished_twins

    hashes = [config_hash(task_config(job)) for job in jobs]
    twins = finished_twins(config.tracking.uri, config.tracking.experiment, hashes)
    global _ALL_SKIPS
    _ALL_SKIPS = [twins[h] for h in hashes] if hashes and set(hashes) <= twins.keys() else None
    return twins


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


def all_skips() -> list[tuple[str, dict]] | None:
    """When every job of the grid being launched already FINISHED: (name, summary) of each
    job's twin, in launch order (no job needs a process, nor composing again); else None."""
    return _ALL_SKIPS


def forget() -> None:
    """The sweep ended: later sweeps in this process ask afresh."""
    global _TWINS, _ALL_SKIPS
    _TWINS, _ALL_SKIPS = None, None
