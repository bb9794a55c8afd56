"""Which of a sweep's runs count: one attempt per configuration, the others superseded.

A sweep interrupted and resumed leaves the interrupted attempt of a configuration (KILLED, or
FAILED when its worker died) next to the attempt that later finished it. Runs are attempts of
the same configuration when they share a config hash (tag `scratchnet.config_hash`). Of each
configuration's attempts the *current* one is the newest FINISHED, else the newest of any
status; every other attempt is *superseded*: listed apart by the report, counted by no table,
figure or summary. Pure Python (no MLflow): the sweep's summary and the runs frame both use it.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from scratchnet.tracking.names import FINISHED


@dataclass(frozen=True)
class Attempt:
    """What the rule reads of a run."""

    run_id: str
    config_hash: str | None
    status: str
    start_time: int | None


def _rank(a: Attempt) -> tuple[bool, int, str]:
    """Higher is more current: FINISHED first, then the newest start, then the run id."""
    return (a.status == FINISHED, a.start_time or 0, a.run_id)


def superseded(attempts: Iterable[Attempt]) -> dict[str, str]:
    """Run id of every superseded attempt -> the run id of its configuration's current one.

    Runs without a config hash are each their own configuration.
    """
    groups: dict[str, list[Attempt]] = {}
    for a in attempts:
        groups.setdefault(a.config_hash or f"run:{a.run_id}", []).append(a)
    out: dict[str, str] = {}
    for group in groups.values():
        current = max(group, key=_rank)
        out |= {a.run_id: current.run_id for a in group if a.run_id != current.run_id}
    return out
