"""Hydra multirun -> one MLflow parent run per sweep, one child run per job, resumable.

The parent is created in the launching process before any job starts (so the SQLite schema
and the experiment exist before parallel workers touch them) and handed to jobs through
`SCRATCHNET_SWEEP_PARENT` (not `MLFLOW_RUN_ID`, which would override the parent; mlflow#15713).
A sweep is identified by its definition, so re-running the same command resumes it.
MLflow is imported only when a sweep starts: Hydra loads this callback for single runs too,
and a bad value should be reported before the second it takes to import MLflow.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import math
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hydra._internal.config_loader_impl import ConfigLoaderImpl
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_loader import ConfigLoader
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from hydra.experimental.callback import Callback as HydraCallback
from omegaconf import DictConfig, OmegaConf

from scratchnet.cli.errors import USAGE_ERRORS, fail, one_line
from scratchnet.config import check_batch_size, config_hash, validate_config
from scratchnet.errors import ConfigError
from scratchnet.interrupt import install_sigterm_handler, interrupts_deferred

if TYPE_CHECKING:
    from mlflow.entities import Run
    from mlflow.tracking import MlflowClient

log = logging.getLogger("scratchnet.sweep")

TAG_PREFIX = "scratchnet."  # scratchnet.tracking.TAG_PREFIX, without importing MLflow
PARENT_ENV = "SCRATCHNET_SWEEP_PARENT"
SWEEP_ID_ENV = "SCRATCHNET_SWEEP_ID"
PARENT_TAG = "mlflow.parentRunId"
SWEEP_PARENT_TAG = f"{TAG_PREFIX}sweep_parent"
SWEEP_ID_TAG = f"{TAG_PREFIX}sweep_id"
CONFIG_HASH_TAG = f"{TAG_PREFIX}config_hash"
# Overrides that change where or how a sweep runs, not which runs it contains.
NOT_DEFINITION = ("tracking.", "sweep.", "trainer.progress", "hydra.")


def definition_overrides(overrides: Iterable[str]) -> list[str]:
    """The overrides that define a sweep's runs, sorted: launcher and tracking choices dropped."""
    return sorted(o for o in overrides if not o.lstrip("+~").startswith(NOT_DEFINITION))


def sweep_id(experiment: str, overrides: Iterable[str], sweeper_params: Mapping[str, Any]) -> str:
    """A short stable hash of (experiment, defining overrides, the sweeper's params)."""
    definition = {
        "experiment": experiment,
        "overrides": definition_overrides(overrides),
        "params": {k: str(v) for k, v in sorted(sweeper_params.items())},
    }
    text = json.dumps(definition, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def grid_size(overrides: Sequence[str], sweeper_params: Mapping[str, Any]) -> int | None:
    """How many jobs a grid sweep makes (product of the sweep lists); None for a non-grid one."""
    args = [o for o in overrides if not o.startswith("hydra")]
    args += [f"{k}={v}" for k, v in sweeper_params.items()]
    sizes = []
    for parsed in OverridesParser.create().parse_overrides(args):
        if parsed.is_sweep_override():
            if not parsed.is_discrete_sweep():
                return None
            sizes.append(len(list(parsed.sweep_string_iterator())))
    return math.prod(sizes)


def sweep_arguments(overrides: Sequence[str], sweeper_params: Mapping[str, Any]) -> list[Override]:
    """The sweeper's params then the command line's overrides, parsed as BasicSweeper does."""
    args = [f"{k}={v}" for k, v in sweeper_params.items()] + list(overrides)
    loader = GlobalHydra.instance().hydra.config_loader if GlobalHydra.instance().hydra else None
    return OverridesParser.create(config_loader=loader).parse_overrides(args)


def grid_jobs(overrides: Sequence[str], sweeper_params: Mapping[str, Any]) -> list[list[str]]:
    """Every job's overrides, in launch order; ConfigError for a sweep over no values."""
    parsed = sweep_arguments(overrides, sweeper_params)
    for o in parsed:
        if o.is_discrete_sweep() and not list(o.sweep_string_iterator()):
            key = o.get_key_element()
            raise ConfigError(
                f"{o.input_line} sweeps over no values "
                f"(allowed: one value or more, e.g. {key}=a,b or {key}=range(1,4))"
            )
    (jobs,) = BasicSweeper.split_arguments(parsed, None)
    return jobs


GRID_SWEEPERS = (".BasicSweeper", ".GridSweeper")  # Hydra's and scratchnet_grid's: every job


def check_sweep(config: DictConfig) -> int:
    """Compose and check every job of a grid sweep, before any run exists; returns the job count.

    Each job is composed as the launcher will compose it (Hydra's config loader with the job's
    overrides) and checked as `run.run` checks it (values, data, batch size against the data),
    so a bad value anywhere in the grid stops the sweep before its parent run is created.
    Other sweepers (e.g. Optuna) choose their jobs as they go: only the base config is checked.
    """
    hydra = GlobalHydra.instance().hydra if GlobalHydra.instance().is_initialized() else None
    sweeper = str(OmegaConf.select(config, "hydra.sweeper._target_", default=""))
    if hydra is None or not sweeper.endswith(GRID_SWEEPERS):
        check_job(config, {})
        return 1
    found = OmegaConf.select(config, "hydra.sweeper.params")
    params = OmegaConf.to_container(found, resolve=False) if found is not None else {}
    overrides = list(config.hydra.overrides.task)
    jobs = grid_jobs(overrides, params)
    swept = {
        o.get_key_element() for o in sweep_arguments(overrides, params) if o.is_sweep_override()
    }
    train_sizes: dict[str, int] = {}
    composed: dict[tuple[str, ...], DictConfig] = {}
    for number, job_overrides in enumerate(jobs):
        try:
            job = compose_job(hydra.config_loader, config, job_overrides, composed)
            check_job(job, train_sizes)
        except USAGE_ERRORS as err:
            varied = [o for o in job_overrides if o.split("=", 1)[0] in swept]
            raise ConfigError(
                f"{one_line(err)}; in sweep job #{number} of {len(jobs)}: {' '.join(varied)}"
            ) from None
    return len(jobs)


def is_plain_value(override: Override, loader: ConfigLoader) -> bool:
    """`key=value` on a key that is not a config group: set after composing, whatever the job."""
    return (
        not (override.is_add() or override.is_force_add() or override.is_delete())
        and not override.is_hydra_override()
        and not isinstance(override.value(), dict)
        and not loader.repository.group_exists(override.key_or_group)
    )


def compose_job(
    loader: ConfigLoader,
    config: DictConfig,
    overrides: Sequence[str],
    composed: dict[tuple[str, ...], DictConfig],
) -> DictConfig:
    """A job's config as the launcher composes it, composing in full once per group choice.

    Composing costs ~70 ms, most of a grid's check. Jobs whose overrides differ only in plain
    values (`trainer.lr=0.1` vs `0.5`) share their defaults list, so a copy of one composition
    takes their values the way Hydra sets them after composing (`_apply_overrides_to_config`).
    Jobs with any other kind of override (`+key`, `~key`, a group) are composed in full. What
    `check_job` reads is exact; the `hydra` node's override lists are the shared composition's.
    """
    parsed = OverridesParser.create(config_loader=loader).parse_overrides(list(overrides))
    if any(o.is_add() or o.is_force_add() or o.is_delete() for o in parsed):
        return loader.load_sweep_config(config, list(overrides))  # an add or delete: in full
    values = [o for o in parsed if is_plain_value(o, loader)]
    groups = tuple(o.input_line for o in parsed if not is_plain_value(o, loader))
    if groups not in composed:
        composed[groups] = loader.load_sweep_config(config, list(groups))
    job = copy.deepcopy(composed[groups])
    ConfigLoaderImpl._apply_overrides_to_config(values, job)
    return job


def check_job(cfg: DictConfig, train_sizes: dict[str, int]) -> None:
    """`validate_config`, then the data and batch-size checks (each dataset loaded once)."""
    from scratchnet.run import load_data  # run imports the trainer: only when a sweep starts

    validate_config(cfg)
    data_key = json.dumps(
        [OmegaConf.to_container(cfg.data, resolve=True), cfg.seed], sort_keys=True, default=str
    )
    if data_key not in train_sizes:
        train_sizes[data_key] = load_data(cfg).train_size
    check_batch_size(cfg.trainer.batch_size, train_sizes[data_key])


def find_sweep_parent(client: MlflowClient, experiment_id: str, sid: str) -> Run | None:
    """The newest parent run of the sweep with this id, if any."""
    found = client.search_runs(
        [experiment_id],
        filter_string=f"tags.`{SWEEP_ID_TAG}` = '{sid}' and tags.`{SWEEP_PARENT_TAG}` = 'true'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    return found[0] if found else None


def children(client: MlflowClient, experiment_id: str, parent_id: str) -> list[Run]:
    """Every child run of a sweep parent."""
    return client.search_runs(
        [experiment_id], filter_string=f"tags.`{PARENT_TAG}` = '{parent_id}'", max_results=50000
    )


def find_finished(client: MlflowClient, experiment_id: str, config_hash: str) -> Run | None:
    """A FINISHED run of the experiment with this config hash (the resume check)."""
    found = client.search_runs(
        [experiment_id],
        filter_string=(
            f"tags.`{CONFIG_HASH_TAG}` = '{config_hash}' and attributes.status = 'FINISHED'"
        ),
        max_results=1,
    )
    return found[0] if found else None


def mark_dead_runs_failed(client: MlflowClient, runs: Iterable[Run]) -> list[str]:
    """Runs still RUNNING when no job can be running any more died (e.g. SIGKILL): FAILED."""
    dead = [r.info.run_id for r in runs if r.info.status == "RUNNING"]
    for run_id in dead:
        client.set_terminated(run_id, status="FAILED")
        client.set_tag(run_id, f"{TAG_PREFIX}failure", "found RUNNING after its sweep ended")
    return dead


def mark_interrupted_runs_killed(client: MlflowClient, runs: Iterable[Run]) -> list[str]:
    """Runs still RUNNING when their sweep is interrupted were stopped with it: KILLED.

    A parallel launcher ends its workers when the sweep is interrupted (joblib's loky sends
    SIGKILL), so their runs cannot close themselves; their logged epochs are kept.
    """
    stopped = [r.info.run_id for r in runs if r.info.status == "RUNNING"]
    for run_id in stopped:
        client.set_terminated(run_id, status="KILLED")
        client.set_tag(run_id, f"{TAG_PREFIX}failure", "still RUNNING when its sweep was stopped")
    return stopped


@dataclass(frozen=True)
class SweepSummary:
    """Counts by outcome and the best runs, as logged on the parent at the sweep's end."""

    finished: int
    failed: int
    killed: int
    diverged: int
    best_final_acc: tuple[str, float] | None
    best_min_loss: tuple[str, float] | None


def summarize(client: MlflowClient, runs: Sequence[Run]) -> SweepSummary:
    """Finished/failed/killed/diverged counts; best run by final test_acc and by min test_loss."""
    status = [r.info.status for r in runs]
    ok = [r for r in runs if r.info.status == "FINISHED" and r.data.tags.get("diverged") != "true"]
    best_acc = max(
        ((r.info.run_name, r.data.metrics["test_acc"]) for r in ok if "test_acc" in r.data.metrics),
        key=lambda pair: pair[1],
        default=None,
    )
    lowest = []
    for r in ok:
        history = client.get_metric_history(r.info.run_id, "test_loss")
        if history:
            lowest.append((r.info.run_name, min(m.value for m in history)))
    return SweepSummary(
        finished=status.count("FINISHED"),
        failed=status.count("FAILED"),
        killed=status.count("KILLED"),
        diverged=sum(r.data.tags.get("diverged") == "true" for r in runs),
        best_final_acc=best_acc,
        best_min_loss=min(lowest, key=lambda pair: pair[1], default=None),
    )


def log_summary(client: MlflowClient, parent_id: str, summary: SweepSummary) -> None:
    """Counts as parent metrics, the best runs as parent tags."""
    from mlflow.entities import Metric, RunTag

    counts = {
        "runs_finished": summary.finished,
        "runs_failed": summary.failed,
        "runs_killed": summary.killed,
        "runs_diverged": summary.diverged,
    }
    metrics = [Metric(k, float(v), 0, 0) for k, v in counts.items()]
    tags = []
    if summary.best_final_acc:
        metrics.append(Metric("best_final_test_acc", summary.best_final_acc[1], 0, 0))
        tags.append(RunTag(f"{TAG_PREFIX}best_by_final_test_acc", summary.best_final_acc[0]))
    if summary.best_min_loss:
        metrics.append(Metric("best_min_test_loss", summary.best_min_loss[1], 0, 0))
        tags.append(RunTag(f"{TAG_PREFIX}best_by_min_test_loss", summary.best_min_loss[0]))
    client.log_batch(parent_id, metrics=metrics, tags=tags)


def joblib_arguments(config: DictConfig) -> dict[str, Any] | None:
    """The arguments Hydra's joblib launcher gives `joblib.Parallel`; None for other launchers."""
    launcher = OmegaConf.select(config, "hydra.launcher")
    if launcher is None or not str(launcher.get("_target_", "")).endswith(".JoblibLauncher"):
        return None
    from hydra_plugins.hydra_joblib_launcher._core import process_joblib_cfg

    found = OmegaConf.to_container(launcher, resolve=True)
    arguments = {str(k): v for k, v in found.items() if k != "_target_"}
    arguments["backend"] = "loky"  # as the launcher sets it
    process_joblib_cfg(arguments)
    return arguments


def warm_up_worker(config: DictConfig) -> int:
    """In a sweep worker: import what a job needs and load the sweep's data; returns the pid.

    A job in a fresh worker first spends ~4 s importing MLflow, its SQLAlchemy store,
    scikit-learn (digits) and matplotlib. Nothing here touches the tracking store.
    """
    import hydra_plugins.hydra_joblib_launcher._core  # noqa: F401  (the launcher's job function)
    import mlflow.store.tracking.sqlalchemy_store  # noqa: F401  (what opening a store imports)

    import scratchnet.cli.train  # noqa: F401  (the task function)
    from scratchnet.plotting import learning_curve_figure, png_bytes
    from scratchnet.run import load_data

    row = {"epoch": 0, "train_acc": 0.0, "test_acc": 0.0, "train_loss": 0.0, "test_loss": 0.0}
    png_bytes(learning_curve_figure([row]))  # matplotlib's font cache, loaded on first text
    try:  # an error here is the jobs' to report
        load_data(config)  # kept by the data layer's per-process cache for the jobs
    except Exception as err:
        log.debug("warm-up could not load the data: %r", err)
    return os.getpid()


def start_workers(config: DictConfig) -> threading.Thread | None:
    """Start a joblib sweep's worker processes now, in the background, warmed up for jobs.

    Hydra's joblib launcher starts its loky workers when it sends the first job, and each worker
    then imports for seconds while the launching process waits. Started here, once the grid is
    checked, the workers import while this process creates the store and the parent run and
    Hydra composes every job again. `joblib.Parallel` with the launcher's own arguments makes
    loky's reusable executor, which the launcher's `Parallel` then reuses, workers and all.
    """
    arguments = joblib_arguments(config)
    if arguments is None:
        return None
    from joblib import Parallel, delayed, effective_n_jobs

    workers = effective_n_jobs(arguments.get("n_jobs", -1))
    if workers < 2:  # one job at a time runs in this process: no worker
        return None

    def warm_up() -> None:
        try:
            pids = Parallel(**arguments)(delayed(warm_up_worker)(config) for _ in range(workers))
            log.debug("sweep workers warmed up: %s", sorted(set(pids)))
        except Exception as err:  # only ever a head start: the jobs import what they need
            log.debug("warming up the sweep's workers failed: %r", err)

    thread = threading.Thread(target=warm_up, name="scratchnet-warm-up", daemon=True)
    thread.start()
    return thread


class MlflowSweepCallback(HydraCallback):
    """Creates or resumes the sweep's parent run and closes it with a summary.

    The launcher sends this object, parent run id included, with every job to the process
    that runs it: a worker started before the parent existed learns it in `on_job_start`.
    """

    def __init__(self) -> None:
        self.client: MlflowClient | None = None
        self.parent_id: str | None = None
        self.sweep_id: str | None = None

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        # Hydra turns a callback's exceptions into warnings and goes on; a sweep without its
        # parent run must not start, so errors leave through SystemExit instead.
        try:
            check_sweep(config)
            start_workers(config)
            with interrupts_deferred():  # never a Ctrl-C halfway through creating the parent
                self._start(config)
        except USAGE_ERRORS as err:
            fail("scratchnet-train", err)  # one line on stderr, SystemExit(2)
        except Exception as err:
            message = f"scratchnet-train: cannot create the sweep's parent run: {err!r}"
            raise SystemExit(message) from err

    def _start(self, config: DictConfig) -> None:
        if not config.tracking.enabled:
            return
        from mlflow.tracking import MlflowClient

        from scratchnet.tracking import get_or_create_experiment, resolve_uri

        uri = resolve_uri(config.tracking.uri)
        self.client = MlflowClient(tracking_uri=uri)
        experiment_id = get_or_create_experiment(self.client, uri, config.tracking.experiment)
        overrides = list(config.hydra.overrides.task)
        found = OmegaConf.select(config, "hydra.sweeper.params")
        params = OmegaConf.to_container(found, resolve=False) if found is not None else {}
        sid = sweep_id(config.tracking.experiment, overrides, params)
        parent = find_sweep_parent(self.client, experiment_id, sid) if config.sweep.resume else None
        if parent is not None:
            self.parent_id = parent.info.run_id
            dead = mark_dead_runs_failed(
                self.client, children(self.client, experiment_id, self.parent_id)
            )
            self.client.update_run(self.parent_id, status="RUNNING")
            log.info("resuming sweep %s (parent run %s)", sid, self.parent_id)
            if dead:
                log.warning("marked %d runs of the earlier attempt FAILED: %s", len(dead), dead)
        else:
            self.parent_id = self._create_parent(config, experiment_id, sid, overrides, params)
            log.info("sweep %s: parent run %s", sid, self.parent_id)
        self.sweep_id = sid
        os.environ[PARENT_ENV] = self.parent_id
        os.environ[SWEEP_ID_ENV] = sid
        ACTIVE_PARENTS[self.parent_id] = self.client

    def _create_parent(
        self,
        config: DictConfig,
        experiment_id: str,
        sid: str,
        overrides: list[str],
        params: Mapping[str, Any],
    ) -> str:
        assert self.client is not None
        study = config.study
        name = f"sweep {study.name} {sid[:8]}"
        tags = {
            SWEEP_PARENT_TAG: "true",
            SWEEP_ID_TAG: sid,
            f"{TAG_PREFIX}study": study.name,
            f"{TAG_PREFIX}study_description": study.description,
        }
        run = self.client.create_run(experiment_id, run_name=name, tags=tags)
        from scratchnet.tracking import mask_overrides, mask_tree

        size = grid_size(overrides, params)
        definition = {
            "sweep.overrides": " ".join(mask_overrides(definition_overrides(overrides)))
            or "(none)",
            "sweep.params": json.dumps(mask_tree(params), sort_keys=True),
            "sweep.grid_size": "unknown" if size is None else str(size),
            "sweep.launcher": str(config.hydra.launcher.get("_target_", "unknown")),
            "sweep.sweeper": str(config.hydra.sweeper.get("_target_", "unknown")),
        }
        from mlflow.entities import Param

        self.client.log_batch(run.info.run_id, params=[Param(k, v) for k, v in definition.items()])
        return run.info.run_id

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        if self.parent_id and self.sweep_id:  # this sweep's, even in a worker started before it
            os.environ[PARENT_ENV] = self.parent_id
            os.environ[SWEEP_ID_ENV] = self.sweep_id
        # In parallel workers (joblib/loky, submitit) SIGTERM must end the run KILLED too.
        if os.environ.get(PARENT_ENV):
            install_sigterm_handler()

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if self.client is None or self.parent_id is None:
            return
        end_sweep(self.client, self.parent_id, "FINISHED")
        ACTIVE_PARENTS.pop(self.parent_id, None)


ACTIVE_PARENTS: dict[str, MlflowClient] = {}


def end_sweep(client: MlflowClient, parent_id: str, status: str) -> SweepSummary:
    """Close the sweep: dead children FAILED, the summary logged, the parent ended `status`.

    Interrupts wait until it is done (see `scratchnet.interrupt.interrupts_deferred`).
    """
    with interrupts_deferred():
        return _end_sweep(client, parent_id, status)


def _end_sweep(client: MlflowClient, parent_id: str, status: str) -> SweepSummary:
    run = client.get_run(parent_id)
    runs = children(client, run.info.experiment_id, parent_id)
    if status == "KILLED":  # e.g. Ctrl-C: joblib/loky SIGKILLs its workers mid-run
        dead = mark_interrupted_runs_killed(client, runs)
    else:
        dead = mark_dead_runs_failed(client, runs)
    if dead:
        runs = children(client, run.info.experiment_id, parent_id)
    summary = summarize(client, runs)
    log_summary(client, parent_id, summary)
    client.set_terminated(parent_id, status=status)
    log.info(
        "sweep done: %d finished (%d diverged), %d failed, %d killed; best final test_acc: %s",
        summary.finished,
        summary.diverged,
        summary.failed,
        summary.killed,
        summary.best_final_acc,
    )
    return summary


def end_active_sweeps(status: str) -> None:
    """End the parents of sweeps this process started (Ctrl-C during a multirun)."""
    for parent_id, client in list(ACTIVE_PARENTS.items()):
        end_sweep(client, parent_id, status)
        ACTIVE_PARENTS.pop(parent_id, None)


def finished_twin(cfg: DictConfig) -> Run | None:
    """A FINISHED run in `cfg`'s experiment that computed exactly this config, if any."""
    from mlflow.tracking import MlflowClient

    from scratchnet.tracking import resolve_uri

    uri = resolve_uri(cfg.tracking.uri)
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name(cfg.tracking.experiment)
    if experiment is None:
        return None
    return find_finished(client, experiment.experiment_id, config_hash(cfg))
