"""Bayesian hyperparameter search: a Hydra sweeper that asks Optuna (TPE) for each trial.

Trials are launched through the configured Hydra launcher, `n_jobs` at a time (joblib runs a
batch in parallel), so every trial is an ordinary sweep job: a child run of the sweep's MLflow
parent (`scratchnet.sweep.callback`). The search space is Hydra's sweep syntax in
`hydra.sweeper.params` (or on the command line): `tag(log, interval(0.01, 4))` is a float on a
log scale, `int(interval(10, 300))` an integer, `choice(16, 32)`, `16,32` or `range(...)` a
categorical; any other override is passed to every trial unchanged. A job that raises is told
to Optuna as FAIL, a diverged run as PRUNED (ranked below every completed trial); the sweep goes
on. The study is kept in a journal file per sweep (`scratchnet.sweep.study`): a re-run of the
same command continues it, asking only the trials still missing from `n_trials`.

Hydra instantiates sweepers only from the `hydra_plugins` namespace: the class it finds is
`hydra_plugins.scratchnet_optuna_sweeper.OptunaSweeper`, which also registers the config
group option `hydra/sweeper=scratchnet_optuna`. Optuna is imported only when a sweep starts,
since Hydra imports every plugin at each start-up.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import ChoiceSweep, IntervalSweep, Override, RangeSweep
from hydra.core.utils import JobReturn, JobStatus
from hydra.errors import HydraException
from hydra.plugins.launcher import Launcher
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf

from scratchnet.sweep.check import SharedCompositions
from scratchnet.sweep.identity import sweep_id, sweeper_params
from scratchnet.sweep.results import save_results
from scratchnet.sweep.study import (
    evaluated,
    journal_path,
    link_to_parent,
    make_sampler,
    open_study,
    reask_interrupted,
    record_job,
    set_aside,
    store_key,
)
from scratchnet.tracking.names import PARENT_ENV

if TYPE_CHECKING:
    import optuna
    from optuna.distributions import BaseDistribution
    from optuna.trial import TrialState

log = logging.getLogger(__name__)

TARGET = "hydra_plugins.scratchnet_optuna_sweeper.OptunaSweeper"
SIGNIFICANT_DIGITS = 4  # a sampled float is run (and named) rounded to this many digits


@dataclass
class OptunaSweeperConf:
    """`hydra.sweeper` for `hydra/sweeper=scratchnet_optuna`."""

    _target_: str = TARGET
    params: dict[str, str] = field(default_factory=dict)
    n_trials: int = 20
    # Trials per launcher batch: by default the joblib launcher's n_jobs (-1: all cores), else 1.
    n_jobs: int = "${oc.select:hydra.launcher.n_jobs,1}"  # type: ignore[assignment]
    objective: str = "val_acc"
    direction: str = "maximize"
    seed: int | None = 0
    n_startup_trials: int = 10
    journal: str | None = None  # the study's journal file; null: <store folder>/optuna/<id>.log


@dataclass(frozen=True)
class Dimension:
    """One searched override: its key as written, and how to turn a sampled value into text."""

    key: str
    distribution: BaseDistribution
    texts: Mapping[Any, str] = field(default_factory=dict)  # categorical value -> override text

    def override(self, value: Any) -> str:
        """`key=value` for a sampled value (floats rounded for readable runs)."""
        if value in self.texts:
            return f"{self.key}={self.texts[value]}"
        if isinstance(value, float):
            return f"{self.key}={float(f'{value:.{SIGNIFICANT_DIGITS}g}')!r}"
        return f"{self.key}={value}"


def batch_size(n_jobs: int, cpus: int | None = None) -> int:
    """Trials per batch from a joblib-style n_jobs (-1: all cores, -2: all but one, ...)."""
    if n_jobs >= 1:
        return n_jobs
    if n_jobs == 0:
        raise HydraException("hydra.sweeper.n_jobs must not be 0")
    return max(1, (cpus or os.cpu_count() or 1) + 1 + n_jobs)


def distribution(override: Override) -> tuple[BaseDistribution, Mapping[Any, str]]:
    """Optuna's distribution for a Hydra sweep override, and the override text of each choice."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    sweep = override.value()
    log_scale = "log" in sweep.tags
    if isinstance(sweep, IntervalSweep):
        if isinstance(sweep.start, int) and isinstance(sweep.end, int):
            return IntDistribution(sweep.start, sweep.end, log=log_scale), {}
        return FloatDistribution(float(sweep.start), float(sweep.end), log=log_scale), {}
    if isinstance(sweep, ChoiceSweep | RangeSweep):
        values = list(override.sweep_iterator())
        texts = dict(zip(values, override.sweep_string_iterator(), strict=True))
        return CategoricalDistribution(values), texts
    raise HydraException(f"the Optuna sweeper cannot search {override.input_line}")


def search_space(
    overrides: Sequence[Override],
) -> tuple[dict[str, Dimension], list[str]]:
    """Split parsed overrides into the searched dimensions and the fixed overrides."""
    dimensions: dict[str, Dimension] = {}
    fixed: dict[str, str] = {}
    for override in overrides:
        name = override.key_or_group
        dimensions.pop(name, None)  # a later override of a key (the command line) wins
        fixed.pop(name, None)
        if override.is_sweep_override():
            dist, texts = distribution(override)
            dimensions[name] = Dimension(override.get_key_element(), dist, texts)
        else:
            fixed[name] = f"{override.get_key_element()}={override.get_value_element_as_str()}"
    return dimensions, list(fixed.values())


def parse(params: Mapping[str, Any], arguments: Sequence[str]) -> list[Override]:
    """The sweeper's params as `key=value` overrides, then the command line's, parsed."""
    texts = [f"{key}={value}" for key, value in params.items()] + list(arguments)
    return OverridesParser.create().parse_overrides(texts)


def trial_outcome(ret: JobReturn, objective: str) -> tuple[TrialState, float | None]:
    """How a finished job is told to Optuna: COMPLETE with its objective, PRUNED or FAIL."""
    from optuna.trial import TrialState

    if ret.status != JobStatus.COMPLETED:
        log.warning("job failed: %r", ret._return_value)
        return TrialState.FAIL, None
    value = ret.return_value
    if isinstance(value, Mapping):
        if str(value.get("diverged", "false")).lower() == "true":
            return TrialState.PRUNED, None
        value = value.get(objective)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        log.warning("job returned no finite %r: %r", objective, value)
        return TrialState.FAIL, None
    return TrialState.COMPLETE, float(value)


class OptunaSweeper(Sweeper):
    """Hydra sweeper: a study of `n_trials` Optuna trials, launched `n_jobs` at a time."""

    def __init__(
        self,
        params: Mapping[str, Any] | None = None,
        n_trials: int = 20,
        n_jobs: int = 1,
        objective: str = "val_acc",
        direction: str = "maximize",
        seed: int | None = 0,
        n_startup_trials: int = 10,
        journal: str | None = None,
    ) -> None:
        if direction not in ("maximize", "minimize"):
            raise HydraException(f"hydra.sweeper.direction={direction!r}: maximize or minimize")
        if n_trials < 1:
            raise HydraException(f"hydra.sweeper.n_trials={n_trials}: at least 1")
        self.params = dict(params or {})
        self.n_trials = n_trials
        self.n_jobs = batch_size(n_jobs)
        self.objective = objective
        self.direction = direction
        self.seed = seed
        self.n_startup_trials = n_startup_trials
        self.journal = journal
        self.hydra_context: HydraContext | None = None
        self.config: DictConfig | None = None
        self.launcher: Launcher | None = None

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        """The configured launcher; it and the batch check compose trials with
        `SharedCompositions`: in full once per process, not twice per trial (~70 ms each)."""
        from hydra.core.plugins import Plugins

        loader = SharedCompositions(hydra_context.config_loader)
        self.hydra_context = HydraContext(loader, hydra_context.callbacks)
        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=self.hydra_context, task_function=task_function, config=config
        )

    def open_study(self) -> optuna.Study:
        """The sweep's study, named by its id, from its journal (set aside if not resuming)."""
        assert self.config is not None
        config = self.config
        experiment = config.tracking.experiment
        sid = sweep_id(experiment, list(config.hydra.overrides.task), sweeper_params(config))
        path = journal_path(config.tracking.uri, sid, self.journal)
        if not config.sweep.resume and (kept := set_aside(path)):
            log.info("sweep.resume=false: the earlier study is kept in %s", kept)
        store = store_key(config.tracking.uri)
        study = open_study(path, sid, self.direction, self.objective, store)
        link_to_parent(study, experiment, os.environ.get(PARENT_ENV))
        if stale := reask_interrupted(study):
            log.warning("trials %s were interrupted: asking their params again", stale)
        done = len(evaluated(study))
        log.info("Optuna study %s in %s: %d of %d trials done", sid, path, done, self.n_trials)
        return study

    def sweep(self, arguments: list[str]) -> list[Sequence[JobReturn]]:
        """Ask a batch of trials, launch them as jobs, tell their outcomes; until n_trials."""
        assert self.config is not None
        dimensions, fixed = search_space(parse(self.params, arguments))
        if not dimensions:
            raise HydraException("the Optuna sweeper has nothing to search: hydra.sweeper.params")
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        study = self.open_study()
        space = {name: dim.distribution for name, dim in dimensions.items()}
        returns: list[Sequence[JobReturn]] = []
        launched = 0  # jobs launched by this process (Hydra's job numbers)
        while (done := len(evaluated(study))) < self.n_trials:
            count = min(self.n_jobs, self.n_trials - done)
            start = len(study.get_trials(deepcopy=False))  # the batch's first trial number
            study.sampler = make_sampler(self.seed, self.n_startup_trials, start)
            trials = [study.ask(space) for _ in range(count)]
            searched = [[dimensions[k].override(v) for k, v in t.params.items()] for t in trials]
            batch = [fixed + overrides for overrides in searched]
            returns.append(self.run_batch(study, trials, batch, searched, start=launched))
            launched += count
        counts = save_results(study, self.objective, sweep_dir / "optimization_results.yaml")
        if counts["fail"] == self.n_trials:
            raise HydraException(f"all {self.n_trials} trials failed: see the errors above")
        return returns

    def run_batch(
        self,
        study: optuna.Study,
        trials: Sequence[optuna.Trial],
        batch: list[list[str]],
        searched: list[list[str]],
        start: int,
    ) -> Sequence[JobReturn]:
        """Launch one batch of trials (jobs `start`, `start + 1`, ...) and tell their outcomes."""
        assert self.launcher is not None
        self.validate_batch_is_legal(batch)
        results = self.launcher.launch(batch, initial_job_idx=start)
        for trial, overrides, ret in zip(trials, searched, results, strict=True):
            state, value = trial_outcome(ret, self.objective)
            returned = ret.return_value if ret.status == JobStatus.COMPLETED else None
            record_job(trial, overrides, returned)
            study.tell(trial, value, state=state)
            shown = state.name if value is None else f"{self.objective}={value:.6g}"
            log.info("trial %d: %s (%s)", trial.number, shown, " ".join(overrides))
        return results
