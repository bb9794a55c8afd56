"""Bayesian hyperparameter search: a Hydra sweeper that asks Optuna (TPE) for each trial.

Trials are launched through the configured Hydra launcher, `n_jobs` at a time (joblib runs a
batch in parallel), so every trial is an ordinary sweep job: a child run of the sweep's MLflow
parent (`scratchnet.sweep.callback`). The search space is Hydra's sweep syntax in
`hydra.sweeper.params` (or on the command line): `tag(log, interval(0.01, 4))` is a float on a
log scale, `int(interval(10, 300))` an integer, `choice(16, 32)`, `16,32` or `range(...)` a
categorical; any other override is passed to every trial unchanged. A job that raises is told
to Optuna as FAIL, a diverged run as PRUNED (ranked below every completed trial); the sweep goes
on. Storage is in memory: a re-run replays the same seeded proposals, whose jobs the resume
logic skips as already FINISHED, and continues from there.

Hydra instantiates sweepers only from the `hydra_plugins` namespace: the class it finds is
`hydra_plugins.scratchnet_optuna_sweeper.OptunaSweeper`, which also registers the config
group option `hydra/sweeper=scratchnet_optuna`. Optuna is imported only when a sweep starts,
since Hydra imports every plugin at each start-up.
"""

from __future__ import annotations

import logging
import math
import os
import warnings
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


def make_study(direction: str, seed: int | None, n_startup_trials: int) -> optuna.Study:
    """An in-memory study with a seeded TPE sampler that treats running trials as bad."""
    import optuna

    with warnings.catch_warnings():  # constant_liar is experimental before optuna 5
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(
            seed=seed, n_startup_trials=n_startup_trials, constant_liar=True
        )
    return optuna.create_study(direction=direction, sampler=sampler)


class OptunaSweeper(Sweeper):
    """Hydra sweeper: `n_trials` Optuna trials, launched `n_jobs` at a time."""

    def __init__(
        self,
        params: Mapping[str, Any] | None = None,
        n_trials: int = 20,
        n_jobs: int = 1,
        objective: str = "val_acc",
        direction: str = "maximize",
        seed: int | None = 0,
        n_startup_trials: int = 10,
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
        self.hydra_context: HydraContext | None = None
        self.config: DictConfig | None = None
        self.launcher: Launcher | None = None

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        from hydra.core.plugins import Plugins

        self.hydra_context = hydra_context
        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def sweep(self, arguments: list[str]) -> list[Sequence[JobReturn]]:
        """Ask a batch of trials, launch them as jobs, tell their outcomes; until n_trials."""
        assert self.config is not None
        dimensions, fixed = search_space(parse(self.params, arguments))
        if not dimensions:
            raise HydraException("the Optuna sweeper has nothing to search: hydra.sweeper.params")
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        study = make_study(self.direction, self.seed, self.n_startup_trials)
        space = {name: dim.distribution for name, dim in dimensions.items()}
        returns: list[Sequence[JobReturn]] = []
        searched: dict[int, list[str]] = {}  # trial number -> its searched overrides
        while len(searched) < self.n_trials:
            count = min(self.n_jobs, self.n_trials - len(searched))
            trials = [study.ask(space) for _ in range(count)]
            for trial in trials:
                searched[trial.number] = [
                    dimensions[k].override(v) for k, v in trial.params.items()
                ]
            batch = [fixed + searched[trial.number] for trial in trials]
            returns.append(self.run_batch(study, trials, batch, start=len(searched) - count))
        results = sweep_dir / "optimization_results.yaml"
        counts = save_results(study, searched, self.objective, results)
        if counts["fail"] == self.n_trials:
            raise HydraException(f"all {self.n_trials} trials failed: see the errors above")
        return returns

    def run_batch(
        self,
        study: optuna.Study,
        trials: Sequence[optuna.Trial],
        batch: list[list[str]],
        start: int,
    ) -> Sequence[JobReturn]:
        """Launch one batch of trials (jobs `start`, `start + 1`, ...) and tell their outcomes."""
        assert self.launcher is not None
        self.validate_batch_is_legal(batch)
        results = self.launcher.launch(batch, initial_job_idx=start)
        for trial, overrides, ret in zip(trials, batch, results, strict=True):
            state, value = trial_outcome(ret, self.objective)
            study.tell(trial, value, state=state)
            shown = state.name if value is None else f"{self.objective}={value:.6g}"
            searched = " ".join(overrides[-len(trial.params) :])  # fixed overrides come first
            log.info("trial %d: %s (%s)", trial.number, shown, searched)
        return results


def save_results(
    study: optuna.Study, searched: Mapping[int, list[str]], objective: str, path: Path
) -> dict[str, int]:
    """Log the best trial, write the outcome next to multirun.yaml; trials by state."""
    from optuna.trial import TrialState

    states = [s for s in TrialState if s.is_finished()]
    counts = {s.name.lower(): len(study.get_trials(deepcopy=False, states=(s,))) for s in states}
    results: dict[str, Any] = {"objective": objective, "direction": study.direction.name.lower()}
    results |= counts
    if counts["complete"]:
        best = study.best_trial
        results |= {"best_trial": best.number, "best_value": best.value}
        results["best_overrides"] = searched[best.number]
        log.info(
            "best trial %d: %s=%.6g with %s",
            best.number,
            objective,
            best.value,
            " ".join(searched[best.number]),
        )
    else:
        log.warning("no trial completed: %s", counts)
    OmegaConf.save(OmegaConf.create(results), path)
    return counts
