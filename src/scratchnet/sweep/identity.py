"""What defines a sweep: its defining overrides, its stable id, and the grid it really runs.

A sweep is identified by its definition (experiment, defining overrides, the sweeper's
params), not its start time, so re-running the same command resumes it. What it *runs* is
the sweeper's params with the command line laid over them, key by key, as Hydra's basic
sweeper merges them (`BasicSweeper.split_arguments`: a later override of a key replaces the
earlier one, so the command line wins): `effective_params` and `grid_size` are that merge.
"""

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from omegaconf import DictConfig, OmegaConf

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


def merged(overrides: Sequence[str], sweeper_params: Mapping[str, Any]) -> dict[str, Override]:
    """Key -> the override that holds for it: the sweeper's params, then the command line's
    overrides, the later one of a key replacing the earlier (Hydra's basic sweeper's merge)."""
    args = [f"{k}={v}" for k, v in sweeper_params.items()]
    args += [o for o in overrides if not o.startswith("hydra")]
    final: dict[str, Override] = {}
    for parsed in OverridesParser.create().parse_overrides(args):
        final[parsed.get_key_element()] = parsed
    return final


def effective_params(overrides: Sequence[str], sweeper_params: Mapping[str, Any]) -> dict[str, str]:
    """The search space that runs: every key of the sweeper's params (with the command line's
    value where the command line sets that key too) and every key the command line sweeps."""
    final = merged(overrides, sweeper_params)
    keys = set(sweeper_params) | {k for k, o in final.items() if o.is_sweep_override()}
    return {k: value_text(final[k]) for k in sorted(keys) if k in final}


def value_text(override: Override) -> str:
    """An override's value as written (`0,1,2`, `tag(log, interval(0.01, 4))`)."""
    return override.input_line.split("=", 1)[1] if override.input_line else ""


def grid_size(overrides: Sequence[str], sweeper_params: Mapping[str, Any]) -> int | None:
    """How many jobs a grid sweep makes (product over keys of their values, after the merge);
    None when a key is searched over an interval (not a grid)."""
    sizes = []
    for parsed in merged(overrides, sweeper_params).values():
        if parsed.is_sweep_override():
            if not parsed.is_discrete_sweep():
                return None
            sizes.append(len(list(parsed.sweep_string_iterator())))
    return math.prod(sizes)


def sweeper_params(config: DictConfig) -> dict[str, Any]:
    """The sweeper's own search space (`hydra.sweeper.params`), unresolved; {} when none."""
    found = OmegaConf.select(config, "hydra.sweeper.params")
    params = OmegaConf.to_container(found, resolve=False) if found is not None else {}
    assert isinstance(params, dict)
    return {str(k): v for k, v in params.items()}
