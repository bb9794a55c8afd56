"""Hydra multirun -> one MLflow parent run per sweep, one child run per job, resumable.

The parent is created in the launching process before any job starts (so the SQLite schema
and the experiment exist before parallel workers touch them) and handed to jobs through
`SCRATCHNET_SWEEP_PARENT` (not `MLFLOW_RUN_ID`, which would override the parent; mlflow#15713).
MLflow is imported only when a sweep starts: Hydra loads this callback for single runs too,
and a bad value should be reported before the second it takes to import MLflow.
"""

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hydra.experimental.callback import Callback as HydraCallback
from omegaconf import DictConfig

from scratchnet.config.messages import USAGE_ERRORS, one_line
from scratchnet.core.errors import Abort, ScratchnetError
from scratchnet.core.heap import imports_settled
from scratchnet.core.interrupts import install_sigterm_handler
from scratchnet.core.paths import tracking_uri
from scratchnet.sweep import resume
from scratchnet.sweep.check import check_sweep
from scratchnet.sweep.launching import mark_launcher
from scratchnet.sweep.workers import (
    prepare_workers,
    start_workers,
    starts_workers,
    stop_workers,
)
from scratchnet.tracking.failures import as_store_error, from_mlflow
from scratchnet.tracking.names import FINISHED, PARENT_ENV

if TYPE_CHECKING:  # imports MLflow
    from scratchnet.sweep.parent import SweepClaim

EXIT_FAILURE = 1


class MlflowSweepCallback(HydraCallback):
    """Checks the sweep, creates or resumes its parent run and closes it with a summary.

    The launcher sends this object, parent run id included, with every job to the process
    that runs it: a worker started before the parent existed learns it in `on_job_start`.
    """

    def __init__(self) -> None:
        self.parent: Any = None  # scratchnet.tracking.sweeps.SweepParent, once open
        self.sweep_id: str | None = None
        self.twins: resume.Twins | None = None  # the grid's resume lookup, for every job

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Check every job, claim the sweep's lease, look up the FINISHED ones, start the
        workers (none when every job is a skip), open the parent run; Abort on any failure."""
        try:
            with imports_settled():  # MLflow's imports, kept out of later collections
                claimed = claim_first(config)
                if resume.every_job_runs(config):  # the workers' imports overlap the check
                    mark_launcher()  # before any worker starts: each inherits the environment
                    prepare_workers(config)
                try:
                    jobs = check_sweep(config)
                    hashes = resume.job_hashes(config, jobs)
                    started = start_now(config, jobs, hashes)
                    if claimed is None and config.tracking.enabled:
                        claimed = claim_sweep(config)
                except BaseException:
                    withdraw(claimed)
                    raise
            lookup = look_up_and_start(config, hashes, claimed, started)
            if claimed is not None:
                from scratchnet.sweep.parent import open_sweep

                self.parent, self.sweep_id = open_sweep(config, claimed)  # defers Ctrl-C
                if config.sweep.wait:  # the lease may have waited for another launch's jobs
                    lookup = resume.look_up(config, hashes)
                self.twins = lookup.link(self.parent) if lookup is not None else None
            resume.hand_to_jobs(self.twins)
        except USAGE_ERRORS as err:
            stop_workers()
            raise Abort(one_line(err)) from err
        except Exception as err:
            stop_workers()
            raise Abort(parent_failure(config, err), EXIT_FAILURE) from err

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        resume.hand_to_jobs(self.twins)
        if self.parent is not None and self.sweep_id:  # even in a worker started before it
            from scratchnet.sweep.parent import hand_to_jobs

            experiment = (self.parent.experiment_id, config.tracking.experiment)
            hand_to_jobs(self.parent.run_id, self.sweep_id, experiment)
        # In parallel workers (joblib/loky, submitit) SIGTERM must end the run KILLED too.
        if os.environ.get(PARENT_ENV):
            install_sigterm_handler()

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Close the parent FINISHED; a store that cannot take it is one line (Abort: Hydra
        would turn an error into a warning and exit 0)."""
        resume.forget()
        if self.parent is not None:
            from scratchnet.sweep.parent import close_sweep

            try:
                close_sweep(self.parent, FINISHED)
            except ScratchnetError as err:
                raise Abort(one_line(err), err.exit_code) from err


def parent_failure(config: DictConfig, err: Exception) -> str:
    """Why the sweep could not start, in one line: a store's error (MLflow's) as the store's
    one-line error (`tracking.failures.as_store_error`: a full disk, a lock held), else as is."""
    if from_mlflow(err):
        err = as_store_error(tracking_uri(config.tracking.uri), err)
        return f"cannot create the sweep's parent run: {err}"
    return f"cannot create the sweep's parent run: {err!r}"


def claim_sweep(config: DictConfig) -> "SweepClaim":
    """The sweep's lease claimed (`sweep.parent.claim_sweep`; MLflow imported only now)."""
    from scratchnet.sweep.parent import claim_sweep as claim

    return claim(config)


def claim_first(config: DictConfig) -> "SweepClaim | None":
    """The sweep's lease claimed before its grid is checked, so that the claim's settling wait
    (`tracking.lease.SETTLE_SECONDS`) overlaps the check, where that creates nothing a bad grid
    would leave behind and delays no worker: a tracked sweep whose experiment is in a SQLite
    store's file already, with no joblib workers to start early. None otherwise (claimed after)."""
    if not config.tracking.enabled or starts_workers(config):
        return None
    return claim_sweep(config) if resume.experiment_in_store(config) else None


def withdraw(claimed: "SweepClaim | None") -> None:
    """Take back a claim whose launch stops before its lease is settled."""
    if claimed is not None:
        from scratchnet.sweep.parent import withdraw_claim

        withdraw_claim(claimed)


def start_now(
    config: DictConfig, jobs: Sequence[DictConfig] | None, hashes: list[str] | None
) -> bool:
    """Start the workers at once when some job is sure to run (`resume.some_job_runs`), so
    their imports overlap this process's opening of the store; whether they were started."""
    if not resume.some_job_runs(config, jobs, hashes):
        return False
    mark_launcher()  # before any worker starts: each inherits the environment
    start_workers(config)
    return True


def look_up_and_start(
    config: DictConfig,
    hashes: list[str] | None,
    claimed: "SweepClaim | None",
    started: bool = False,
) -> resume.Lookup | None:
    """The resume lookup (read-only, while the lease's claim settles), then the workers unless
    `started` already or every job is a skip; the claim is withdrawn if either fails or is
    interrupted."""
    try:
        lookup = resume.look_up(config, hashes)
        mark_launcher()  # before any worker starts: each inherits the environment
        if not started and (lookup is None or not lookup.every_job_finished):
            start_workers(config)
        return lookup
    except BaseException:
        withdraw(claimed)
        raise
