"""A sweep's pre-flight check: every job of a grid composed and checked before any run exists.

All of scratchnet's use of Hydra's private API is here: the basic sweeper's job expansion and
the config loader's way of setting values after composing.
"""

import copy
import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from hydra._internal.config_loader_impl import ConfigLoaderImpl, get_overrides_dirname
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_loader import ConfigLoader
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from omegaconf import DictConfig, OmegaConf

from scratchnet.config import check_batch_size, load_data, run_name, validate_config
from scratchnet.config.messages import USAGE_ERRORS, one_line
from scratchnet.core.checks import check_length
from scratchnet.core.errors import ConfigError
from scratchnet.tracking.limits import check_record_limits
from scratchnet.tracking.names import MAX_RUN_NAME_LENGTH


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


def check_sweep(config: DictConfig) -> list[DictConfig] | None:
    """Compose and check every job of a grid sweep, before any run exists; returns the jobs'
    configs (None for a sweeper that chooses its jobs as it goes).

    Each job is composed as the launcher will compose it (Hydra's config loader with the job's
    overrides) and checked as `run.run` checks it (values, data, batch size against the data),
    so a bad value anywhere in the grid stops the sweep before its parent run is created.
    Other sweepers (e.g. Optuna) choose their jobs as they go: only the base config is checked.
    """
    hydra = GlobalHydra.instance().hydra if GlobalHydra.instance().is_initialized() else None
    sweeper = str(OmegaConf.select(config, "hydra.sweeper._target_", default=""))
    _CHECKED.clear()
    _CHECKED_BASES.clear()
    if hydra is None or not sweeper.endswith(GRID_SWEEPERS):
        check_job(config, {})
        return None
    found = OmegaConf.select(config, "hydra.sweeper.params")
    params = OmegaConf.to_container(found, resolve=False) if found is not None else {}
    overrides = list(config.hydra.overrides.task)
    jobs = grid_jobs(overrides, params)
    swept = {
        o.get_key_element() for o in sweep_arguments(overrides, params) if o.is_sweep_override()
    }
    train_sizes: dict[str, int] = {}
    composed: dict[tuple[str, ...], DictConfig] = {}
    configs = []
    for number, job_overrides in enumerate(jobs):
        try:
            job = compose_job(hydra.config_loader, config, job_overrides, composed)
            check_job(job, train_sizes)
            configs.append(job)
        except USAGE_ERRORS as err:
            varied = [o for o in job_overrides if o.split("=", 1)[0] in swept]
            raise ConfigError(
                f"{one_line(err)}; in sweep job #{number} of {len(jobs)}: {' '.join(varied)}"
            ) from None
    _CHECKED.update(tuple(job) for job in jobs)
    _CHECKED_BASES.update(config=config, bases=composed)
    return configs


_CHECKED: set[tuple[str, ...]] = set()  # the jobs this process's last check composed
_CHECKED_BASES: dict[str, Any] = {}  # its sweep's config and the compositions its jobs shared


def checked_bases(config: DictConfig) -> dict[tuple[str, ...], DictConfig]:
    """The compositions this process's pre-flight check of the sweep `config` shared
    (`compose_job`), for its jobs run here; empty for any other sweep's config."""
    return dict(_CHECKED_BASES["bases"]) if _CHECKED_BASES.get("config") is config else {}


def checked(batch: Sequence[Sequence[str]]) -> bool:
    """Whether the sweep's pre-flight check composed every job of `batch` (`check_sweep`)."""
    return bool(batch) and all(tuple(job) in _CHECKED for job in batch)


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
    task = [o for o in parsed if not o.is_hydra_override()]  # as Hydra records them
    named = job.hydra.job.config.override_dirname
    job.hydra.overrides.task = [o.input_line for o in task]
    job.hydra.job.override_dirname = get_overrides_dirname(
        overrides=task,
        kv_sep=named.kv_sep,
        item_sep=named.item_sep,
        exclude_keys=named.exclude_keys,
    )
    OmegaConf.copy_cache(from_config=config, to_config=job)
    return job


_SHARED: dict[str, dict[tuple[str, ...], DictConfig]] = {}  # per sweep: this process's bases


class SharedCompositions:
    """The launcher's config loader, composing each job with `compose_job`: in full once per
    group choice per process, so a warm worker composes a grid's job in milliseconds, not the
    ~70 ms of a full composition. Launchers pickle it with every job; `token` names the sweep,
    so a worker keeps one sweep's compositions across its jobs and never mixes two sweeps'.
    Jobs run in this process may start from the pre-flight check's (`checked_bases`).
    Everything else is the real loader's.
    """

    def __init__(
        self, loader: ConfigLoader, bases: dict[tuple[str, ...], DictConfig] | None = None
    ) -> None:
        self.loader = loader
        self.token = uuid.uuid4().hex
        _SHARED[self.token] = dict(bases or {})

    def load_sweep_config(self, master_config: DictConfig, sweep_overrides: list[str]):
        composed = _SHARED.setdefault(self.token, {})
        return compose_job(self.loader, master_config, sweep_overrides, composed)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("loader", "token"):  # unpickling: not yet set
            raise AttributeError(name)
        return getattr(self.loader, name)


def check_job(cfg: DictConfig, train_sizes: dict[str, int]) -> None:
    """`validate_config`, then the data and batch-size checks (each dataset loaded once)."""

    validate_config(cfg)
    if cfg.tracking.enabled:  # the server's store refuses longer names mid-sweep
        check_record_limits(cfg.tracking.experiment, run_name(cfg))
        check_length("study.name", cfg.study.name, MAX_RUN_NAME_LENGTH - len("sweep  01234567"))
    data_key = json.dumps(
        [OmegaConf.to_container(cfg.data, resolve=True), cfg.seed], sort_keys=True, default=str
    )
    if data_key not in train_sizes:
        train_sizes[data_key] = load_data(cfg).train_size
    check_batch_size(cfg.trainer.batch_size, train_sizes[data_key])
