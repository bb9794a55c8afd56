"""What defines a sweep: its defining overrides, its stable id and its grid size.

A sweep is identified by its definition (experiment, defining overrides, the sweeper's
params), not its start time, so re-running the same command resumes it.
"""

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
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


def sweeper_params(config: DictConfig) -> dict[str, Any]:
    """The sweeper's own search space (`hydra.sweeper.params`), unresolved; {} when none."""
    found = OmegaConf.select(config, "hydra.sweeper.params")
    params = OmegaConf.to_container(found, resolve=False) if found is not None else {}
    assert isinstance(params, dict)
    return {str(k): v for k, v in params.items()}
